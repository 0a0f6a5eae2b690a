"""Built-in data sets generated on the spot (seeded, no download) for seed 001's sequence, speech and text CNNs.

- `waves`: 1 x 128 sequences of four classes: sine, square, sawtooth and noise, each of random amplitude,
  frequency (4 to 16 cycles per sequence) and phase, with a little white noise on top.
- `spectrograms`: the same waves through a short-time Fourier transform (32-sample Hann window, hop 8): the
  log magnitude as a 1 x 17 x 13 image, frequency (rows, low first) by time (columns).
- `sentences`: short sentences about four topics (sport, weather, food, computers) from a small grammar, as
  token ids padded to 16 (id 0 is padding, 1 an unknown word); `vocabulary()` maps words to ids, and
  `encode_text` takes any text through it (for `netdsl predict` on a .txt file).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

WAVE_CLASSES = ("sine", "square", "sawtooth", "noise")
WAVE_LENGTH = 128
WAVE_SAMPLES = 2000  # 500 of each class
STFT_WINDOW = 32
STFT_HOP = 8
SENTENCE_LENGTH = 16
SENTENCE_SAMPLES = 2000
PAD, UNKNOWN = "<pad>", "<unk>"

TOPICS = ("sport", "weather", "food", "computers")
# Each topic's own words by part of speech; sentences mix them with shared words, so that no single word
# decides the topic every time (every topic also borrows one word from another now and then).
TOPIC_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "sport": {
        "noun": ("team", "match", "goal", "coach", "player", "season", "ball", "league"),
        "verb": ("won", "lost", "scored", "played", "trained", "kicked"),
        "adj": ("fast", "tired", "strong", "winning", "home", "final"),
    },
    "weather": {
        "noun": ("rain", "storm", "sun", "wind", "cloud", "snow", "forecast", "sky"),
        "verb": ("fell", "blew", "cleared", "poured", "froze", "warmed"),
        "adj": ("cold", "wet", "sunny", "windy", "grey", "mild"),
    },
    "food": {
        "noun": ("soup", "bread", "cheese", "cake", "dinner", "recipe", "kitchen", "pasta"),
        "verb": ("cooked", "baked", "tasted", "ate", "served", "burned"),
        "adj": ("sweet", "salty", "fresh", "spicy", "warm", "tasty"),
    },
    "computers": {
        "noun": ("laptop", "program", "screen", "server", "keyboard", "network", "file", "bug"),
        "verb": ("crashed", "compiled", "booted", "loaded", "updated", "froze"),
        "adj": ("slow", "new", "broken", "fast", "remote", "digital"),
    },
}
SHARED = {
    "det": ("the", "a", "our", "their", "this"),
    "adv": ("today", "again", "yesterday", "quickly", "all day"),
    "subject": ("we", "they", "everyone", "my friend", "the children"),
    "filler": ("really", "very", "quite", "so", "just"),
}
TEMPLATES = (
    "det adj noun verb adv",
    "subject verb det adj noun",
    "det noun verb filler adj",
    "subject said det noun was filler adj",
    "det noun and det noun verb adv",
    "filler adj noun adv",
)


def _wave(kind: str, rng: np.random.Generator, length: int) -> np.ndarray:
    """One wave of `kind`, amplitude 0.5 to 1, random frequency and phase, plus white noise of 0.1."""
    t = np.arange(length) / length
    cycles, phase, amplitude = rng.uniform(4, 16), rng.uniform(0, 1), rng.uniform(0.5, 1.0)
    position = (cycles * t + phase) % 1.0
    if kind == "sine":
        wave = np.sin(2 * np.pi * position)
    elif kind == "square":
        wave = np.where(position < 0.5, 1.0, -1.0)
    elif kind == "sawtooth":
        wave = 2 * position - 1
    else:
        wave = rng.normal(0, 0.6, length)
    return amplitude * wave + rng.normal(0, 0.1, length)


def waves(samples: int = WAVE_SAMPLES, length: int = WAVE_LENGTH, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(x, y): x float32 (samples, 1, length), y the class ids of WAVE_CLASSES, classes in turn."""
    rng = np.random.default_rng(seed)
    y = np.arange(samples) % len(WAVE_CLASSES)
    x = np.stack([_wave(WAVE_CLASSES[k], rng, length) for k in y])[:, None, :]
    return x.astype(np.float32), y.astype(np.int64)


def stft_magnitude(signal: np.ndarray, window: int = STFT_WINDOW, hop: int = STFT_HOP) -> np.ndarray:
    """|STFT| of a 1-D signal with a Hann window: frequency bins (0 .. window/2) x frames."""
    frames = np.lib.stride_tricks.sliding_window_view(signal, window)[::hop]
    return np.abs(np.fft.rfft(frames * np.hanning(window), axis=1)).T


def spectrograms(samples: int = WAVE_SAMPLES, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(x, y): the waves' log(1 + |STFT|) as float32 (samples, 1, 17, 13), y as for `waves`."""
    signals, y = waves(samples, WAVE_LENGTH, seed)
    x = np.stack([np.log1p(stft_magnitude(s[0].astype(np.float64))) for s in signals])[:, None]
    return x.astype(np.float32), y


def vocabulary() -> tuple[str, ...]:
    """Every word of the sentences, id order: padding, unknown, then the words sorted."""
    words = {
        w for parts in TOPIC_WORDS.values() for group in parts.values() for phrase in group for w in phrase.split()
    }
    words |= {w for group in SHARED.values() for phrase in group for w in phrase.split()}
    words |= {
        w for template in TEMPLATES for w in template.split() if w not in SHARED and w not in ("noun", "verb", "adj")
    }
    return (PAD, UNKNOWN, *sorted(words))


def _sentence(topic: str, rng: np.random.Generator) -> str:
    """One sentence of `topic` from a random template; a content word comes from another topic one time in six."""
    words = []
    for slot in TEMPLATES[rng.integers(len(TEMPLATES))].split():
        if slot in SHARED:
            words.append(SHARED[slot][rng.integers(len(SHARED[slot]))])
        elif slot in ("noun", "verb", "adj"):
            source = TOPICS[rng.integers(len(TOPICS))] if rng.random() < 1 / 6 else topic
            choices = TOPIC_WORDS[source][slot]
            words.append(choices[rng.integers(len(choices))])
        else:
            words.append(slot)
    return " ".join(words)


def encode_text(text: str, length: int = SENTENCE_LENGTH, words: tuple[str, ...] | None = None) -> np.ndarray:
    """A sentence as `length` token ids: lower-cased words through the vocabulary (unknown ones as 1), cut or
    padded with 0 at the end."""
    index = {word: i for i, word in enumerate(words or vocabulary())}
    ids = [index.get(word, 1) for word in re.findall(r"[a-z0-9']+", text.lower())][:length]
    return np.array(ids + [0] * (length - len(ids)), dtype=np.int64)


def sentences(samples: int = SENTENCE_SAMPLES, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(x, y, texts): x int64 (samples, 16) token ids, y the topic ids of TOPICS (in turn), and the sentences."""
    rng = np.random.default_rng(seed)
    words = vocabulary()
    y = np.arange(samples) % len(TOPICS)
    texts = [_sentence(TOPICS[k], rng) for k in y]
    x = np.stack([encode_text(text, SENTENCE_LENGTH, words) for text in texts])
    return x, y.astype(np.int64), texts


MAX_TEXT_BYTES = 1 << 20  # a text file for predict: at most 1 MiB


def read_text_file(path: str | Path, length: int, data: str) -> tuple[np.ndarray, list[str]]:
    """Each non-blank line of a UTF-8 text file as `length` token ids through the vocabulary of the built-in
    text set `data` (only `sentences` has one), with a notice of the unknown words; DataError otherwise."""
    from netdsl.data import DataError

    if data != "sentences":
        raise DataError(
            f"{path}: a text file needs a network trained on a built-in text set (data = sentences); "
            f"this one trains on {data}: give token ids as .npy"
        )
    file = Path(path)
    try:
        if file.stat().st_size > MAX_TEXT_BYTES:
            raise DataError(f"{file}: a text file over 1 MiB; give one sentence per line")
        lines = [line for line in file.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    except FileNotFoundError:
        raise DataError(f"{file}: no such file") from None
    except UnicodeDecodeError:
        raise DataError(f"{file}: not a UTF-8 text file (one sentence per line)") from None
    except OSError as err:
        raise DataError(f"{file}: cannot read ({err.strerror or err})") from None
    if not lines:
        raise DataError(f"{file}: no sentences (expected one per line)")
    words = vocabulary()
    known = set(words)
    unknown = sorted({w for line in lines for w in re.findall(r"[a-z0-9']+", line.lower()) if w not in known})
    notes = (
        [
            f"{file}: {len(unknown)} word(s) not in the sentences vocabulary, read as <unk>: "
            f"{', '.join(unknown[:10])}{' ...' if len(unknown) > 10 else ''}"
        ]
        if unknown
        else []
    )
    return np.stack([encode_text(line, length, words) for line in lines]), notes

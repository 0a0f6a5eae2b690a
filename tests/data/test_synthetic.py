"""The generated built-in sets: waves, spectrograms and sentences (seeded, no download)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from netdsl.data import DataError, load_dataset, synthetic
from netdsl.data.classes import BUILTIN_CLASSES


def _peak_share(signal: np.ndarray) -> float:
    """The share of a signal's energy (its mean removed) in its strongest frequency bin."""
    power = np.abs(np.fft.rfft(signal - signal.mean())) ** 2
    return float(power.max() / power.sum())


def test_waves_are_seeded_balanced_and_shaped() -> None:
    x, y = synthetic.waves(40)
    again, _ = synthetic.waves(40)
    other, _ = synthetic.waves(40, seed=1)
    assert x.shape == (40, 1, 128) and x.dtype == np.float32 and np.array_equal(x, again)
    assert not np.array_equal(x, other)
    assert np.bincount(y).tolist() == [10, 10, 10, 10]


def test_each_kind_of_wave_has_its_own_spectrum() -> None:
    x, y = synthetic.waves(200)
    share = {name: np.mean([_peak_share(s[0]) for s in x[y == k]]) for k, name in enumerate(synthetic.WAVE_CLASSES)}
    assert share["sine"] > 0.6  # one frequency
    assert share["noise"] < 0.1  # flat
    assert share["noise"] < share["sawtooth"] < share["sine"] and share["square"] < share["sine"]  # harmonics
    flatness = [
        np.mean(np.abs(x[y == k, 0]).mean(axis=1) / np.percentile(np.abs(x[y == k, 0]), 95, axis=1)) for k in range(2)
    ]  # a square wave sits at its two levels; a sine only passes through them
    assert flatness[1] > flatness[0] + 0.1


def test_stft_of_a_sine_peaks_at_its_frequency() -> None:
    frequency = 0.25  # cycles per sample: bin 0.25 * 32 = 8 of a 32-sample window
    magnitude = synthetic.stft_magnitude(np.sin(2 * np.pi * frequency * np.arange(128)))
    assert magnitude.shape == (17, 13)
    assert (magnitude.argmax(axis=0) == 8).all()


def test_spectrograms_are_the_waves_transformed() -> None:
    x, y = synthetic.spectrograms(8)
    waves, labels = synthetic.waves(8)
    assert x.shape == (8, 1, 17, 13) and np.array_equal(y, labels)
    assert np.allclose(x[3, 0], np.log1p(synthetic.stft_magnitude(waves[3, 0].astype(np.float64))), atol=1e-6)


def test_sentences_are_token_ids_of_their_topic() -> None:
    x, y, texts = synthetic.sentences(80)
    words = synthetic.vocabulary()
    assert x.shape == (80, synthetic.SENTENCE_LENGTH) and x.max() < len(words) and x.min() >= 0
    assert words[:2] == ("<pad>", "<unk>") and 1 not in x  # every generated word is in the vocabulary
    assert np.array_equal(x, synthetic.sentences(80)[0])
    own = [set(w for group in synthetic.TOPIC_WORDS[synthetic.TOPICS[k]].values() for w in group) for k in y]
    assert np.mean([bool(set(text.split()) & topic) for text, topic in zip(texts, own)]) > 0.95
    decoded = " ".join(words[i] for i in x[0] if i)
    assert decoded == texts[0]


def test_encode_text_pads_cuts_and_marks_unknown_words() -> None:
    words = synthetic.vocabulary()
    ids = synthetic.encode_text("The ZEBRA scored!", 5)
    assert ids.tolist() == [words.index("the"), 1, words.index("scored"), 0, 0]
    assert synthetic.encode_text("the " * 40, 4).tolist() == [words.index("the")] * 4


@pytest.mark.parametrize(
    "name, shape, tokens", [("waves", (1, 128), None), ("spectrograms", (1, 17, 13), None), ("sentences", (16,), 105)]
)
def test_load_dataset_splits_the_generated_sets(name: str, shape: tuple, tokens: int | None) -> None:
    data = load_dataset(name, shape, tokens=tokens)
    assert data.x_train.shape == (1800, *shape) and data.x_val.shape == (200, *shape)
    assert data.num_classes == 4 and len(BUILTIN_CLASSES[name]) == 4


def test_a_token_network_with_too_small_a_vocabulary_is_told_which_sample() -> None:
    with pytest.raises(DataError, match="sample 0 has token id"):
        load_dataset("sentences", (16,), tokens=10)


def test_read_text_file_for_predict(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_text("the team scored a goal\n\n  my laptop crashed  \nthe zebra danced\n")
    x, notes = synthetic.read_text_file(path, 16, "sentences")
    assert x.shape == (3, 16) and x[2].tolist()[:3] == [synthetic.vocabulary().index("the"), 1, 1]
    assert notes == [f"{path}: 2 word(s) not in the sentences vocabulary, read as <unk>: danced, zebra"]
    with pytest.raises(DataError, match="needs a network trained on a built-in text set"):
        synthetic.read_text_file(path, 16, "digits")
    (tmp_path / "empty.txt").write_text("\n \n")
    with pytest.raises(DataError, match="no sentences"):
        synthetic.read_text_file(tmp_path / "empty.txt", 16, "sentences")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DataError, match="not a UTF-8 text file"):
        synthetic.read_text_file(tmp_path / "bad.txt", 16, "sentences")

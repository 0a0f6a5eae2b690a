"""`netdsl dream`: the input that most excites a filter, or Deep Dream on a real image (netdsl/draw/dream.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from netdsl.cli import InputError, load_program, positive
from netdsl.cli.draw import FIGURE_FORMATS, _layer, _one_line, _sample, _write, output_path


def cmd_dream(args: argparse.Namespace) -> int:
    from netdsl.backends.numpy.weights import WeightsError
    from netdsl.draw import dream

    model = load_program(args)
    try:
        dream.check_image_network(model)
    except dream.DreamError as err:
        raise InputError(str(err)) from None
    node = _layer(model, args.layer)
    out = output_path(args.output or f"dream_{node.name.replace('.', '_')}.png", FIGURE_FORMATS)
    try:
        model.load_weights(args.weights)
    except WeightsError as err:
        raise InputError(_one_line(err)) from None
    settings = dream.Ascent(seed=args.seed)
    try:
        images, labels, title = _dream_images(model, node.name, args, settings)
    except dream.DreamError as err:
        raise InputError(str(err)) from None
    _write(out, lambda handle: dream.save_grid(images, labels, title, handle, out.suffix[1:].lower()))
    return 0


def _dream_images(model, layer: str, args: argparse.Namespace, settings):
    """The pictures, their labels and the figure's title for the flags given."""
    from dataclasses import replace

    from netdsl.draw import dream

    if args.input is not None:
        image = _sample(model, args.input).astype("float64")
        dreamt = dream.deep_dream(
            model,
            layer,
            image,
            args.octaves,
            replace(dream.DREAM, steps=args.steps or dream.DREAM.steps, seed=args.seed),
        )
        labels = [Path(args.input).name, f"dream ({args.octaves} octaves)"]
        return [image[0], dreamt], labels, f"{model.name}: Deep Dream of {layer}"
    settings = replace(settings, steps=args.steps or 120)
    if args.filter is not None:
        filters = [args.filter]
    else:
        count = dream.channels_of(model, layer)
        filters = list(range(min(count, dream.MAX_FILTERS)))
        if count > dream.MAX_FILTERS:
            print(f"layer {layer} has {count} filters; drawing the first {dream.MAX_FILTERS} (--filter K for another)")
    images = [dream.visualize_filter(model, layer, k, settings) for k in filters]
    return images, [f"filter {k}" for k in filters], f"{model.name}: what the filters of {layer} see"


def _filter_index(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a filter number (0, 1, ...), got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"filters are numbered from 0, got {value}")
    return value


def dream_arguments(dream: argparse.ArgumentParser) -> None:
    dream.add_argument("file", metavar="FILE", help=".net program (an image network)")
    dream.add_argument("--network", help="which network of the file (default: the first)")
    dream.add_argument("--weights", required=True, metavar="W", help="weights .npz from netdsl train")
    dream.add_argument("--layer", metavar="NAME", help="the layer whose filters to excite (default: the first conv)")
    dream.add_argument(
        "--filter",
        type=_filter_index,
        metavar="K",
        help="one filter (default: a grid of every filter of the layer, 64 at most)",
    )
    dream.add_argument(
        "--input",
        metavar="X",
        help="Deep Dream: amplify the layer's activations on this image or x.npy (its first sample)",
    )
    dream.add_argument(
        "--octaves",
        type=positive(int),
        default=3,
        metavar="N",
        help="Deep Dream: passes over 2^(N-1) ... 1 pixel blocks, coarse first (default 3)",
    )
    dream.add_argument(
        "--steps", type=positive(int), metavar="N", help="gradient-ascent steps (default 120 per filter, 10 per octave)"
    )
    dream.add_argument("--seed", type=int, default=0, help="seed of the starting noise and the jitter (default 0)")
    dream.add_argument("-o", "--output", metavar="OUT", help="out.png (or .pdf, .svg; default dream_<layer>.png)")
    dream.set_defaults(func=cmd_dream)

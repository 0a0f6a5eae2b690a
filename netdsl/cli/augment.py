"""`netdsl augment FILE`: a grid of training samples as the train section's augmentation shows them to the net."""

from __future__ import annotations

import argparse
from pathlib import Path

from netdsl.cli import InputError, UsageError, load_program, positive

MAX_CELLS = 400  # rows x columns of the grid: enough to see, bounded in time and memory


def _samples(model, args: argparse.Namespace):
    from netdsl.data import DataError, load_dataset

    config = model.train_config
    try:
        data = load_dataset(
            args.data or config.data,
            model.input_shape,
            data_dir=args.data_dir,
            val_split=config.val_split,
            seed=config.seed,
            progress=print,
        )
    except DataError as err:
        raise InputError(str(err)) from None
    for notice in data.notices:
        print(notice)
    return data.x_train[: args.samples], data.y_train[: args.samples], data.name


def _as_picture(sample):
    """One sample as an image matplotlib shows: (H, W) gray or (H, W, 3) colour, clipped to [0, 1]."""
    import numpy as np

    from netdsl.train.augment import as_images

    image = as_images(sample[None])[0]
    picture = image[0] if image.shape[0] != 3 else np.moveaxis(image, 0, 2)
    return np.clip(picture, 0.0, 1.0)


def draw_grid(originals, labels, augmenter, names, title: str, path: Path, variants: int) -> None:
    """Each row: a sample, then `variants` augmentations of it; written atomically as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from netdsl.data.classes import label
    from netdsl.fileio import atomic_write

    rows, cols = len(originals), variants + 1
    augmented = augmenter(np.repeat(originals, variants, axis=0)).reshape(rows, variants, *originals.shape[1:])
    figure, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.3 * rows + 0.6), squeeze=False)
    for r in range(rows):
        for c in range(cols):
            picture = _as_picture(originals[r] if c == 0 else augmented[r, c - 1])
            axes[r, c].imshow(
                picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest"
            )
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(label(int(labels[r]), names), fontsize=8)
    axes[0, 0].set_title("original", fontsize=8)
    for c in range(1, cols):
        axes[0, c].set_title(f"augmented {c}", fontsize=8)
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    try:
        atomic_write(path, lambda handle: figure.savefig(handle, format="png", dpi=100))
    except OSError as err:
        raise InputError(f"{path}: cannot write: {err.strerror or err}") from None
    finally:
        plt.close(figure)


def cmd_augment(args: argparse.Namespace) -> int:
    try:
        import matplotlib  # noqa: F401
    except ModuleNotFoundError:
        raise InputError(
            "netdsl augment draws with matplotlib, which is not installed: pip install matplotlib"
        ) from None
    from netdsl.data import DataError
    from netdsl.data.classes import class_names
    from netdsl.train.augment import Augmenter, image_input

    model = load_program(args)
    config = model.train_config
    if not config.augment:
        raise InputError(
            f"{args.file}: the train section of {model.name} has no augment setting; "
            "add one such as augment = (flip, crop(4))"
        )
    if not image_input(tuple(model.input_shape)):
        raise InputError(f"augment needs an image input; network {model.name} takes {tuple(model.input_shape)}")
    if args.samples * (args.variants + 1) > MAX_CELLS:
        raise UsageError(f"--samples {args.samples} x (--variants {args.variants} + 1) is over {MAX_CELLS} pictures")
    originals, labels, data_name = _samples(model, args)
    try:
        names = class_names(config.classes, args.data or config.data, model.compilation.file)
    except DataError:
        names = None  # the picture is still worth drawing without names
    augmenter = Augmenter(config.augment, args.seed if args.seed is not None else config.seed)
    out = Path(args.output or f"{model.name}_augment.png")
    title = f"{model.name} on {data_name}: augment = ({', '.join(str(t) for t in config.augment)})"
    draw_grid(originals, labels, augmenter, names, title, out, args.variants)
    print(f"wrote {out}: {len(originals)} samples, {args.variants} augmentations each")
    return 0


def augment_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help=".net program with augment in its train section")
    parser.add_argument("--network", help="which network of the file (default: the first)")
    parser.add_argument("-o", "--output", metavar="GRID.png", help="where to write (default: <network>_augment.png)")
    parser.add_argument("--data", help="data set to draw from (default: the train section's)")
    parser.add_argument("--data-dir", help="cache directory of the built-in data sets (default ~/.cache/netdsl)")
    parser.add_argument("--samples", type=positive(int), default=6, help="rows: training samples shown (6)")
    parser.add_argument("--variants", type=positive(int), default=7, help="augmentations of each sample (7)")
    parser.add_argument("--seed", type=int, help="the augmentation's seed (default: the train section's)")
    parser.set_defaults(func=cmd_augment)

"""`netdsl train`, `evaluate` and `predict`: the NumPy backend from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from netdsl.cli import InputError, UsageError, load_program, positive
from netdsl.frontend.train_spec import LOSSES, OPTIMIZERS


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _dataset(spec: str, model, args: argparse.Namespace, val_split: float, seed: int):
    from netdsl.data import DataError, load_dataset

    try:
        data = load_dataset(spec, model.input_shape, data_dir=args.data_dir, val_split=val_split, seed=seed,
                            progress=print)
    except DataError as err:
        raise InputError(str(err)) from None
    for notice in data.notices:
        print(notice)
    return data


def _check_labels(model, loss: str, num_classes: int, name: str) -> None:
    units = model.output_shape[0] if len(model.output_shape) == 1 else None
    if loss == "cross_entropy" and units is not None and num_classes > units:
        raise InputError(f"{name} has {num_classes} classes but network {model.name} outputs {units} values; "
                         f"end it with output({num_classes})")


def cmd_train(args: argparse.Namespace) -> int:
    from netdsl.backends.numpy.executor import Executor
    from netdsl.backends.numpy.weights import WeightsError
    from netdsl.train import Interrupted, Trainer, TrainingError

    model = load_program(args)
    config = model.train_config.override(data=args.data, epochs=args.epochs, batch=args.batch, lr=args.lr,
                                         optimizer=args.optimizer, seed=args.seed, val_split=args.val_split,
                                         loss=args.loss)
    out_dir = Path(args.resume or args.out or Path("runs") / model.name)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: exists and is not a directory")
    data = _dataset(config.data, model, args, config.val_split, config.seed)
    _check_labels(model, config.loss, data.num_classes, data.name)
    _class_names(model, config, data.num_classes)
    print(f"training {model.name} on {data.name}: {len(data.x_train)} samples, {len(data.x_val)} for validation; "
          f"{config.optimizer} lr {config.lr:g}, batch {config.batch}, {config.epochs} epochs")
    executor = Executor(model.graph)
    if not args.resume:  # a resumed run takes every tensor from its checkpoint
        executor.init_params(config.seed)
    trainer = Trainer(executor, config, out_dir=out_dir, program=model.source, verbose=0 if args.quiet else 1)
    try:
        if args.resume:
            trainer.resume(out_dir)
            print(f"resuming {out_dir} at epoch {trainer.progress.epoch + 1}, step {trainer.progress.step}")
        trainer.fit(data.x_train, data.y_train, (data.x_val, data.y_val))
    except Interrupted as stop:
        print(f"netdsl: {stop}; continue with: netdsl train {args.file} --resume {out_dir}")
        return 130
    except (TrainingError, WeightsError) as err:
        raise InputError(str(err)) from None
    print(f"saved {out_dir / 'weights.npz'}, {out_dir / 'history.csv'}")
    return 0


def _model_with_weights(args: argparse.Namespace):
    from netdsl.backends.numpy.weights import WeightsError

    model = load_program(args)
    try:
        model.load_weights(args.weights)
    except WeightsError as err:
        raise InputError(str(err)) from None
    return model


def cmd_evaluate(args: argparse.Namespace) -> int:
    from netdsl.data import DataError, load_arrays

    model = _model_with_weights(args)
    config = model.train_config
    spec = args.data or config.data
    try:
        arrays = load_arrays(spec, model.input_shape, data_dir=args.data_dir, val_split=config.val_split,
                             seed=config.seed, progress=print, split=args.split)
    except DataError as err:
        raise InputError(str(err)) from None
    for notice in arrays.notices:
        print(notice)
    _check_labels(model, config.loss, arrays.num_classes, arrays.name)
    loss, accuracy = model.evaluate(arrays.x, arrays.y, batch_size=args.batch)
    print(f"{arrays.name} ({args.split}): {len(arrays.x)} samples  loss {loss:.4f}  accuracy {accuracy:.4f}")
    if args.show:
        _show_predictions(model, arrays, spec, args.show)
    return 0


def _show_predictions(model, arrays, spec: str, count: int) -> None:
    """The first samples' predicted classes by name; a wrong one is marked * and followed by the true class."""
    from dataclasses import replace

    from netdsl.data.classes import label

    names = _class_names(model, replace(model.train_config, data=spec))
    predicted = model.predict(arrays.x[:count]).reshape(min(count, len(arrays.x)), -1).argmax(axis=1)
    for index, (guess, truth) in enumerate(zip(predicted.tolist(), arrays.y[:count].tolist())):
        wrong = f"  (is {label(truth, names)})" if guess != truth else ""
        print(f"sample {index}: {'*' if wrong else ''}{label(guess, names)}{wrong}")


def cmd_predict(args: argparse.Namespace) -> int:
    from netdsl.data.classes import label
    from netdsl.inputs import InputFileError, as_batch, read_input, top_k

    model = _model_with_weights(args)
    try:
        x, notes = read_input(args.input, tuple(model.input_shape))
        x = as_batch(x, tuple(model.input_shape), args.input)
    except InputFileError as err:
        raise InputError(str(err)) from None
    for note in notes:
        print(note)
    outputs = model.predict(x)
    names = _class_names(model, model.train_config)
    for index, best in enumerate(top_k(outputs, args.top)):
        ranked = ", ".join(f"{label(cls, names)} ({score:.4f})" for cls, score in best)
        print(f"sample {index}: {ranked}")
    return 0


def _class_names(model, config, num_classes: int | None = None) -> tuple[str, ...] | None:
    """The train section's class names (checked against the data's class count when it is known)."""
    from netdsl.data import DataError
    from netdsl.data.classes import class_names

    try:
        names = class_names(config.classes, config.data, model.compilation.file)
    except DataError as err:
        raise InputError(str(err)) from None
    if names is not None and num_classes is not None and len(names) < num_classes:
        raise InputError(f"the train section's classes name {len(names)} classes, but the data has {num_classes}")
    return names


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help=".net program")
    parser.add_argument("--network", help="which network of the file (default: the first)")
    parser.add_argument("--data-dir", help="cache directory of the built-in data sets (default ~/.cache/netdsl)")


def register(sub) -> None:
    train = sub.add_parser("train", help="train a network with the NumPy backend")
    _common(train)
    train.add_argument("--data", help="digits, mnist, fashion_mnist, cifar10, FILE.npz or FILE.csv")
    train.add_argument("--epochs", type=positive(int))
    train.add_argument("--batch", type=positive(int))
    train.add_argument("--lr", type=positive(float), help="learning rate")
    train.add_argument("--optimizer", choices=sorted(OPTIMIZERS))
    train.add_argument("--loss", choices=LOSSES)
    train.add_argument("--seed", type=int)
    train.add_argument("--val-split", type=_share, help="share of the data held out (default 0.1)")
    train.add_argument("--out", metavar="DIR", help="where weights, history and checkpoints go (runs/<network>)")
    train.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR")
    train.add_argument("--quiet", action="store_true", help="no per-epoch output")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="loss and accuracy of trained weights on a data set")
    _common(evaluate)
    evaluate.add_argument("--weights", required=True, metavar="W", help="weights .npz from netdsl train")
    evaluate.add_argument("--data", help="data set (default: the program's train section)")
    evaluate.add_argument("--batch", type=positive(int), default=256)
    evaluate.add_argument("--split", choices=("val", "test"), default="val",
                          help="val: the samples training validated on (default); test: the official test split "
                               "of mnist, fashion_mnist or cifar10")
    evaluate.add_argument("--show", type=positive(int), metavar="N",
                          help="also print the first N predictions by class name, the wrong ones marked *")
    evaluate.set_defaults(func=cmd_evaluate)

    predict = sub.add_parser("predict", help="top-k classes for an input .npy or image")
    _common(predict)
    predict.add_argument("--weights", required=True, metavar="W")
    predict.add_argument("--input", required=True, metavar="X", help="x.npy (one sample or a batch) or an image")
    predict.add_argument("--top", type=positive(int), default=3, help="how many classes to show (3)")
    predict.set_defaults(func=cmd_predict)

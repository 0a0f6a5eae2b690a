"""`netdsl train`, `evaluate` and `predict`: the NumPy backend from the command line."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from netdsl.cli import TOP_DEFAULT, InputError, UsageError, add_threads_flag, load_program, one_line, positive
from netdsl.train.declarations import LOGS, LOSSES, OPTIMIZERS, canonical_loss


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def data_target(config) -> str:
    """What the data loaders are asked for: the train section's target, else "auto" (values when some labels
    are not integers); an autoencoder's labels are not read."""
    if config.target == "values" or config.reproduces_input:
        return "values"
    return "labels" if config.target_span is not None else "auto"


def with_data_target(config, found: str):
    """The settings for the data as found: a regression's defaults when its labels are real numbers."""
    from netdsl.frontend.train_spec import CLASS_LOSSES, regression_defaults

    if found != "values" or config.reproduces_input:
        return config
    if config.regression and config.loss in CLASS_LOSSES:  # --loss cross_entropy on a regression
        raise InputError(
            f"loss {config.loss} needs class labels, but the run trains on real numbers "
            "(target = values); use --loss mse, mae or huber"
        )
    return config if config.regression else regression_defaults(config)


def _check_values(model, y, name: str) -> None:
    """Real-valued targets fit the output: as many values per sample as the network outputs."""
    import math

    per_sample = math.prod(y.shape[1:])
    outputs = math.prod(model.output_shape)
    if per_sample != outputs:
        raise InputError(
            f"{name} has {per_sample} target value{'s' if per_sample != 1 else ''} per sample but "
            f"network {model.name} outputs {outputs}; end it with output({per_sample})"
        )


def _dataset(spec: str, model, args: argparse.Namespace, val_split: float, seed: int, target: str = "labels"):
    from netdsl.data import DataError, load_dataset

    try:
        data = load_dataset(
            spec,
            model.input_shape,
            data_dir=args.data_dir,
            val_split=val_split,
            seed=seed,
            progress=print,
            target=target,
            tokens=model.tokens,
        )
    except DataError as err:
        raise InputError(str(err)) from None
    for notice in data.notices:
        print(notice)
    return data


def _check_labels(model, loss: str, num_classes: int, name: str) -> None:
    """Class labels fit the output: K >= classes values (one-hot targets for mse), or one 0/1 output."""
    if len(model.output_shape) != 1:
        raise InputError(
            f"{name} has class labels but network {model.name} outputs shape "
            f"{list(model.output_shape)}; {loss} on class labels needs a flat output: "
            f"end it with output({num_classes})"
        )
    units = model.output_shape[0]
    if units == 1 and loss == "binary_cross_entropy" and num_classes > 2:
        raise InputError(
            f"{name} has {num_classes} classes but binary_cross_entropy with one output needs "
            f"labels 0 and 1; end network {model.name} with output({num_classes}) for one-hot targets"
        )
    if units == 1 and loss != "cross_entropy":
        return  # one output: the label itself is the target (a 0/1 class, or a value for mse)
    if num_classes > units:
        raise InputError(
            f"{name} has {num_classes} classes but network {model.name} outputs {units} values; "
            f"end it with output({num_classes})"
        )


def cmd_train(args: argparse.Namespace) -> int:
    from netdsl.train.runs import RunDirError, claim

    model = load_program(args)
    out_dir, default = _out_dir(args, model.name)
    try:
        out_dir, lock = claim(out_dir, fresh_from=default)
    except RunDirError as err:
        raise InputError(str(err)) from None
    if default is not None and out_dir != default:
        print(
            f"{default} holds an earlier run; this run goes to {out_dir} (--out {default} --overwrite would replace it)"
        )
    try:
        return _train_in(args, model, out_dir, lock)
    finally:
        lock.release()


def _out_dir(args: argparse.Namespace, network: str) -> tuple[Path, Path | None]:
    """Where the run goes, and the default directory when the user named none (it moves to a free name)."""
    if args.resume:
        if args.overwrite:
            raise UsageError("--overwrite starts a new run and --resume continues one: give one of them")
        if args.out and Path(args.out) != Path(args.resume):
            raise UsageError(f"--resume {args.resume} continues the run in that directory; drop --out {args.out}")
        if not Path(args.resume).is_dir():
            raise InputError(f"{args.resume}: no run to resume (no such directory)")
        return Path(args.resume), None
    if args.out:
        return Path(args.out), None
    default = Path("runs") / network
    return default, (None if args.overwrite else default)


def _train_in(args: argparse.Namespace, model, out_dir: Path, lock) -> int:
    """Train into a directory this process holds the lock of."""
    from netdsl.backends.numpy.executor import Executor
    from netdsl.backends.numpy.weights import WeightsError
    from netdsl.train.checkpoint import CHECKPOINT, CheckpointError, read_checkpoint
    from netdsl.train.runs import RunDirError, refuse_earlier_run, remove_orphan_temps, remove_run_files
    from netdsl.train.trainer import Interrupted, Trainer, TrainingError
    from netdsl.wording import plural

    if lock.stale_pid is not None:
        print(f"{out_dir}: took over the lock of pid {lock.stale_pid}, which is no longer running")
    for temporary in remove_orphan_temps(out_dir):
        print(f"removed {temporary}, left by a save that did not finish")
    try:
        if not args.resume and not args.overwrite:
            refuse_earlier_run(out_dir)
        checkpoint = read_checkpoint(out_dir) if args.resume else None
    except (RunDirError, CheckpointError) as err:
        raise InputError(str(err)) from None
    config = _config(args, model, checkpoint, out_dir)
    if checkpoint is not None and _complete(checkpoint.meta, config.epochs):
        more = shlex.join(["--epochs", str(config.epochs + 10)])
        print(
            f"{out_dir} is complete (epoch {config.epochs} of {config.epochs} trained): nothing to resume. To train "
            f"on, give a larger total: {_resume_command(args, out_dir)} {more}"
        )
        return 0
    data = _dataset(config.data, model, args, config.val_split, config.seed, data_target(config))
    config = with_data_target(config, data.target)
    reproduce = config.reproduces_input  # an autoencoder: its input is its target
    if config.regression:
        _check_values(model, data.y_train, data.name)
    elif not reproduce:
        _check_labels(model, config.loss, data.num_classes, data.name)
        _class_names(model, config, data.num_classes)
    objective = f"{config.loss} loss, " if config.regression else ""
    print(
        f"training {model.name} on {data.name}: {len(data.x_train)} samples, {len(data.x_val)} for validation; "
        f"{objective}{config.optimizer} lr {config.lr:g}, batch {config.batch}, {plural(config.epochs, 'epoch')}"
    )
    executor = Executor(model.graph)
    if checkpoint is None:  # a resumed run takes every tensor from its checkpoint
        executor.init_params(config.seed)
    if args.overwrite:
        remove_run_files(out_dir)
    trainer = Trainer(executor, config, out_dir=out_dir, program=model.source, verbose=0 if args.quiet else 1)
    try:
        if checkpoint is not None:
            trainer.resume(checkpoint)
            print(f"resuming {out_dir} at epoch {trainer.progress.epoch + 1}, step {trainer.progress.step}")
        targets = (data.x_train, data.x_val) if reproduce else (data.y_train, data.y_val)
        trainer.fit(data.x_train, targets[0], (data.x_val, targets[1]))
    except Interrupted as stop:
        print(f"netdsl: {stop}; continue with: {_resume_command(args, out_dir)}")
        return 128 + stop.signum
    except (TrainingError, WeightsError, CheckpointError) as err:
        raise InputError(one_line(str(err))) from None
    except OSError as err:  # a full disk or a vanished directory while saving: the files saved before stay whole
        raise InputError(
            f"{out_dir}: cannot save the run ({err.strerror or err}); the files saved before are intact"
        ) from None
    print(f"saved {out_dir / 'weights.npz'}, {out_dir / 'history.csv'}, {out_dir / CHECKPOINT}")
    return 0


def _config(args: argparse.Namespace, model, checkpoint, out_dir: Path):
    """The program's settings with the flags; for a resumed run, the settings it was started with."""
    from netdsl.train.checkpoint import CheckpointError, SettingsConflict, config_from_settings, resume_config

    flags = {
        "data": args.data,
        "epochs": args.epochs,
        "batch": args.batch,
        "lr": args.lr,
        "optimizer": args.optimizer,
        "seed": args.seed,
        "val_split": args.val_split,
        "loss": args.loss,
    }
    config = model.train_config.override(**flags)
    watch = {"diagnostics": True if args.diagnostics else None, "log": args.log}  # not settings a resume keeps
    config = config.override(**watch)
    if checkpoint is None:
        return config
    settings = checkpoint.meta.get("settings")
    if settings is None:
        print(
            f"{checkpoint.path} holds no settings (an older netdsl wrote it): resuming with the program's and "
            "the flags' settings"
        )
        return config
    try:
        stored = config_from_settings(settings, checkpoint.path, model.train_config)
        minimum = checkpoint.meta["epoch"] + (1 if checkpoint.meta["step"] else 0)
        resumed = resume_config(stored, config, {k for k, v in flags.items() if v is not None}, out_dir, minimum)
        return resumed.override(diagnostics=config.diagnostics, log=config.log)
    except CheckpointError as err:
        raise InputError(str(err)) from None
    except SettingsConflict as err:
        raise UsageError(str(err)) from None


def _complete(meta: dict, epochs: int) -> bool:
    """A checkpoint saved at the end of the run's last epoch: resuming it would train nothing."""
    return meta["step"] == 0 and meta["epoch"] >= epochs


def _resume_command(args: argparse.Namespace, out_dir: Path) -> str:
    """The command that continues this run: its settings come from the checkpoint."""
    words = ["netdsl", "train", args.file]
    if args.network:
        words += ["--network", args.network]
    if args.data_dir:
        words += ["--data-dir", args.data_dir]
    return shlex.join([*words, "--resume", str(out_dir)])


def _model_with_weights(args: argparse.Namespace):
    """The program with the --weights file loaded, and the data settings of the run that wrote the weights."""
    from netdsl.backends.numpy.weights import WeightsError

    model = load_program(args)
    try:
        model.load_weights(args.weights)
    except WeightsError as err:
        raise InputError(one_line(str(err))) from None
    use_run_settings(model, args.weights)
    return model


def use_run_settings(model, weights: str) -> None:
    """Take the data set, class names, target and metric from the run's settings.json beside `weights`."""
    from netdsl.train.run_settings import with_run_settings

    model.train_config, notices = with_run_settings(model.train_config, weights, model.name)
    for notice in notices:
        print(notice)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from netdsl.data import DataError, load_arrays

    model = _model_with_weights(args)
    config = model.train_config
    spec = args.data or config.data
    try:
        arrays = load_arrays(
            spec,
            model.input_shape,
            data_dir=args.data_dir,
            val_split=config.val_split,
            seed=config.seed,
            progress=print,
            portion=args.split,
            target=data_target(config),
            tokens=model.tokens,
        )
    except DataError as err:
        raise InputError(str(err)) from None
    for notice in arrays.notices:
        print(notice)
    model.train_config = config = with_data_target(config, arrays.target)
    if config.reproduces_input:  # an autoencoder: its input is its target, and there are no classes
        loss, _ = model.evaluate(arrays.x, arrays.x, batch_size=args.batch)
        print(f"{arrays.name} ({args.split}): {len(arrays.x)} samples  loss {loss:.4f}")
        return 0
    if config.regression:
        _check_values(model, arrays.y, arrays.name)
    else:
        _check_labels(model, config.loss, arrays.num_classes, arrays.name)
    loss, score = model.evaluate(arrays.x, arrays.y, batch_size=args.batch)
    shown = f"  {config.metric} {score:.4f}" if config.metric else ""
    print(f"{arrays.name} ({args.split}): {len(arrays.x)} samples  loss {loss:.4f}{shown}")
    if config.regression:
        return 0
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
    from netdsl.cli.outputs import PROBABILITY_HEADS, is_image_batch, probabilities, save_outputs
    from netdsl.data import DataError
    from netdsl.data.channels_last import to_channels_first
    from netdsl.data.classes import label
    from netdsl.data.inputs import InputFileError, as_batch, read_input, top_k

    model = _model_with_weights(args)
    try:
        if model.tokens is not None and args.input.lower().endswith(".txt"):  # sentences through a vocabulary
            from netdsl.data.synthetic import read_text_file

            x, notes = read_text_file(args.input, model.input_shape[0], model.train_config.data.lower())
        else:
            x, notes = read_input(args.input, tuple(model.input_shape))
        x = as_batch(to_channels_first(x, model.input_shape, model.input_layout), tuple(model.input_shape), args.input)
    except (InputFileError, DataError) as err:
        raise InputError(str(err)) from None
    for note in notes:
        print(note)
    x = _polarity(x, args, model.train_config.data)
    try:
        outputs = model.predict(x)
    except DataError as err:  # token ids outside the vocabulary
        raise InputError(f"{args.input}: {str(err).removeprefix('x: ')}") from None
    if args.output:
        print(f"wrote {args.output}: {save_outputs(args.output, outputs, images=is_image_batch(outputs))}")
    config = model.train_config
    if config.regression or config.reproduces_input or len(model.output_shape) != 1:
        _print_not_classes(outputs, args.output)
        return 0
    scores = outputs
    if model.graph.output.op not in PROBABILITY_HEADS and model.output_shape[0] > 1:
        scores, softened = probabilities(outputs)
        if softened:
            print(
                f"network {model.name} ends in {model.graph.output.name} ({model.graph.output.op}), not a softmax: "
                "its scores are shown as softmax probabilities"
            )
    names = _class_names(model, config)
    for index, best in enumerate(top_k(scores, args.top)):
        ranked = ", ".join(f"{label(cls, names)} ({score:.4f})" for cls, score in best)
        print(f"sample {index}: {ranked}")
    return 0


def _print_not_classes(outputs, saved: str | None) -> None:
    """A net that is not a classifier: its output values, or for images where to save them."""
    from netdsl.cli.outputs import is_image_batch, print_values

    if is_image_batch(outputs) or outputs[0].size > 64:
        if not saved:
            kind = "an image" if is_image_batch(outputs) else "an array"
            print(
                f"outputs: {kind} of shape {tuple(outputs.shape[1:])} per sample; save them with "
                f"-o {'out.png or ' if is_image_batch(outputs) else ''}-o out.npy"
            )
        return
    print_values(outputs)


def _polarity(x, args: argparse.Namespace, data: str):
    """x, inverted with --invert; otherwise a notice when its polarity is the opposite of the training data's."""
    from netdsl.data.polarity import invert, polarity_notice

    if args.invert:
        print(f"{args.input}: inverted (1 - x)")
        return invert(x)
    notice = polarity_notice(x, args.input, data)
    if notice:
        print(notice)
    return x


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


def train_arguments(train: argparse.ArgumentParser) -> None:
    _common(train)
    train.add_argument(
        "--data", help="digits, mnist, fashion_mnist, cifar10, waves, spectrograms, sentences, FILE.npz or FILE.csv"
    )
    train.add_argument(
        "--epochs",
        type=positive(int),
        metavar="N",
        help="passes over the training data (default: the train section's, else 10)",
    )
    train.add_argument(
        "--batch", type=positive(int), metavar="N", help="samples per step (default: the train section's, else 32)"
    )
    train.add_argument("--lr", type=positive(float), help="learning rate")
    train.add_argument(
        "--optimizer",
        choices=sorted(OPTIMIZERS),
        help="the optimizer, with its default arguments (default: the train section's, else adam)",
    )
    train.add_argument(
        "--loss",
        type=canonical_loss,
        choices=LOSSES,
        help="the loss (Keras/PyTorch names such as categorical_crossentropy are aliases)",
    )
    train.add_argument(
        "--seed",
        type=int,
        help="seeds the weights, shuffling, dropout and the validation split (default: the train section's, else 0)",
    )
    train.add_argument("--val-split", type=_share, help="share of the data held out (default 0.1)")
    train.add_argument("--out", metavar="DIR", help="where weights, history and checkpoints go (runs/<network>)")
    train.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR, with its settings")
    train.add_argument("--overwrite", action="store_true", help="replace the run already in --out DIR")
    train.add_argument("--quiet", action="store_true", help="no per-epoch output")
    train.add_argument(
        "--diagnostics",
        action="store_true",
        help="per-layer statistics each epoch: diagnostics.csv, warnings, a panel in curves.png",
    )
    train.add_argument("--log", choices=LOGS, help="tensorboard: event files in the run directory (needs tensorboardX)")
    add_threads_flag(train)
    train.set_defaults(func=cmd_train)


def evaluate_arguments(evaluate: argparse.ArgumentParser) -> None:
    _common(evaluate)
    evaluate.add_argument("--weights", required=True, metavar="W", help="weights .npz from netdsl train")
    evaluate.add_argument("--data", help="data set (default: the program's train section)")
    evaluate.add_argument(
        "--batch", type=positive(int), default=256, metavar="N", help="samples per forward pass (256)"
    )
    add_threads_flag(evaluate)
    evaluate.add_argument(
        "--split",
        choices=("val", "test"),
        default="val",
        help="val: the samples training validated on (default); test: the official test split "
        "of mnist, fashion_mnist or cifar10",
    )
    evaluate.add_argument(
        "--show",
        type=positive(int),
        metavar="N",
        help="also print the first N predictions by class name, the wrong ones marked *",
    )
    evaluate.set_defaults(func=cmd_evaluate)


def predict_arguments(predict: argparse.ArgumentParser) -> None:
    _common(predict)
    predict.add_argument("--weights", required=True, metavar="W", help="weights .npz from netdsl train")
    predict.add_argument("--input", required=True, metavar="X", help="x.npy (one sample or a batch) or an image")
    predict.add_argument(
        "--top", type=positive(int), default=TOP_DEFAULT, metavar="K", help=f"how many classes to show ({TOP_DEFAULT})"
    )
    predict.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="save the outputs: OUT.npy (as they are) or, for image outputs (an autoencoder's "
        "reconstructions), OUT.png",
    )
    predict.add_argument(
        "--invert",
        action="store_true",
        help="feed 1 - x: for dark strokes on a light background when the net learned light on dark",
    )
    predict.set_defaults(func=cmd_predict)

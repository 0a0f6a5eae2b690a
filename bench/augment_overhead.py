"""What augmentation adds to a CIFAR-net training step (target: at most 10% of an epoch).

    OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= python bench/augment_overhead.py [--steps 10] [--rounds 3]

Trains examples/seed002_cifar10.net (its own batch of 32, RMSprop with decay) on CIFAR-shaped
random images, interleaving rounds of steps without and with the train section's augmentation, and
times the augmentation alone on the same batches. An epoch is steps x the per-step time, so the
overhead of an epoch is the overhead of a step. Beside it: the same shift and flip written with
torch tensor ops on the batch (the PyTorch way without torchvision), when torch is installed.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

import netdsl
from netdsl.backends.numpy.executor import Executor
from netdsl.frontend.train_extras import Transform
from netdsl.train.augment import Augmenter
from netdsl.train.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = (
    Transform("flip"),
    Transform("shift", (0.1, 0.1)),
    Transform("crop", (4,)),
    Transform("rotate", (15.0,)),
    Transform("cutout", (8,)),
)


def make_trainer(model: netdsl.Model) -> Trainer:
    executor = Executor(model.graph)
    executor.init_params(0)
    return Trainer(executor, model.train_config, verbose=0)


def step_seconds(trainer: Trainer, batches: list[np.ndarray], labels: np.ndarray, augment: bool) -> float:
    """Seconds per training step over the batches (the augmentation, when on, inside the timing)."""
    start = time.perf_counter()
    for xb in batches:
        trainer.step(trainer.extras.augmented(xb) if augment else xb, labels)
    return (time.perf_counter() - start) / len(batches)


def augment_seconds(augmenter: Augmenter, batches: list[np.ndarray]) -> float:
    start = time.perf_counter()
    for xb in batches:
        augmenter(xb)
    return (time.perf_counter() - start) / len(batches)


def torch_shift_flip_seconds(batches: list[np.ndarray], pixels: int) -> float | None:
    """The same random shift (zero fill) and flip in torch tensor ops, per batch."""
    try:
        import torch
        from torch.nn import functional as F
    except ImportError:
        return None
    generator = torch.Generator().manual_seed(0)
    tensors = [torch.from_numpy(xb) for xb in batches]
    start = time.perf_counter()
    for x in tensors:
        n, _, h, w = x.shape
        padded = F.pad(x, (pixels, pixels, pixels, pixels))
        dy = torch.randint(0, 2 * pixels + 1, (n,), generator=generator)
        dx = torch.randint(0, 2 * pixels + 1, (n,), generator=generator)
        rows = (dy[:, None] + torch.arange(h))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w))[:, None, None, :]
        shifted = padded[
            torch.arange(n)[:, None, None, None], torch.arange(x.shape[1])[None, :, None, None], rows, cols
        ]
        flip = torch.rand(n, generator=generator) < 0.5
        torch.where(flip[:, None, None, None], shifted.flip(3), shifted)
    return (time.perf_counter() - start) / len(tensors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="training steps per round (10)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    args = parser.parse_args()
    model = netdsl.load(ROOT / "examples" / "seed002_cifar10.net")
    config = model.train_config
    rng = np.random.default_rng(0)
    batches = [rng.random((config.batch, *model.input_shape), dtype=np.float32) for _ in range(args.steps)]
    labels = rng.integers(0, 10, config.batch)
    plain, augmented = make_trainer(model), make_trainer(model)
    step_seconds(plain, batches[:2], labels, False)  # warm-up: first-call allocations stay out
    step_seconds(augmented, batches[:2], labels, True)
    without, with_aug, alone, contract = [], [], [], []
    for _ in range(args.rounds):
        without.append(step_seconds(plain, batches, labels, False))
        with_aug.append(step_seconds(augmented, batches, labels, True))
        alone.append(augment_seconds(Augmenter(config.augment, 0), batches))
        contract.append(augment_seconds(Augmenter(CONTRACT, 0), batches))
    step, step_aug = statistics.median(without), statistics.median(with_aug)
    aug, every = statistics.median(alone), statistics.median(contract)
    print(f"seed002_cifar10, batch {config.batch}, augment = ({', '.join(map(str, config.augment))})")
    print(f"  step without augmentation   {step * 1e3:8.1f} ms")
    print(f"  step with augmentation      {step_aug * 1e3:8.1f} ms   ({(step_aug / step - 1) * 100:+.1f}%, noisy)")
    print(
        f"  augmentation alone          {aug * 1e3:8.2f} ms   ({aug / step * 100:.2f}% of a step: the epoch overhead)"
    )
    print(
        f"  all five transforms alone   {every * 1e3:8.2f} ms   ({every * 100 / step:.2f}% of a step; "
        f"{', '.join(map(str, CONTRACT))})"
    )
    torch_seconds = torch_shift_flip_seconds(batches, 3)
    if torch_seconds is not None:
        print(f"  torch tensor shift + flip   {torch_seconds * 1e3:8.2f} ms   (the same two transforms, for scale)")


if __name__ == "__main__":
    main()

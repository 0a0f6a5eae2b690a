"""Learning rates as pure functions of the epoch and the iteration (PyTorch's lr_scheduler formulas).

    lr = base_lr * factor(epoch) / (1 + decay * iteration)

`factor` is the warm-up ramp `(epoch + 1) / (warmup + 1)` for the first `warmup` epochs (torch's
LinearLR), then the schedule counted from the end of the warm-up: step (StepLR), exponential
(ExponentialLR), cosine (CosineAnnealingLR to 0 over the remaining epochs). onecycle sets the lr
itself from max_lr (OneCycleLR with one scheduler step per epoch, momentum not cycled). `decay` is
Keras' per-iteration decay; `iteration` counts the optimizer steps taken before this one.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from netdsl.train.config import Schedule
from netdsl.train.declarations import COSINE, EXPONENTIAL, ONECYCLE, STEP, ScheduleDef

# schedule name -> lr of an epoch counted from the end of the warm-up: (base_lr, epoch, epochs, schedule) -> lr
Formula = Callable[[float, int, int, Schedule], float]
FORMULAS: dict[str, Formula] = {}


def formula(declaration: ScheduleDef) -> Callable[[Formula], Formula]:
    """Register the lr formula of a declared schedule."""

    def register(function: Formula) -> Formula:
        FORMULAS[declaration.name] = function
        return function

    return register


def step_factor(epoch: int, every: int, gamma: float) -> float:
    """StepLR: gamma ** (epoch // every)."""
    return gamma ** (epoch // every)


def exponential_factor(epoch: int, gamma: float) -> float:
    """ExponentialLR: gamma ** epoch."""
    return gamma**epoch


def cosine_factor(epoch: int, total: int) -> float:
    """CosineAnnealingLR with eta_min 0 and T_max = total: (1 + cos(pi * epoch / total)) / 2."""
    return (1 + math.cos(math.pi * epoch / total)) / 2


def onecycle_lr(
    epoch: int,
    total: int,
    max_lr: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> float:
    """OneCycleLR (two phases, cosine annealing): up from max_lr/div_factor, then down to its /final_div_factor."""
    initial = max_lr / div_factor
    phases = ((float(pct_start * total) - 1, initial, max_lr), (total - 1, max_lr, initial / final_div_factor))
    start = 0.0
    for index, (end, lr_from, lr_to) in enumerate(phases):
        if epoch <= end or index == len(phases) - 1:
            pct = (epoch - start) / (end - start)
            return lr_to + (lr_from - lr_to) / 2 * (math.cos(math.pi * pct) + 1)
        start = end
    raise AssertionError("unreachable")


def warmup_factor(epoch: int, warmup: int) -> float:
    """LinearLR(start_factor=1/(warmup+1), total_iters=warmup): (epoch + 1) / (warmup + 1), then 1."""
    return min(epoch + 1, warmup + 1) / (warmup + 1)


@formula(STEP)
def _step(base_lr: float, epoch: int, total: int, schedule: Schedule) -> float:
    return base_lr * step_factor(epoch, schedule.get("every"), schedule.get("gamma"))


@formula(EXPONENTIAL)
def _exponential(base_lr: float, epoch: int, total: int, schedule: Schedule) -> float:
    return base_lr * exponential_factor(epoch, schedule.get("gamma"))


@formula(COSINE)
def _cosine(base_lr: float, epoch: int, total: int, schedule: Schedule) -> float:
    return base_lr * cosine_factor(epoch, total)


@formula(ONECYCLE)
def _onecycle(base_lr: float, epoch: int, total: int, schedule: Schedule) -> float:
    max_lr = schedule.get("max_lr") or base_lr
    return onecycle_lr(
        epoch, total, max_lr, schedule.get("pct_start"), schedule.get("div_factor"), schedule.get("final_div_factor")
    )


def epoch_lr(base_lr: float, epoch: int, epochs: int, schedule: Schedule | None = None, warmup: int = 0) -> float:
    """The lr of a (0-based) epoch before decay: warm-up, then the schedule over the remaining epochs."""
    if epoch < warmup:
        return base_lr * warmup_factor(epoch, warmup)
    if schedule is None:
        return base_lr
    if schedule.name not in FORMULAS:
        raise ValueError(f"unknown schedule {schedule.name!r}")
    return FORMULAS[schedule.name](base_lr, epoch - warmup, max(epochs - warmup, 1), schedule)


def decayed(lr: float, decay: float, iteration: int) -> float:
    """Keras' decay: lr / (1 + decay * iteration)."""
    return lr / (1 + decay * iteration) if decay else lr


def learning_rate(
    base_lr: float,
    *,
    epoch: int,
    iteration: int,
    epochs: int,
    schedule: Schedule | None = None,
    warmup: int = 0,
    decay: float = 0.0,
) -> float:
    """The lr of one optimizer step: the epoch's scheduled lr, decayed by the iterations before it."""
    return decayed(epoch_lr(base_lr, epoch, epochs, schedule, warmup), decay, iteration)

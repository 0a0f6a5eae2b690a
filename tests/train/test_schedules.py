"""Learning-rate schedules: their formulas, and torch.optim.lr_scheduler over 1,000 steps to 1e-7."""

from __future__ import annotations

import math

import pytest

from netdsl.train.config import Schedule
from netdsl.train.schedules import epoch_lr, learning_rate

BASE = 0.1
STEPS = 1000


def schedule(name: str, **args) -> Schedule:
    return Schedule(name, tuple(args.items()))


ONECYCLE = dict(max_lr=0.5, pct_start=0.3, div_factor=25.0, final_div_factor=1e4)
CASES = {
    "step": (schedule("step", every=10, gamma=0.1), 0),
    "exponential": (schedule("exponential", gamma=0.995), 0),
    "cosine": (schedule("cosine"), 0),
    "onecycle": (schedule("onecycle", **ONECYCLE), 0),
    "warmup": (None, 5),
    "warmup_cosine": (schedule("cosine"), 7),
    "warmup_step": (schedule("step", every=3, gamma=0.5), 4),
}


def test_formulas_at_chosen_epochs() -> None:
    assert epoch_lr(BASE, 25, 100, schedule("step", every=10, gamma=0.1)) == pytest.approx(BASE * 0.01)
    assert epoch_lr(BASE, 3, 100, schedule("exponential", gamma=0.9)) == pytest.approx(BASE * 0.9**3)
    assert epoch_lr(BASE, 50, 100, schedule("cosine")) == pytest.approx(BASE / 2)
    assert epoch_lr(BASE, 0, 100, schedule("cosine")) == BASE
    # warm-up: (e + 1) / (w + 1), then the cosine counted from the end of the warm-up over epochs - w
    assert [epoch_lr(BASE, e, 12, schedule("cosine"), 2) for e in range(3)] == pytest.approx(
        [BASE / 3, 2 * BASE / 3, BASE]
    )
    assert epoch_lr(BASE, 7, 12, schedule("cosine"), 2) == pytest.approx(BASE * (1 + math.cos(math.pi / 2)) / 2)
    # onecycle: starts at max_lr / 25, peaks at max_lr after 30% of the epochs, ends at max_lr / 25 / 1e4
    cycle = [epoch_lr(BASE, e, 10, schedule("onecycle", **ONECYCLE)) for e in range(10)]
    assert cycle[0] == pytest.approx(0.5 / 25) and max(cycle) == pytest.approx(0.5)
    assert cycle[-1] == pytest.approx(0.5 / 25 / 1e4)
    assert epoch_lr(BASE, 4, 10, None) == BASE


def test_keras_decay_per_iteration() -> None:
    assert learning_rate(1e-4, epoch=0, iteration=0, epochs=1, decay=1e-6) == 1e-4
    assert learning_rate(1e-4, epoch=3, iteration=10_000, epochs=5, decay=1e-6) == pytest.approx(1e-4 / 1.01)
    lr = learning_rate(BASE, epoch=20, iteration=500, epochs=100, schedule=schedule("step", every=10), decay=0.01)
    assert lr == pytest.approx(BASE * 0.01 / 6)


def torch_scheduler(torch, optimizer, spec: Schedule | None, warmup: int, epochs: int):
    """The schedulers the generated train script builds (a SequentialLR after a LinearLR warm-up)."""
    sched = torch.optim.lr_scheduler
    main = None
    if spec is not None and spec.name == "step":
        main = sched.StepLR(optimizer, step_size=spec.get("every"), gamma=spec.get("gamma"))
    elif spec is not None and spec.name == "exponential":
        main = sched.ExponentialLR(optimizer, gamma=spec.get("gamma"))
    elif spec is not None and spec.name == "cosine":
        main = sched.CosineAnnealingLR(optimizer, T_max=epochs - warmup)
    elif spec is not None and spec.name == "onecycle":
        main = sched.OneCycleLR(
            optimizer,
            max_lr=spec.get("max_lr"),
            total_steps=epochs,
            pct_start=spec.get("pct_start"),
            div_factor=spec.get("div_factor"),
            final_div_factor=spec.get("final_div_factor"),
            cycle_momentum=False,
        )
    if not warmup:
        return main
    warm = sched.LinearLR(optimizer, start_factor=1 / (warmup + 1), end_factor=1.0, total_iters=warmup)
    return warm if main is None else sched.SequentialLR(optimizer, [warm, main], milestones=[warmup])


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_torch_lr_scheduler_over_1000_steps(case: str) -> None:
    torch = pytest.importorskip("torch")
    spec, warmup = CASES[case]
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE)
    scheduler = torch_scheduler(torch, optimizer, spec, warmup, STEPS)
    worst = 0.0
    for epoch in range(STEPS):
        ours = epoch_lr(BASE, epoch, STEPS, spec, warmup)
        worst = max(worst, abs(optimizer.param_groups[0]["lr"] - ours))
        optimizer.step()
        if epoch < STEPS - 1:
            scheduler.step()
    assert worst < 1e-7


def test_decay_matches_torch_lambda_lr_over_1000_steps() -> None:
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    decay = 1e-3
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 / (1 + decay * step))
    for step in range(STEPS):
        ours = learning_rate(1e-3, epoch=0, iteration=step, epochs=1, decay=decay)
        assert abs(optimizer.param_groups[0]["lr"] - ours) < 1e-7 * 1e-3
        optimizer.step()
        scheduler.step()

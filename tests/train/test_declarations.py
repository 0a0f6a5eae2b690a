"""The training declarations: each default is torch's, each declaration has its implementations."""

from __future__ import annotations

import inspect

import pytest

from netdsl.train.declarations import (
    AUGMENTATIONS,
    OPTIMIZERS,
    SCHEDULES,
    UNIT_OPEN,
    UP_TO_1,
    Range,
)


def torch_defaults(torch_class) -> dict[str, object]:
    """A torch.optim class's keyword defaults, betas split into beta1 and beta2 as netdsl declares them."""
    found = {
        name: p.default
        for name, p in inspect.signature(torch_class.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    if "betas" in found:
        found["beta1"], found["beta2"] = found.pop("betas")
    return found


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_declared_default_is_torch_optims(name: str) -> None:
    torch = pytest.importorskip("torch", reason="torch.optim's signatures are the reference")
    declaration = OPTIMIZERS[name]
    theirs = torch_defaults(getattr(torch.optim, declaration.torch_class))
    for key, ours in declaration.all_defaults().items():
        assert key in theirs, f"{name}: torch.optim.{declaration.torch_class} takes no {key}"
        if key in declaration.differs_from_torch:  # the stated reason must still be needed
            assert ours != theirs[key], f"{name}.{key}: now torch's default too; drop differs_from_torch"
        else:
            assert ours == theirs[key] and type(ours) is type(theirs[key]) or ours == theirs[key] == 0, (
                f"{name}.{key}: netdsl {ours!r}, torch {theirs[key]!r}"
            )


def test_rmsprop_has_one_default_lr_pytorchs() -> None:
    from netdsl.backends.numpy.optimizers import make_optimizer
    from netdsl.train.config import TrainConfig

    assert OPTIMIZERS["rmsprop"].defaults()["lr"] == 0.01
    config = TrainConfig(optimizer="rmsprop", optimizer_args={})
    assert config.lr == 0.01 and make_optimizer("rmsprop", **config.optimizer_kwargs()).lr == 0.01


def test_only_sgd_states_why_a_default_is_not_torchs() -> None:
    assert {name: set(o.differs_from_torch) for name, o in OPTIMIZERS.items() if o.differs_from_torch} == {
        "sgd": {"lr"}
    }


def test_every_declaration_has_its_numpy_implementations() -> None:
    from netdsl.backends.numpy.optimizers import IMPLEMENTATIONS
    from netdsl.train.augment import IMPLEMENTATIONS as TRANSFORMS
    from netdsl.train.schedules import FORMULAS

    assert list(IMPLEMENTATIONS) == list(OPTIMIZERS)
    assert all(IMPLEMENTATIONS[name].declaration is OPTIMIZERS[name] for name in OPTIMIZERS)
    assert set(FORMULAS) == set(SCHEDULES)
    assert set(TRANSFORMS) == set(AUGMENTATIONS)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_each_schedule_names_a_torch_scheduler_and_its_arguments(name: str) -> None:
    torch = pytest.importorskip("torch", reason="torch.optim.lr_scheduler is the reference")
    declaration = SCHEDULES[name]
    parameters = inspect.signature(getattr(torch.optim.lr_scheduler, declaration.torch_class).__init__).parameters
    assert {key for key, _ in declaration.torch_args} <= set(parameters)
    used = {source[1:-1] for _, source in declaration.torch_args if source.startswith("{")}
    assert used == {arg.name for arg in declaration.args}


def test_ranges_read_as_the_errors_write_them() -> None:
    assert (str(Range()), str(Range(low_closed=False)), str(UNIT_OPEN), str(UP_TO_1)) == (
        ">= 0",
        "> 0",
        "in [0, 1)",
        "in (0, 1]",
    )
    assert 0 in UNIT_OPEN and 1 not in UNIT_OPEN and 0 not in UP_TO_1 and 1 in UP_TO_1
    assert 1e300 in Range() and -1e-12 not in Range()


def test_declared_defaults_pass_their_own_ranges() -> None:
    for name, optimizer in OPTIMIZERS.items():
        assert optimizer.problems(optimizer.defaults()) == [], name
    for schedule in SCHEDULES.values():
        for arg in schedule.args:
            assert arg.default is None or arg.default in arg.range, (schedule.name, arg.name)

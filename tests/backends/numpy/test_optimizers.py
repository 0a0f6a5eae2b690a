"""Optimizers against hand-written update equations (torch.optim definitions)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from netdsl.backends.numpy import optimizers as O

P0 = np.array([0.5, -1.0, 2.0])
GRADS = [np.array([0.1, -0.2, 0.3]), np.array([-0.4, 0.5, 0.05]), np.array([0.2, 0.2, -0.6])]


def run(opt, steps=3):
    """Apply the fixed gradient sequence; return the parameter after each step."""
    p = {"w": P0.copy()}
    out = []
    for g in GRADS[:steps]:
        opt.step(p, {"w": g.copy()})
        out.append(p["w"].copy())
    return out


def ref_sgd(lr, mu=0.0, damp=0.0, nesterov=False, wd=0.0):
    """SGD: b1 = g1, b_t = mu b + (1-damp) g; g = g + mu b (nesterov) or b."""
    p, b, out = P0.copy(), None, []
    for g in GRADS:
        g = g + wd * p
        if mu:
            b = g.copy() if b is None else mu * b + (1 - damp) * g
            g = g + mu * b if nesterov else b
        p = p - lr * g
        out.append(p)
    return out


def ref_rmsprop(lr, alpha, eps, wd=0.0, mu=0.0, centered=False):
    """RMSprop: v = a v + (1-a) g^2, optional centering and momentum."""
    p, v, ga, b, out = P0.copy(), 0.0, 0.0, 0.0, []
    for g in GRADS:
        g = g + wd * p
        v = alpha * v + (1 - alpha) * g * g
        vt = v
        if centered:
            ga = alpha * ga + (1 - alpha) * g
            vt = v - ga * ga
        if mu:
            b = mu * b + g / (np.sqrt(vt) + eps)
            p = p - lr * b
        else:
            p = p - lr * g / (np.sqrt(vt) + eps)
        out.append(p)
    return out


def ref_adagrad(lr, lr_decay, wd, init, eps):
    """Adagrad: clr = lr / (1 + (t-1) decay); s += g^2; p -= clr g / (sqrt(s) + eps)."""
    p, s, out = P0.copy(), np.full(3, init), []
    for t, g in enumerate(GRADS, start=1):
        g = g + wd * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
        out.append(p)
    return out


def ref_adadelta(lr, rho, eps, wd):
    """Adadelta: v, delta = sqrt(u+eps)/sqrt(v+eps) g, u."""
    p, v, u, out = P0.copy(), 0.0, 0.0, []
    for g in GRADS:
        g = g + wd * p
        v = rho * v + (1 - rho) * g * g
        d = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        p = p - lr * d
        out.append(p)
    return out


def ref_adam(lr, b1, b2, eps, wd, amsgrad=False):
    """Adam: m_hat / (sqrt(v_hat) + eps), with optional AMSGrad max."""
    p, m, v, vmax, out = P0.copy(), 0.0, 0.0, 0.0, []
    for t, g in enumerate(GRADS, start=1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vv = vmax if amsgrad else v
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(vv / (1 - b2**t)) + eps)
        out.append(p)
    return out


def ref_adamax(lr, b1, b2, eps, wd):
    """Adamax: u = max(b2 u, |g| + eps); p -= lr / (1 - b1^t) m / u."""
    p, m, u, out = P0.copy(), 0.0, 0.0, []
    for t, g in enumerate(GRADS, start=1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        p = p - lr / (1 - b1**t) * m / u
        out.append(p)
    return out


def ref_nadam(lr, b1, b2, eps, wd, psi):
    """NAdam (Dozat, torch schedule): mu_t = b1 (1 - 0.5 * 0.96^(t psi))."""
    p, m, v, prod, out = P0.copy(), 0.0, 0.0, 1.0, []
    for t, g in enumerate(GRADS, start=1):
        g = g + wd * p
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu1 = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod *= mu
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vhat = v / (1 - b2**t)
        denom = np.sqrt(vhat) + eps
        p = p - lr * (1 - mu) / (1 - prod) * g / denom - lr * mu1 / (1 - prod * mu1) * m / denom
        out.append(p)
    return out


def ref_adamw(lr, b1, b2, eps, wd):
    """AdamW: p -= lr wd p (decoupled, outside the moments); then Adam on the raw gradient."""
    p, m, v, out = P0.copy(), 0.0, 0.0, []
    for t, g in enumerate(GRADS, start=1):
        p = p - lr * wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        out.append(p)
    return out


CASES = [
    ("sgd plain", O.SGD(lr=0.1), ref_sgd(0.1)),
    ("sgd momentum", O.SGD(lr=0.1, momentum=0.9), ref_sgd(0.1, 0.9)),
    (
        "sgd dampening wd",
        O.SGD(lr=0.1, momentum=0.8, dampening=0.3, weight_decay=0.01),
        ref_sgd(0.1, 0.8, 0.3, wd=0.01),
    ),
    (
        "sgd nesterov wd",
        O.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
        ref_sgd(0.05, 0.9, nesterov=True, wd=0.1),
    ),
    ("rmsprop", O.RMSprop(lr=0.01), ref_rmsprop(0.01, 0.99, 1e-8)),
    (
        "rmsprop centered momentum wd",
        O.RMSprop(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True),
        ref_rmsprop(0.01, 0.9, 1e-6, 0.1, 0.5, True),
    ),
    ("adagrad", O.Adagrad(lr=0.1), ref_adagrad(0.1, 0.0, 0.0, 0.0, 1e-10)),
    (
        "adagrad decay wd init",
        O.Adagrad(lr=0.1, lr_decay=0.5, weight_decay=0.1, initial_accumulator_value=0.2),
        ref_adagrad(0.1, 0.5, 0.1, 0.2, 1e-10),
    ),
    ("adadelta", O.Adadelta(), ref_adadelta(1.0, 0.9, 1e-6, 0.0)),
    ("adadelta wd", O.Adadelta(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1), ref_adadelta(0.5, 0.8, 1e-5, 0.1)),
    ("adam", O.Adam(), ref_adam(1e-3, 0.9, 0.999, 1e-8, 0.0)),
    (
        "adam amsgrad wd",
        O.Adam(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True),
        ref_adam(0.01, 0.8, 0.9, 1e-8, 0.1, True),
    ),
    ("adamw", O.AdamW(), ref_adamw(1e-3, 0.9, 0.999, 1e-8, 0.01)),
    (
        "adamw strong decay",
        O.AdamW(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.5),
        ref_adamw(0.05, 0.8, 0.9, 1e-6, 0.5),
    ),
    ("adamax", O.Adamax(), ref_adamax(2e-3, 0.9, 0.999, 1e-8, 0.0)),
    ("adamax wd", O.Adamax(lr=0.01, betas=(0.5, 0.9), weight_decay=0.1), ref_adamax(0.01, 0.5, 0.9, 1e-8, 0.1)),
    ("nadam", O.Nadam(), ref_nadam(2e-3, 0.9, 0.999, 1e-8, 0.0, 4e-3)),
    (
        "nadam wd",
        O.Nadam(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, momentum_decay=0.1),
        ref_nadam(0.01, 0.8, 0.99, 1e-8, 0.1, 0.1),
    ),
]


@pytest.mark.parametrize("name,opt,expected", CASES, ids=[c[0] for c in CASES])
def test_update_equations(name, opt, expected):
    got = run(opt)
    for step, (a, b) in enumerate(zip(got, expected), start=1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, err_msg=f"{name} step {step}")
    assert not np.allclose(got[-1], P0)


def test_first_adam_step_is_lr_sized():
    p = {"w": np.zeros(2)}
    O.Adam(lr=0.1).step(p, {"w": np.array([3.0, -1e-3])})
    np.testing.assert_allclose(p["w"], [-0.1, 0.1], rtol=1e-4)


@pytest.mark.parametrize("name", sorted(O.IMPLEMENTATIONS))
def test_state_dict_round_trip(name, tmp_path):
    kwargs = {"momentum": 0.9} if name in ("sgd", "rmsprop") else {}
    a = O.make_optimizer(name, **kwargs)
    pa = {"conv_1.weight": P0.copy(), "fc.bias": -P0.copy()}
    for g in GRADS[:2]:
        a.step(pa, {"conv_1.weight": g, "fc.bias": 2 * g})
    path = tmp_path / "opt.npz"
    np.savez(path, **a.state_dict())
    b = O.make_optimizer(name, **kwargs)
    with np.load(path) as data:
        b.load_state_dict(dict(data))
    pb = {k: v.copy() for k, v in pa.items()}
    for _ in range(2):
        g = GRADS[2]
        a.step(pa, {"conv_1.weight": g, "fc.bias": 2 * g})
        b.step(pb, {"conv_1.weight": g, "fc.bias": 2 * g})
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])
    assert int(b.state_dict()["step"]) == 4


def test_state_dict_keys_and_copies():
    opt = O.Adam()
    p = {"m.conv_1.weight": np.ones(2)}
    opt.step(p, {"m.conv_1.weight": np.ones(2)})
    sd = opt.state_dict()
    assert {"step", "m.m.conv_1.weight", "v.m.conv_1.weight"} <= set(sd)
    assert isinstance(sd["step"], np.ndarray)
    sd["m.m.conv_1.weight"][:] = 99
    assert opt.state["m"]["m.conv_1.weight"][0] != 99


def test_skips_parameters_without_gradient():
    opt = O.SGD(lr=0.1, momentum=0.9)
    p = {"a": np.ones(2), "b": np.ones(2)}
    opt.step(p, {"a": np.ones(2)})
    np.testing.assert_array_equal(p["b"], [1, 1])
    with pytest.raises(ValueError, match="unknown parameters"):
        opt.step(p, {"c": np.ones(2)})


def test_float32_params_stay_float32():
    for name in O.IMPLEMENTATIONS:
        p = {"w": np.ones(3, np.float32)}
        opt = O.make_optimizer(name, weight_decay=0.01)
        for _ in range(2):
            opt.step(p, {"w": np.full(3, 0.5, np.float32)})
        assert p["w"].dtype == np.float32, name
        assert all(v.dtype == np.float32 for k, v in opt.state_dict().items() if k != "step" and v.ndim), name


def test_make_optimizer_and_errors():
    opt = O.make_optimizer("Adam", lr=0.01, betas=(0.8, 0.9))
    assert isinstance(opt, O.Adam) and opt.lr == 0.01
    assert isinstance(O.make_optimizer("adadelta"), O.Adadelta)
    assert O.make_optimizer("adadelta").lr == 1.0
    with pytest.raises(ValueError, match="unknown optimizer 'adamx'.*sgd.*nadam"):
        O.make_optimizer("adamx")
    with pytest.raises(ValueError, match=r"unknown argument\(s\) beta1 .*valid arguments: lr"):
        O.make_optimizer("adam", beta1=0.9)
    with pytest.raises(ValueError, match="nesterov"):
        O.make_optimizer("sgd", nesterov=True)
    with pytest.raises(ValueError):
        O.SGD(lr=-1)


def test_lr_can_be_changed():
    opt = O.SGD(lr=1.0)
    p = {"w": np.zeros(1)}
    opt.step(p, {"w": np.ones(1)})
    opt.lr = 0.5
    opt.step(p, {"w": np.ones(1)})
    assert p["w"][0] == pytest.approx(-1.5)
    assert math.isclose(O.Nadam().lr, 2e-3)


@pytest.mark.parametrize("kwargs", [{}, {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.5, "amsgrad": True}])
def test_adamw_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.tensor(P0, dtype=torch.float64))
    reference = torch.optim.AdamW([param], **kwargs)
    ours = O.AdamW(**kwargs)
    p = {"w": P0.copy()}
    for g in GRADS * 3:
        param.grad = torch.tensor(g, dtype=torch.float64)
        reference.step()
        ours.step(p, {"w": g.copy()})
        np.testing.assert_allclose(p["w"], param.detach().numpy(), rtol=1e-12, atol=1e-15)


def test_adamw_decay_is_not_adams_l2():
    """Same settings, different rule: Adam's weight_decay goes through the moments, AdamW's does not."""
    adam, adamw = run(O.Adam(lr=0.01, weight_decay=0.1)), run(O.AdamW(lr=0.01, weight_decay=0.1))
    assert not np.allclose(adam[-1], adamw[-1])


def ref_radam(grads, lr, b1, b2, eps, wd):
    """RAdam (Liu et al. 2019): rectified adaptive step once rho_t > 5, bias-corrected momentum before."""
    p, m, v, out = P0.copy(), 0.0, 0.0, []
    rho_inf = 2 / (1 - b2) - 1
    for t, g in enumerate(grads, start=1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho_t > 5:
            r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p = p - lr * m_hat * r * math.sqrt(1 - b2**t) / (np.sqrt(v) + eps)  # torch's eps placement
        else:
            p = p - lr * m_hat
        out.append(p)
    return out


RADAM_GRADS = [np.random.default_rng(7).normal(size=3) for _ in range(12)]  # both phases: rho_t passes 5 at step 6


@pytest.mark.parametrize(
    "kwargs,reference",
    [
        ({}, (1e-3, 0.9, 0.999, 1e-8, 0.0)),
        ({"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}, (0.01, 0.8, 0.99, 1e-6, 0.1)),
    ],
)
def test_radam_follows_its_update_equations_in_both_phases(kwargs, reference):
    opt, p = O.make_optimizer("radam", **kwargs), {"w": P0.copy()}
    for step, (g, expected) in enumerate(zip(RADAM_GRADS, ref_radam(RADAM_GRADS, *reference)), start=1):
        opt.step(p, {"w": g.copy()})
        np.testing.assert_allclose(p["w"], expected, rtol=1e-12, atol=1e-15, err_msg=f"step {step}")


DEFAULTS_AND_OTHERS = [
    (name, kwargs)
    for name in sorted(O.IMPLEMENTATIONS)
    for kwargs in (
        {},
        {
            "lr": 0.02,
            "weight_decay": 0.05,
            **({"betas": (0.8, 0.95)} if "beta1" in O.IMPLEMENTATIONS[name].declaration.defaults() else {}),
        },
    )
]


@pytest.mark.parametrize("name,kwargs", DEFAULTS_AND_OTHERS)
def test_every_optimizer_matches_torch_optim_over_many_steps(name, kwargs):
    """Each implementation against torch.optim's class named in its declaration, given every declared
    hyper-parameter (sgd's lr default is not torch's), float64 throughout, 12 steps."""
    torch = pytest.importorskip("torch", reason="torch.optim is the reference")
    ours = O.make_optimizer(name, **kwargs)
    hyper = ours.hyper_parameters(kwargs)
    hyper["betas"] = (hyper.pop("beta1"), hyper.pop("beta2")) if "beta1" in hyper else None
    torch_kwargs = {key: value for key, value in hyper.items() if value is not None}
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # else torch keeps NAdam's mu_product in float32
    try:
        param = torch.nn.Parameter(torch.tensor(P0, dtype=torch.float64))
        reference = getattr(torch.optim, ours.declaration.torch_class)([param], **torch_kwargs)
        p = {"w": P0.copy()}
        for step, g in enumerate(RADAM_GRADS, start=1):
            param.grad = torch.tensor(g, dtype=torch.float64)
            reference.step()
            ours.step(p, {"w": g.copy()})
            np.testing.assert_allclose(
                p["w"], param.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=f"{name} step {step}"
            )
    finally:
        torch.set_default_dtype(default_dtype)

"""Optimizers with the PyTorch (torch.optim) update rules, for NumPy arrays: one implementation per
optimizer declared in netdsl/train/declarations.py (``@implements(ADAM)``), which holds every default.

``opt.step(params, grads)`` updates the parameter arrays in place (parameters
without a gradient are skipped).  ``opt.state_dict()`` is a flat
``dict[str, ndarray]`` (keys ``"step"``, ``"<slot>.<param name>"`` and a few
scalars) that can be stored in an ``.npz`` and restored with
``opt.load_state_dict``.  ``weight_decay`` adds ``weight_decay * p`` to the
gradient (L2, as PyTorch).  Hyper-parameters stay plain attributes (``opt.lr``
may be changed between steps for schedules).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from netdsl.train import declarations as declared
from netdsl.train.declarations import OptimizerDef

Array = np.ndarray


class Optimizer:
    """Base class: hyper-parameters from the declaration, step counter, per-parameter slots, (de)serialisation.

    Keyword arguments are torch.optim's (``betas=(b1, b2)`` for the declaration's beta1 and beta2);
    those not given take the declaration's defaults.
    """

    declaration: ClassVar[OptimizerDef]
    slots: ClassVar[tuple[str, ...]] = ()
    scalars: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **arguments: Any) -> None:
        """Check and store the hyper-parameters."""
        hyper = self.hyper_parameters(arguments)
        lr, weight_decay = hyper["lr"], hyper["weight_decay"]
        if lr < 0 or weight_decay < 0:
            raise ValueError(f"lr and weight_decay must be >= 0, got {lr}, {weight_decay}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.t = 0
        self.state: dict[str, dict[str, Array]] = {s: {} for s in self.slots}
        self._scratch: dict[tuple[tuple[int, ...], str, int], Array] = {}
        self._configure(hyper)

    @classmethod
    def arguments(cls) -> list[str]:
        """The keyword arguments it takes, in torch.optim's terms (beta1 and beta2 as one `betas`)."""
        names = []
        for name in cls.declaration.all_defaults():
            if name == "beta1":
                names.append("betas")
            elif name != "beta2":
                names.append(name)
        return names

    @classmethod
    def hyper_parameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        """The declared defaults with the given arguments in their place; an unknown argument is a ValueError."""
        valid = cls.arguments()
        bad = sorted(set(given) - set(valid))
        if bad:
            raise ValueError(
                f"unknown argument(s) {', '.join(bad)} for optimizer {cls.declaration.name!r}; "
                f"valid arguments: {', '.join(valid)}"
            )
        values = {**cls.declaration.all_defaults(), **{k: v for k, v in given.items() if k != "betas"}}
        if "betas" in given:
            values["beta1"], values["beta2"] = given["betas"]
        return values

    def _configure(self, hyper: dict[str, Any]) -> None:
        """Store the hyper-parameters of this optimizer beyond lr and weight_decay."""

    def _tmp(self, p: Array, k: int = 0) -> Array:
        """Reusable scratch array shaped like ``p`` (k-th of its kind)."""
        key = (p.shape, p.dtype.str, k)
        buf = self._scratch.get(key)
        if buf is None:
            buf = self._scratch[key] = np.empty_like(p)
        return buf

    def step(self, params: dict[str, Array], grads: dict[str, Array]) -> None:
        """Apply one update to every parameter that has a gradient (in place)."""
        unknown = sorted(set(grads) - set(params))
        if unknown:
            raise ValueError(f"gradients for unknown parameters: {unknown}")
        self.t += 1
        self._begin_step()
        for name, p in params.items():
            g = grads.get(name)
            if g is None:
                continue
            if g.shape != p.shape:
                raise ValueError(f"{name}: gradient shape {g.shape} != parameter {p.shape}")
            g = np.asarray(g, dtype=p.dtype)
            if self.weight_decay:
                g = np.add(g, np.multiply(p, self.weight_decay, out=self._tmp(p, 9)), out=self._tmp(p, 9))
            self._update(name, p, g)

    def _begin_step(self) -> None:
        """Hook for per-step scalar state (called after incrementing ``t``)."""

    def _update(self, name: str, p: Array, g: Array) -> None:
        """Update one parameter in place."""
        raise NotImplementedError

    def _slot(self, slot: str, name: str, p: Array, fill: float = 0.0) -> Array:
        """Per-parameter state array, created filled with ``fill`` on first use."""
        arr = self.state[slot].get(name)
        if arr is None:
            arr = np.full(p.shape, fill, dtype=p.dtype)
            self.state[slot][name] = arr
        return arr

    def state_dict(self) -> dict[str, Array]:
        """Flat copy of the optimizer state (``step``, scalars, ``slot.param``)."""
        out: dict[str, Array] = {"step": np.array(self.t, dtype=np.int64)}
        for s in self.scalars:
            out[s] = np.array(getattr(self, s), dtype=np.float64)
        for slot, arrays in self.state.items():
            for name, arr in arrays.items():
                out[f"{slot}.{name}"] = arr.copy()
        return out

    def load_state_dict(self, d: dict[str, Array]) -> None:
        """Restore a state produced by ``state_dict`` (copies the arrays)."""
        self.t = int(np.asarray(d["step"]))
        for s in self.scalars:
            setattr(self, s, float(np.asarray(d[s])))
        self.state = {s: {} for s in self.slots}
        for key, arr in d.items():
            if key == "step" or key in self.scalars:
                continue
            slot, _, name = key.partition(".")
            if slot not in self.state or not name:
                raise ValueError(f"unexpected key {key!r} for {type(self).__name__}; slots are {list(self.slots)}")
            self.state[slot][name] = np.array(arr, copy=True)


IMPLEMENTATIONS: dict[str, type[Optimizer]] = {}
OptimizerClass = type[Optimizer]


def implements(declaration: OptimizerDef) -> Callable[[OptimizerClass], OptimizerClass]:
    """Register the NumPy implementation of a declared optimizer."""

    def register(cls: OptimizerClass) -> OptimizerClass:
        cls.declaration = declaration
        IMPLEMENTATIONS[declaration.name] = cls
        return cls

    return register


@implements(declared.SGD)
class SGD(Optimizer):
    """SGD with optional (Nesterov) momentum and dampening, as torch.optim.SGD."""

    slots = ("m",)

    def _configure(self, hyper: dict[str, Any]) -> None:
        momentum, dampening, nesterov = hyper["momentum"], hyper["dampening"], hyper["nesterov"]
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov momentum requires momentum > 0 and dampening = 0")
        self.momentum, self.dampening, self.nesterov = float(momentum), float(dampening), nesterov

    def _update(self, name: str, p: Array, g: Array) -> None:
        """buf = mu*buf + (1-dampening)*g (buf = g at first); p -= lr * direction."""
        tmp = self._tmp(p)
        if self.momentum:
            buf = self.state["m"].get(name)
            if buf is None:
                buf = self.state["m"][name] = g.copy()
            else:
                buf *= self.momentum
                buf += np.multiply(g, 1 - self.dampening, out=tmp) if self.dampening else g
            if self.nesterov:
                g = np.add(g, np.multiply(buf, self.momentum, out=tmp), out=tmp)
            else:
                g = buf
        p -= np.multiply(g, self.lr, out=tmp)


@implements(declared.RMSPROP)
class RMSprop(Optimizer):
    """RMSprop (optionally centered, with momentum), as torch.optim.RMSprop."""

    slots = ("v", "g", "b")

    def _configure(self, hyper: dict[str, Any]) -> None:
        self.alpha, self.eps, self.momentum = float(hyper["alpha"]), float(hyper["eps"]), float(hyper["momentum"])
        self.centered = hyper["centered"]

    def _update(self, name: str, p: Array, g: Array) -> None:
        """v = a*v + (1-a)*g^2; p -= lr * g / (sqrt(v - mean_g^2) + eps)."""
        a = self.alpha
        tmp, denom = self._tmp(p), self._tmp(p, 1)
        v = self._slot("v", name, p)
        v *= a
        v += _scaled_square(g, 1 - a, tmp)
        if self.centered:
            ga = self._slot("g", name, p)
            ga *= a
            ga += np.multiply(g, 1 - a, out=tmp)
            np.subtract(v, np.multiply(ga, ga, out=tmp), out=denom)
            np.sqrt(denom, out=denom)
        else:
            np.sqrt(v, out=denom)
        denom += self.eps
        step = np.divide(g, denom, out=denom)
        if self.momentum > 0:
            buf = self._slot("b", name, p)
            buf *= self.momentum
            buf += step
            step = buf
        p -= np.multiply(step, self.lr, out=tmp)


@implements(declared.ADAGRAD)
class Adagrad(Optimizer):
    """Adagrad with learning-rate decay, as torch.optim.Adagrad."""

    slots = ("sum",)

    def _configure(self, hyper: dict[str, Any]) -> None:
        self.lr_decay, self.eps = float(hyper["lr_decay"]), float(hyper["eps"])
        self.initial_accumulator_value = float(hyper["initial_accumulator_value"])

    def _update(self, name: str, p: Array, g: Array) -> None:
        """sum += g^2; p -= lr/(1+(t-1)*decay) * g / (sqrt(sum) + eps)."""
        s = self._slot("sum", name, p, self.initial_accumulator_value)
        tmp = self._tmp(p)
        s += np.multiply(g, g, out=tmp)
        clr = self.lr / (1 + (self.t - 1) * self.lr_decay)
        denom = np.sqrt(s, out=tmp)
        denom += self.eps
        np.divide(g, denom, out=tmp)
        p -= np.multiply(tmp, clr, out=tmp)


@implements(declared.ADADELTA)
class Adadelta(Optimizer):
    """Adadelta, as torch.optim.Adadelta."""

    slots = ("v", "u")

    def _configure(self, hyper: dict[str, Any]) -> None:
        self.rho, self.eps = float(hyper["rho"]), float(hyper["eps"])

    def _update(self, name: str, p: Array, g: Array) -> None:
        """v = rho*v + (1-rho)*g^2; d = sqrt(u+eps)/sqrt(v+eps)*g; u = rho*u + (1-rho)*d^2."""
        rho = self.rho
        tmp, delta = self._tmp(p), self._tmp(p, 1)
        v, u = self._slot("v", name, p), self._slot("u", name, p)
        v *= rho
        v += _scaled_square(g, 1 - rho, tmp)
        np.sqrt(np.add(u, self.eps, out=delta), out=delta)
        delta /= np.sqrt(np.add(v, self.eps, out=tmp), out=tmp)
        delta *= g
        u *= rho
        u += _scaled_square(delta, 1 - rho, tmp)
        p -= np.multiply(delta, self.lr, out=tmp)


@implements(declared.ADAM)
class Adam(Optimizer):
    """Adam (optionally AMSGrad), as torch.optim.Adam."""

    slots = ("m", "v", "vmax")

    def _configure(self, hyper: dict[str, Any]) -> None:
        self.betas = (float(hyper["beta1"]), float(hyper["beta2"]))
        self.eps, self.amsgrad = float(hyper["eps"]), hyper["amsgrad"]

    def _update(self, name: str, p: Array, g: Array) -> None:
        """p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)."""
        b1, b2 = self.betas
        tmp = self._tmp(p)
        m, v = _moments(self, name, p, g, tmp)
        if self.amsgrad:
            vmax = self._slot("vmax", name, p)
            np.maximum(vmax, v, out=vmax)
            v = vmax
        bc1, bc2 = 1 - b1**self.t, 1 - b2**self.t
        denom = np.sqrt(v, out=tmp)
        denom *= 1 / math.sqrt(bc2)
        denom += self.eps
        np.divide(m, denom, out=tmp)
        p -= np.multiply(tmp, self.lr / bc1, out=tmp)


@implements(declared.ADAMW)
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW.

    The decay shrinks the parameter itself, p -= lr * weight_decay * p, before the Adam step;
    it never enters the moments (Adam's weight_decay adds to the gradient instead).
    """

    def _configure(self, hyper: dict[str, Any]) -> None:
        """weight_decay is applied decoupled, not through the gradient."""
        super()._configure(hyper)
        self.decoupled_decay, self.weight_decay = self.weight_decay, 0.0

    def _update(self, name: str, p: Array, g: Array) -> None:
        """p *= 1 - lr * weight_decay; then the Adam step."""
        if self.decoupled_decay:
            p *= 1 - self.lr * self.decoupled_decay
        super()._update(name, p, g)


@implements(declared.ADAMAX)
class Adamax(Optimizer):
    """Adamax (infinity-norm Adam), as torch.optim.Adamax."""

    slots = ("m", "u")

    def _configure(self, hyper: dict[str, Any]) -> None:
        self.betas = (float(hyper["beta1"]), float(hyper["beta2"]))
        self.eps = float(hyper["eps"])

    def _update(self, name: str, p: Array, g: Array) -> None:
        """u = max(b2*u, |g|+eps); p -= lr/(1-b1^t) * m / u."""
        b1, b2 = self.betas
        tmp = self._tmp(p)
        m, u = self._slot("m", name, p), self._slot("u", name, p)
        m *= b1
        m += np.multiply(g, 1 - b1, out=tmp)
        u *= b2
        np.maximum(u, np.add(np.abs(g, out=tmp), self.eps, out=tmp), out=u)
        np.divide(m, u, out=tmp)
        p -= np.multiply(tmp, self.lr / (1 - b1**self.t), out=tmp)


@implements(declared.NADAM)
class Nadam(Optimizer):
    """NAdam with momentum decay, as torch.optim.NAdam."""

    slots = ("m", "v")
    scalars = ("mu_product",)

    def _configure(self, hyper: dict[str, Any]) -> None:
        self.betas = (float(hyper["beta1"]), float(hyper["beta2"]))
        self.eps, self.momentum_decay = float(hyper["eps"]), float(hyper["momentum_decay"])
        self.mu_product = 1.0

    def _mu(self, t: int) -> float:
        """Momentum schedule mu_t = b1 * (1 - 0.5 * 0.96^(t * psi))."""
        return self.betas[0] * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def _begin_step(self) -> None:
        """Advance the product of momentum coefficients."""
        self.mu_product *= self._mu(self.t)

    def _update(self, name: str, p: Array, g: Array) -> None:
        """Nesterov-accelerated Adam step with the mu_t schedule."""
        b2 = self.betas[1]
        mu, mu_next = self._mu(self.t), self._mu(self.t + 1)
        tmp, denom = self._tmp(p), self._tmp(p, 1)
        m, v = _moments(self, name, p, g, tmp)
        np.sqrt(np.multiply(v, 1 / (1 - b2**self.t), out=denom), out=denom)
        denom += self.eps
        c_g = self.lr * (1 - mu) / (1 - self.mu_product)
        c_m = self.lr * mu_next / (1 - self.mu_product * mu_next)
        np.multiply(g, c_g, out=tmp)
        tmp += np.multiply(m, c_m, out=self._tmp(p, 2))
        p -= np.divide(tmp, denom, out=tmp)


@implements(declared.RADAM)
class RAdam(Optimizer):
    """Rectified Adam (Liu et al. 2019), as torch.optim.RAdam: Adam's adaptive step scaled by a rectification
    term once the variance of the adaptive rate is tractable (rho_t > 5), plain bias-corrected momentum before."""

    slots = ("m", "v")

    def _configure(self, hyper: dict[str, Any]) -> None:
        self.betas = (float(hyper["beta1"]), float(hyper["beta2"]))
        self.eps = float(hyper["eps"])

    def _update(self, name: str, p: Array, g: Array) -> None:
        """p -= lr * m_hat * (r_t * sqrt(bc2) / (sqrt(v) + eps) once rho_t > 5, else 1)."""
        b1, b2 = self.betas
        tmp, denom = self._tmp(p), self._tmp(p, 1)
        m, v = _moments(self, name, p, g, tmp)
        bc1, bc2 = 1 - b1**self.t, 1 - b2**self.t
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * self.t * b2**self.t / bc2
        np.multiply(m, self.lr / bc1, out=tmp)
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            np.sqrt(v, out=denom)
            denom += self.eps
            tmp /= denom
            tmp *= rect * math.sqrt(bc2)
        p -= tmp


def _scaled_square(g: Array, scale: float, out: Array) -> Array:
    """out = scale * g * g."""
    np.multiply(g, g, out=out)
    out *= scale
    return out


def _moments(opt: Adam | Nadam | RAdam, name: str, p: Array, g: Array, tmp: Array) -> tuple[Array, Array]:
    """Update Adam-style first/second moments in place; returns (m, v)."""
    b1, b2 = opt.betas
    m, v = opt._slot("m", name, p), opt._slot("v", name, p)
    m *= b1
    m += np.multiply(g, 1 - b1, out=tmp)
    v *= b2
    v += _scaled_square(g, 1 - b2, tmp)
    return m, v


def make_optimizer(name: str, **kwargs: Any) -> Optimizer:
    """Build an optimizer by (case-insensitive) name, validating the keyword arguments."""
    key = name.lower()
    if key not in IMPLEMENTATIONS:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(IMPLEMENTATIONS)}")
    return IMPLEMENTATIONS[key](**kwargs)

"""Compare netdsl NumPy kernels with PyTorch CPU (prints ratios; no asserts).

Usage: ``python bench/kernels_vs_torch.py [--threads 2] [--batch 64] [--steps 20]``.
ratio = torch_time / numpy_time, so a ratio > 1 means NumPy is faster.  Each
side runs in its own subprocess, so that the OpenBLAS and OpenMP thread pools
never spin against each other, and torch is only imported by the torch side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from netdsl.backends.numpy.kernels import conv_output_size

ROOT = Path(__file__).resolve().parents[1]

Step = Callable[[], object]


def _parse() -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--rounds", type=int, default=3, help="alternate the sides this many times and keep each side's best"
    )
    ap.add_argument("--no-ops", action="store_true", help="only time the full training step")
    ap.add_argument("--side", choices=("numpy", "torch", "torch_cl"), help=argparse.SUPPRESS)
    return ap.parse_args()


def timeit(fn: Step, number: int, repeats: int) -> float:
    """Best mean seconds per call over several repeats (after two warm-up calls)."""
    fn()
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


# ---------------------------------------------------------------------------
# benchmark cases: each returns a zero-argument step for the requested side
# ---------------------------------------------------------------------------


def conv_case(side: str, n: int, h: int, c: int, o: int, k: int, s: int, p: int) -> Step:
    """Conv forward + backward (dx, dw, db)."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, h, h, c), dtype=np.float32)
    w = rng.standard_normal((o, c, k, k), dtype=np.float32) * 0.1
    b = np.zeros(o, np.float32)
    ho = conv_output_size(h, k, s, p, p)
    dy = rng.standard_normal((n, ho, ho, o), dtype=np.float32)
    if side == "numpy":
        from netdsl.backends.numpy import kernels as K

        def step() -> None:
            _, cache = K.conv2d_forward(x, w, b, (s, s), (p, p, p, p), (1, 1), 1)
            K.conv2d_backward(dy, cache)

        return step
    torch, fmt = _torch(side)
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).to(memory_format=fmt)
    xt.requires_grad_(True)
    wt = torch.from_numpy(w).to(memory_format=fmt).requires_grad_(True)
    bt = torch.from_numpy(b).requires_grad_(True)
    dyt = torch.from_numpy(dy.transpose(0, 3, 1, 2).copy()).to(memory_format=fmt)

    def tstep() -> None:
        torch.nn.functional.conv2d(xt, wt, bt, stride=s, padding=p).backward(dyt)

    return tstep


def gemm_case(side: str, m: int, k: int, n: int) -> Step:
    """A plain float32 matrix product (M, K) @ (K, N): the BLAS rate on its own."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), np.float32)
    if side == "numpy":
        return lambda: np.matmul(a, b, out=out)
    torch, _ = _torch(side)
    at, bt, ot = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(out)
    return lambda: torch.matmul(at, bt, out=ot)


def conv_flops(n: int, h: int, c: int, o: int, k: int, s: int, p: int) -> int:
    """Floating-point operations of a conv's forward, weight and input gradients (3 products)."""
    ho = conv_output_size(h, k, s, p, p)
    return 3 * 2 * n * ho * ho * o * c * k * k


def maxpool_case(side: str, n: int, h: int, c: int) -> Step:
    """2x2 / stride 2 max pool forward + backward."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, h, h, c), dtype=np.float32)
    dy = rng.standard_normal((n, h // 2, h // 2, c), dtype=np.float32)
    if side == "numpy":
        from netdsl.backends.numpy import kernels as K

        def step() -> None:
            _, cache = K.maxpool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
            K.maxpool2d_backward(dy, cache)

        return step
    torch, fmt = _torch(side)
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).to(memory_format=fmt)
    xt.requires_grad_(True)
    dyt = torch.from_numpy(dy.transpose(0, 3, 1, 2).copy()).to(memory_format=fmt)

    def tstep() -> None:
        torch.nn.functional.max_pool2d(xt, 2).backward(dyt)

    return tstep


def fc_case(side: str, n: int, k: int, u: int) -> Step:
    """Dense forward + backward."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, k), dtype=np.float32)
    w = rng.standard_normal((u, k), dtype=np.float32)
    b = np.zeros(u, np.float32)
    dy = rng.standard_normal((n, u), dtype=np.float32)
    if side == "numpy":
        from netdsl.backends.numpy import kernels as K

        def step() -> None:
            _, cache = K.fc_forward(x, w, b)
            K.fc_backward(dy, cache)

        return step
    torch, _ = _torch(side)
    xt, wt, bt = (torch.from_numpy(a).requires_grad_(True) for a in (x, w, b))
    dyt = torch.from_numpy(dy)

    def tstep() -> None:
        torch.nn.functional.linear(xt, wt, bt).backward(dyt)

    return tstep


def relu_case(side: str, shape: tuple[int, ...]) -> Step:
    """ReLU forward + backward."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    dy = rng.standard_normal(shape, dtype=np.float32)
    if side == "numpy":
        from netdsl.backends.numpy import kernels as K

        def step() -> None:
            _, cache = K.relu_forward(x)
            K.relu_backward(dy, cache)

        return step
    torch, _ = _torch(side)
    xt = torch.from_numpy(x).requires_grad_(True)
    dyt = torch.from_numpy(dy)

    def tstep() -> None:
        torch.relu(xt).backward(dyt)

    return tstep


def _torch(side: str) -> tuple[object, object]:
    """Import torch (torch side only) and pick the memory format."""
    import torch

    fmt = torch.channels_last if side == "torch_cl" else torch.contiguous_format
    return torch, fmt


# ---------------------------------------------------------------------------
# Keras MNIST CNN training step
# ---------------------------------------------------------------------------


def mnist_case(side: str, batch: int) -> Step:
    """One SGD-momentum step of conv(32,5)-pool-conv(64,5)-pool-fc(1024)-fc(10)."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    return _numpy_mnist(x, y) if side == "numpy" else _torch_mnist(side, x, y)


def _numpy_mnist(x: object, y: object) -> Step:
    """The MNIST step with the NumPy kernels."""
    import numpy as np

    from netdsl.backends.numpy import kernels as K
    from netdsl.backends.numpy import losses as L
    from netdsl.backends.numpy import optimizers as O
    from netdsl.backends.numpy.init import init_weight

    rng = np.random.default_rng(0)
    shapes = {"c1": (32, 1, 5, 5), "c2": (64, 32, 5, 5), "f1": (1024, 3136), "f2": (10, 1024)}
    p: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        p[f"{name}.weight"] = init_weight(shape, rng, "glorot_uniform", np.float32)
        p[f"{name}.bias"] = np.zeros(shape[0], np.float32)
    opt = O.SGD(lr=0.01, momentum=0.9)
    same, nopad = (2, 2, 2, 2), (0, 0, 0, 0)

    def step() -> float:
        a1, c1 = K.conv2d_forward(x, p["c1.weight"], p["c1.bias"], (1, 1), same, (1, 1), 1)
        r1, cr1 = K.relu_forward(a1)
        m1, cm1 = K.maxpool2d_forward(r1, (2, 2), (2, 2), nopad)
        a2, c2 = K.conv2d_forward(m1, p["c2.weight"], p["c2.bias"], (1, 1), same, (1, 1), 1)
        r2, cr2 = K.relu_forward(a2)
        m2, cm2 = K.maxpool2d_forward(r2, (2, 2), (2, 2), nopad)
        fl, cf = K.flatten_forward(m2)
        h1, ch1 = K.fc_forward(fl, p["f1.weight"], p["f1.bias"])
        r3, cr3 = K.relu_forward(h1)
        out, co = K.fc_forward(r3, p["f2.weight"], p["f2.bias"])
        loss, d = L.cross_entropy_from_logits(out, y)
        g: dict[str, np.ndarray] = {}
        d, g["f2.weight"], g["f2.bias"] = K.fc_backward(d, co)
        d = K.relu_backward(d, cr3)
        d, g["f1.weight"], g["f1.bias"] = K.fc_backward(d, ch1)
        d = K.flatten_backward(d, cf)
        d = K.maxpool2d_backward(d, cm2)
        d = K.relu_backward(d, cr2)
        d, g["c2.weight"], g["c2.bias"] = K.conv2d_backward(d, c2)
        d = K.maxpool2d_backward(d, cm1)
        d = K.relu_backward(d, cr1)
        _, g["c1.weight"], g["c1.bias"] = K.conv2d_backward(d, c1, need_dx=False)
        opt.step(p, g)
        return loss

    return step


def _torch_mnist(side: str, x: object, y: object) -> Step:
    """The same step in PyTorch (NCHW or channels_last)."""
    torch, fmt = _torch(side)
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3136, 1024),
        nn.ReLU(),
        nn.Linear(1024, 10),
    )
    net = net.to(memory_format=fmt)
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).to(memory_format=fmt)
    yt = torch.from_numpy(y.astype("int64"))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def step() -> float:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(xt), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def cases(args: argparse.Namespace) -> dict[str, tuple[Callable[..., Step], tuple, int]]:
    """Name -> (case factory, its arguments after ``side``, calls per repeat)."""
    n, k = args.batch, args.steps
    out: dict[str, tuple[Callable[..., Step], tuple, int]] = {}
    if not args.no_ops:
        for spec in [
            (28, 1, 32, 5, 1, 2),
            (14, 32, 64, 5, 1, 2),
            (32, 32, 64, 3, 1, 1),
            (32, 32, 64, 3, 2, 1),
            (16, 64, 128, 1, 1, 0),
            (32, 32, 32, 3, 1, 0),
        ]:
            h, c, o, kk, s, p = spec
            out[f"conv fwd+bwd {(n, h, h, c)} {o}x{kk}x{kk} s{s} p{p}"] = (conv_case, (n, *spec), max(1, k // 4))
        for m, kk, u in [(n * 14 * 14, 32 * 25, 64), (n * 30 * 30, 32 * 9, 32)]:
            out[f"gemm ({m}, {kk}) @ ({kk}, {u})"] = (gemm_case, (m, kk, u), max(1, k // 4))
        out[f"maxpool2 fwd+bwd {(n, 28, 28, 32)}"] = (maxpool_case, (n, 28, 32), k)
        out[f"fc fwd+bwd {(n, 3136)}->1024"] = (fc_case, (n, 3136, 1024), k)
        out[f"relu fwd+bwd {(n, 28, 28, 32)}"] = (relu_case, ((n, 28, 28, 32),), k)
    out[f"MNIST CNN train step, batch {n}"] = (mnist_case, (n,), k)
    return out


def case_flops(factory: Callable[..., Step], case_args: tuple) -> int | None:
    """Floating-point operations of a conv or gemm case (None for the memory-bound ones)."""
    if factory is conv_case:
        return conv_flops(*case_args)
    if factory is gemm_case:
        m, k, n = case_args
        return 2 * m * k * n
    return None


def run_side(args: argparse.Namespace) -> None:
    """Child process: time every case for one side and print JSON."""
    if args.side != "numpy":
        import torch

        torch.set_num_threads(args.threads)
    res = {name: timeit(fn(args.side, *a), num, args.repeats) for name, (fn, a, num) in cases(args).items()}
    print(json.dumps(res))


def main() -> None:
    """Parent process: run each side in a subprocess and print the ratios."""
    args = _parse()
    if args.side:
        run_side(args)
        return
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    results: dict[str, dict[str, float]] = {}
    for _ in range(args.rounds):
        for side in ("numpy", "torch", "torch_cl"):
            cmd = [sys.executable, __file__, "--side", side, *sys.argv[1:]]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            new = json.loads(done.stdout.strip().splitlines()[-1])
            old = results.setdefault(side, new)
            for k, v in new.items():
                old[k] = min(old[k], v)
    print(
        f"threads={args.threads} batch={args.batch} (best of {args.rounds} alternating rounds)"
        "   ratio = torch time / numpy time; CL = torch channels_last"
    )
    print(
        f"{'case':<46s}{'numpy ms':>9s}{'torch ms':>9s}{'ratio':>7s}{'CL ms':>8s}{'ratio':>7s}"
        "   GFLOP/s numpy, torch, CL"
    )
    table = cases(args)
    for name, t_np in results["numpy"].items():
        t_t, t_cl = results["torch"][name], results["torch_cl"][name]
        flops = case_flops(*table[name][:2])
        rates = "   " + ", ".join(f"{flops / t / 1e9:.0f}" for t in (t_np, t_t, t_cl)) if flops else ""
        print(
            f"{name:<46s}{t_np * 1e3:9.2f}{t_t * 1e3:9.2f}{t_t / t_np:7.2f}{t_cl * 1e3:8.2f}{t_cl / t_np:7.2f}{rates}"
        )
    t_np = results["numpy"][f"MNIST CNN train step, batch {args.batch}"]
    print(f"numpy MNIST CNN: {args.batch / t_np:.0f} images/s")


if __name__ == "__main__":
    main()

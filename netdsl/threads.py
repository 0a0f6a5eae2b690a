"""`--threads N` for train, evaluate and run: the BLAS thread pools (threadpoolctl) and, through
netdsl.backends.onnx.runtime, onnxruntime's intra-op threads. threadpoolctl is imported only when N is given."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def limit_threads(threads: int | None) -> Iterator[None]:
    """Run the body with at most `threads` BLAS threads; None leaves the libraries' defaults."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="blas"):
        yield


def blas_threads() -> list[int]:
    """The thread count of every BLAS loaded in this process (for tests and reports)."""
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]

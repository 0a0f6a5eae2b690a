"""--threads N: the BLAS pools and onnxruntime's intra-op threads."""

from __future__ import annotations

from pathlib import Path

import pytest

import netdsl
import netdsl.cli.train
from netdsl import cli
from netdsl.threads import blas_threads, limit_threads


def test_limit_threads_sets_and_restores_the_blas_pools() -> None:
    import numpy as np

    np.ones((4, 4)) @ np.ones((4, 4))  # the BLAS is loaded
    before = blas_threads()
    assert before
    with limit_threads(1):
        assert set(blas_threads()) == {1}
    assert blas_threads() == before
    with limit_threads(None):
        assert blas_threads() == before


def test_the_threads_flag_reaches_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    monkeypatch.setattr(netdsl.cli.train, "cmd_evaluate", lambda args: seen.append(blas_threads()) or 0)
    assert cli.main(["evaluate", "x.net", "--weights", "w.npz", "--threads", "1"]) == 0
    assert seen and set(seen[0]) == {1}


@pytest.mark.parametrize("threads", ["0", "two"])
def test_a_bad_thread_count_is_a_usage_error(threads: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", "x.net", "--threads", threads])
    assert exit_.value.code == 2


def test_onnxruntime_sessions_get_the_thread_count(tmp_path: Path) -> None:
    from netdsl.backends.onnx.runtime import Session

    netdsl.loads("input(4) - fc(2)").export_onnx(tmp_path / "m.onnx")
    session = Session(tmp_path / "m.onnx", provider="cpu", threads=1)
    assert session._session.get_session_options().intra_op_num_threads == 1
    assert Session(tmp_path / "m.onnx", provider="cpu")._session.get_session_options().intra_op_num_threads == 0

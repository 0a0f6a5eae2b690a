"""Token inputs and embedding (LANGUAGE.md section 10): shapes and parameters as nn.Embedding's, errors, the
Kim-style text CNN of LANGUAGE.md checking and training a step, and token ids checked in data."""

from __future__ import annotations

import numpy as np
import pytest

import netdsl
from netdsl.data import DataError
from netdsl.data.tokens import check_token_ids
from tests.helpers import graph_of, only_error

KIM = """network sentiment {
    input(80, tokens=20000)
    embedding(20000, 128)
    concat {
        conv(64, 2) - relu - globalmaxpool
      | conv(64, 3) - relu - globalmaxpool
    }
    output(5)
}"""


def test_embedding_gives_channels_of_the_sequence_or_a_picture() -> None:
    graph = graph_of("input(80, tokens=20000) - embedding(20000, 128)")
    assert graph["embedding_1"].shape == (128, 80)
    assert graph["embedding_1"].params == {"weight": (20000, 128)}
    picture = graph_of("input(80, tokens=100) - embedding(100, 16, as_image=true) - conv(10, 3x16)")
    assert picture["embedding_1"].shape == (1, 80, 16)
    assert picture["conv_1"].shape == (10, 78, 1)


def test_the_kim_text_cnn_checks_and_trains_a_step() -> None:
    model = netdsl.loads(KIM)
    graph = model.graph
    assert graph["concat_1"].shape == (128, 1)
    assert graph["conv_1"].params["weight"] == (64, 128, 2) and graph["conv_2"].params["weight"] == (64, 128, 3)
    assert model.totals.trainable == 20000 * 128 + (64 * 128 * 2 + 64) + (64 * 128 * 3 + 64) + 128 * 5 + 5
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 20000, (8, 80)), rng.integers(0, 5, 8)
    before = {k: v.copy() for k, v in model.executor.state_dict().items()}
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    after = model.executor.state_dict()
    rows = np.unique(x)
    assert not np.array_equal(after["embedding_1.weight"][rows], before["embedding_1.weight"][rows])
    unused = np.setdiff1d(np.arange(20000), rows)[:50]
    assert np.array_equal(after["embedding_1.weight"][unused], before["embedding_1.weight"][unused])


def test_figures_match_pytorch() -> None:
    torch = pytest.importorskip("torch", reason="nn.Embedding gives the reference parameter count")
    assert torch.nn.Embedding(20000, 128).weight.numel() == netdsl.loads(KIM).graph["embedding_1"].param_count


@pytest.mark.parametrize(
    "text,message",
    [
        ("input(3, 8, 8) - embedding(10, 4)", "needs a sequence of them, input(L, tokens=10)"),
        ("input(3, 8, tokens=10) - embedding(10, 4)", "give its length alone, input(L, tokens=10)"),
        ("input(8, tokens=0) - embedding(10, 4)", "tokens must be at least 1"),
    ],
)
def test_errors(text: str, message: str) -> None:
    assert message in only_error(text).message


def test_ids_outside_the_vocabulary_name_the_sample_and_the_value() -> None:
    x = np.zeros((4, 6), np.int64)
    x[3, 2] = 12
    with pytest.raises(
        DataError,
        match=r"words.npz: sample 3 has token id 12 at position 2, outside the "
        r"vocabulary 0..9",
    ):
        check_token_ids(x, 10, "words.npz")
    with pytest.raises(DataError, match="sample 0 has token id 1.5"):
        check_token_ids(np.full((1, 6), 1.5), 10, "x")
    model = netdsl.loads("network t { input(6, tokens=10) - embedding(10, 2) - globalmaxpool - output(2) }")
    with pytest.raises(DataError, match="x: sample 3 has token id 12"):
        model.predict(x)
    assert model.predict(x[:3]).shape == (3, 2)


@pytest.mark.parametrize(
    "text,message",
    [
        ("input(8) - embedding(10, 4)", "does not say they are"),
        ("input(8, tokens=20) - embedding(10, 4)", "ids 10..19 have no row"),
        ("input(8, tokens=10) - fc(8) - embedding(10, 4)", "embedding_1 reads fc_1's values as token ids"),
    ],
)
def test_lint_on_ids_the_table_may_not_hold(text: str, message: str) -> None:
    from tests.helpers import warnings

    assert any(message in w.message for w in warnings(text)), [w.message for w in warnings(text)]
    assert not [w for w in warnings("input(8, tokens=10) - embedding(10, 4)") if "token" in w.message]

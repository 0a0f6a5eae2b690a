"""The embedding kernel: its reference, torch.nn.functional.embedding, finite differences of the table's
gradient, and token ids that are not ids."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check, rel_err

from netdsl import reference as R
from netdsl.backends.numpy.ops import embedding as K

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("as_image", [False, True])
def test_embedding_kernel(as_image: bool) -> None:
    ids = RNG.integers(0, 7, (3, 5)).astype(np.float64)
    ids[0, :3] = 2  # a repeated id: its row's gradient sums every position
    weight = RNG.standard_normal((7, 4))
    y, cache = K.embedding_forward(ids, weight, as_image)
    expected = R.embedding(ids, weight, as_image)  # channels first
    assert y.shape == ((3, 5, 4, 1) if as_image else (3, 5, 4))
    assert rel_err(np.moveaxis(y, -1, 1), expected) == 0
    dy = RNG.standard_normal(y.shape)
    check(lambda: K.embedding_forward(ids, weight, as_image)[0], dy, weight, K.embedding_backward(dy, cache))


def test_embedding_matches_torch() -> None:
    torch = pytest.importorskip("torch", reason="torch.nn.functional.embedding is the reference")
    ids = RNG.integers(0, 9, (2, 6))
    weight = RNG.standard_normal((9, 3))
    expected = torch.nn.functional.embedding(torch.from_numpy(ids), torch.from_numpy(weight)).numpy()
    assert rel_err(R.embedding(ids.astype(np.float32), weight), expected.transpose(0, 2, 1)) == 0


@pytest.mark.parametrize("value", [7.0, -1.0, 2.5])
def test_ids_outside_the_vocabulary_name_the_sample_and_value(value: float) -> None:
    ids = np.zeros((3, 4))
    ids[2, 1] = value
    with pytest.raises(ValueError, match=f"sample 2 has token id {value:g} at position 1"):
        K.embedding_forward(ids, np.ones((7, 2)), False)

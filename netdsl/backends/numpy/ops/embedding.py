"""embedding on NumPy: a row of the table per token id, gathered forward and scattered back."""

from __future__ import annotations

from typing import Any

import numpy as np

from netdsl.backends.numpy.registry import Ctx, kernel
from netdsl.ir.graph import Node
from netdsl.ops.embedding import EMBEDDING

Array = np.ndarray
Cache = dict[str, Any]


def token_ids(x: Array, vocabulary: int) -> Array:
    """x's values as int64 ids; ValueError naming the first sample and value that is not an id below
    `vocabulary`."""
    ids = x.astype(np.int64)
    bad = (ids != x) | (ids < 0) | (ids >= vocabulary)
    if bad.any():
        sample, position = (int(i) for i in np.argwhere(bad)[0])
        value = float(x[sample, position])
        raise ValueError(
            f"sample {sample} has token id {value:g} at position {position}, "
            f"not an integer in 0..{vocabulary - 1} (the vocabulary of {vocabulary})"
        )
    return ids


def embedding_forward(x: Array, weight: Array, as_image: bool) -> tuple[Array, Cache]:
    """(N, L) token ids -> (N, L, D): channels-last D x L, which is the table's rows in order; as an
    image, (N, L, D, 1): one channel of L x D."""
    ids = token_ids(x, len(weight))
    y = weight[ids]
    return (y[..., None] if as_image else y), {"ids": ids, "vocabulary": len(weight)}


def embedding_backward(dy: Array, cache: Cache) -> Array:
    """The table's gradient: each row sums the gradients at the positions of its id."""
    ids = cache["ids"]
    rows = dy.reshape(ids.size, -1)
    dweight = np.zeros((cache["vocabulary"], rows.shape[1]), dy.dtype)
    np.add.at(dweight, ids.reshape(-1), rows)
    return dweight


@kernel(EMBEDDING)
class Embedding:
    @staticmethod
    def forward(node: Node, xs: list[Array], ctx: Ctx):
        return embedding_forward(xs[0], ctx.param(node, "weight"), node.attrs["as_image"])

    @staticmethod
    def backward(node: Node, dy: Array, cache, need_dx: bool):
        """Token ids have no gradient."""
        return [None], {"weight": embedding_backward(dy, cache)}

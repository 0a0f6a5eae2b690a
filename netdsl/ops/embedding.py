"""Token inputs and embedding (LANGUAGE.md section 10): `input(L, tokens=V)` is a sequence of L integer ids
below V; `embedding(V, D)` looks each id up in a V x D table (PyTorch's nn.Embedding) and gives D channels of
length L, or with `as_image=true` the 1 x L x D picture of the sentence."""

from __future__ import annotations

from netdsl.ops.base import Arg, Input, OpDef, ParamSpec, Shape, ShapeError, boolean, fmt_shape, positive_int


def _embedding_infer(attrs: dict, ins: list[Input]) -> tuple[Shape, dict]:
    shape = ins[0].shape
    if len(shape) != 1:
        raise ShapeError(
            f"looks up token ids and needs a sequence of them, input(L, tokens={attrs['vocabulary']}), "
            f"but {ins[0].name} gives {fmt_shape(shape)}"
        )
    length, width = shape[0], attrs["dim"]
    return ((1, length, width) if attrs["as_image"] else (width, length)), {}


def _embedding_tensors(attrs: dict, ins: list[Input]) -> dict[str, ParamSpec]:
    """The table, one row of `dim` values per token id (nn.Embedding's weight)."""
    return {"weight": ParamSpec((attrs["vocabulary"], attrs["dim"]))}


EMBEDDING = OpDef(
    name="embedding",
    aliases=("embed",),
    args=(Arg("vocabulary", positive_int()), Arg("dim", positive_int()), Arg("as_image", boolean, False)),
    infer=_embedding_infer,
    tensors=_embedding_tensors,
    receptive="none",
    shown=("vocabulary", "dim", "as_image"),
    traits=frozenset({"lookup"}),
)

OPS = (EMBEDDING,)

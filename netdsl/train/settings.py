"""Training facts that the front end, the NumPy trainer and the generated train script share
(a backend-neutral home, so that no backend imports the front end)."""

from __future__ import annotations

from netdsl.ops.activation import SIGMOID, SOFTMAX

# The final activation each loss absorbs: training starts from the scores before it (stable and exact).
FUSED_HEADS = {"cross_entropy": SOFTMAX.name, "binary_cross_entropy": SIGMOID.name}

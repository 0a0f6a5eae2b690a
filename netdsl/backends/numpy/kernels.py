"""The NumPy backend's array kernels in one namespace (for tests and benchmarks); they live by op family
in netdsl/backends/numpy/ops/. Layout: activations NHWC `(N, H, W, C)` or `(N, K)`; conv weights OIHW,
fc weights `(units, in)`; `pads=(top, left, bottom, right)`. Each op `xxx` is `xxx_forward(...) -> (y, cache)`
and `xxx_backward(dy, cache) -> dx` (or a tuple with parameter gradients). Conv's tuning switches
(CONV_LAYOUT, ...) are globals of netdsl.backends.numpy.ops.conv: set them there."""

from netdsl.backends.numpy.buffers import clear_buffers
from netdsl.backends.numpy.ops.activation import (
    leakyrelu_backward,
    leakyrelu_forward,
    relu_backward,
    relu_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    swish_backward,
    swish_forward,
    tanh_backward,
    tanh_forward,
)
from netdsl.backends.numpy.ops.conv import conv2d_backward, conv2d_forward
from netdsl.backends.numpy.ops.core import (
    dropout_backward,
    dropout_forward,
    fc_backward,
    fc_forward,
    flatten_backward,
    flatten_forward,
)
from netdsl.backends.numpy.ops.merge import (
    add_backward,
    add_forward,
    concat_backward,
    concat_forward,
    mul_backward,
    mul_forward,
)
from netdsl.backends.numpy.ops.normalization import batchnorm_backward, batchnorm_forward, lrn_backward, lrn_forward
from netdsl.backends.numpy.ops.pool import (
    avgpool2d_backward,
    avgpool2d_forward,
    global_avgpool_backward,
    global_avgpool_forward,
    global_maxpool_backward,
    global_maxpool_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)
from netdsl.backends.numpy.window import conv_output_size

__all__ = [
    "add_backward",
    "add_forward",
    "avgpool2d_backward",
    "avgpool2d_forward",
    "batchnorm_backward",
    "batchnorm_forward",
    "clear_buffers",
    "concat_backward",
    "concat_forward",
    "conv2d_backward",
    "conv2d_forward",
    "conv_output_size",
    "dropout_backward",
    "dropout_forward",
    "fc_backward",
    "fc_forward",
    "flatten_backward",
    "flatten_forward",
    "global_avgpool_backward",
    "global_avgpool_forward",
    "global_maxpool_backward",
    "global_maxpool_forward",
    "leakyrelu_backward",
    "leakyrelu_forward",
    "lrn_backward",
    "lrn_forward",
    "maxpool2d_backward",
    "maxpool2d_forward",
    "mul_backward",
    "mul_forward",
    "relu_backward",
    "relu_forward",
    "sigmoid",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_backward",
    "softmax_forward",
    "swish_backward",
    "swish_forward",
    "tanh_backward",
    "tanh_forward",
]

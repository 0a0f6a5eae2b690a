"""NCHW NumPy references of the ops: pure, self-contained functions (numpy and math only) that are the
oracle of the fast NHWC kernels and the helpers of the generated NumPy module. Batch first, channels on
axis 1 (images N x C x H x W, vectors N x C)."""

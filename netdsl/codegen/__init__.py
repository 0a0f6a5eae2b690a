"""Code generation: jinja2 templates that turn a checked network into NumPy or PyTorch source."""

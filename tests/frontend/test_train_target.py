"""`target = labels | input` in the train section: mse by default for input, shapes checked and located."""

from __future__ import annotations

from helpers import compile_text, only_error

AUTOENCODER = """input(1, 8, 8) - conv(4, 3, pad=same) - relu - conv(1, 3, pad=same)
train {
    data = digits
    target = input
}
"""


def test_target_input_defaults_to_mse() -> None:
    compilation = compile_text(AUTOENCODER)
    assert compilation.ok
    config = compilation.networks[0].train
    assert (config.target, config.loss) == ("input", "mse")


def test_an_explicit_loss_stays() -> None:
    config = (
        compile_text(AUTOENCODER.replace("target = input", "target = input\n    loss = binary_cross_entropy"))
        .networks[0]
        .train
    )
    assert config.loss == "binary_cross_entropy"


def test_labels_is_the_default() -> None:
    config = compile_text("input(4) - output(2)").networks[0].train
    assert (config.target, config.loss) == ("labels", "cross_entropy")


def test_output_shape_must_equal_input_shape() -> None:
    error = only_error(AUTOENCODER.replace("conv(1, 3, pad=same)", "conv(2, 3)"))
    assert (error.span.line, error.span.column) == (4, 5)
    assert "gives 2x6x6 for an input of 1x8x8" in error.message and "target = labels" in error.hint


def test_unknown_target_suggests() -> None:
    error = only_error(AUTOENCODER.replace("target = input", "target = inputs"))
    assert "target must be one of labels, input" in error.message and "input" in error.hint


def test_an_autoencoder_trains_on_its_input_without_labels() -> None:
    import numpy as np
    import pytest

    import netdsl

    model = netdsl.loads(AUTOENCODER.replace("data = digits", "data = digits\n    optimizer = adam(lr=0.01)"))
    x = np.random.default_rng(0).uniform(0, 1, (64, 1, 8, 8)).astype(np.float32)
    before, accuracy = model.evaluate(x, x)
    history = model.fit(x, epochs=5, batch_size=16, verbose=0)
    after, _ = model.evaluate(x, x)
    assert after < before / 2 and np.isnan(accuracy) and len(history.history["loss"]) == 5
    with pytest.raises(ValueError, match="needs targets"):
        netdsl.loads("input(4) - output(2)").fit(x[:, 0, 0, :4])

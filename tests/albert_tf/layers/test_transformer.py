"""AlbertTransformerLayer and activation_fn against NumPy; padding masks; config round trip."""

import keras
import numpy as np
import pytest

from albert_tf.config import ACTIVATIONS
from albert_tf.layers import AlbertTransformerLayer, activation_fn
from tests.helpers import layers as reference

H, N, I, T = 8, 2, 12, 6


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, T, H)).astype("float32")
    mask = np.array([[1] * T, [1, 1, 1, 1, 0, 0]], "int32")
    return x, mask


def _layer(hidden_act="gelu_new", **kwargs):
    layer = AlbertTransformerLayer(hidden_size=H, num_attention_heads=N, intermediate_size=I,
                                   hidden_act=hidden_act, **kwargs)
    layer(*_inputs())
    reference.redraw_weights(layer)
    return layer


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_numpy(name):
    x = np.linspace(-5, 5, 201)
    np.testing.assert_allclose(activation_fn(name)(x.astype("float32")), reference.ACTIVATIONS[name](x), atol=2e-6)


def test_gelu_forms_differ_and_unknown_names_are_refused():
    x = np.array([-2.0, 1.5], "float32")
    assert np.abs(np.asarray(activation_fn("gelu_new")(x)) - np.asarray(activation_fn("gelu_exact")(x))).max() > 1e-4
    with pytest.raises(ValueError, match="Unknown activation 'gelu_fast'.*gelu_exact"):
        activation_fn("gelu_fast")


@pytest.mark.parametrize("hidden_act", ["gelu_new", "gelu_exact", "relu"])
def test_matches_numpy_post_ln_layer(hidden_act):
    layer = _layer(hidden_act)
    x, mask = _inputs()
    expected = reference.transformer_layer(reference.weights_of(layer), x.astype("float64"), mask, N, hidden_act, 1e-12)
    out = np.asarray(layer(x, mask))
    assert out.shape == (2, T, H)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_padded_keys_do_not_reach_real_positions():
    layer = _layer()
    x, mask = _inputs()
    changed = x.copy()
    changed[1, 4:] = 100.0  # row 1's padding (mask 0)
    a, b = np.asarray(layer(x, mask)), np.asarray(layer(changed, mask))
    np.testing.assert_allclose(a[1, :4], b[1, :4], atol=1e-6)
    np.testing.assert_array_equal(a[0], b[0])
    # Without the mask the same change moves every position.
    ones = np.ones_like(mask)
    assert np.abs(np.asarray(layer(x, ones))[1, :4] - np.asarray(layer(changed, ones))[1, :4]).max() > 1e-2


def test_boolean_and_int_masks_agree():
    layer = _layer()
    x, mask = _inputs()
    np.testing.assert_array_equal(layer(x, mask), layer(x, mask.astype(bool)))


def test_dropout_only_in_training():
    layer = _layer(hidden_dropout=0.3, attention_dropout=0.3)
    x, mask = _inputs()
    np.testing.assert_array_equal(layer(x, mask), layer(x, mask, training=False))
    assert np.abs(np.asarray(layer(x, mask, training=True)) - np.asarray(layer(x, mask))).max() > 1e-3


def test_mixed_precision_computes_in_half_with_float32_variables():
    keras.config.set_dtype_policy("mixed_bfloat16")
    layer = AlbertTransformerLayer(hidden_size=H, num_attention_heads=N, intermediate_size=I)
    x, mask = _inputs()
    out = layer(x, mask)
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in layer.weights)


def test_config_round_trip():
    layer = _layer("relu", hidden_dropout=0.1, attention_dropout=0.2, initializer_range=0.05,
                   layer_norm_eps=1e-6, name="group_0_inner_0")
    assert layer.get_config()["hidden_act"] == "relu"
    reference.check_config_round_trip(layer, *_inputs())

"""AlbertEmbeddings and the backbone's factorized E -> H projection against NumPy."""

import keras
import numpy as np
import pytest

from albert_tf import AlbertBackbone
from albert_tf.layers import AlbertEmbeddings
from tests.helpers import layers as reference
from tests.helpers.models import TINY_CONFIG, random_batch

VOCAB, E, MAX_POSITIONS = 50, 6, 16


def _inputs(batch=2, seq_length=7, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, VOCAB, (batch, seq_length)).astype("int32"),
            rng.integers(0, 2, (batch, seq_length)).astype("int32"))


def _layer(**kwargs):
    layer = AlbertEmbeddings(vocab_size=VOCAB, embedding_size=E, max_position_embeddings=MAX_POSITIONS, **kwargs)
    layer(*_inputs())
    reference.redraw_weights(layer)
    return layer


def test_output_shape_is_e_wide_at_any_length():
    layer = _layer()
    for seq_length in (1, 7, MAX_POSITIONS):
        word_ids, type_ids = _inputs(seq_length=seq_length)
        assert tuple(layer(word_ids, type_ids).shape) == (2, seq_length, E)
    assert layer.compute_output_shape((2, 7)) == (2, 7, E)


def test_matches_numpy_sum_of_tables_then_layer_norm():
    layer = _layer()
    word_ids, type_ids = _inputs()
    expected = reference.embeddings(reference.weights_of(layer), word_ids, type_ids, 1e-12)
    np.testing.assert_allclose(layer(word_ids, type_ids), expected, atol=1e-5)


def test_position_and_type_change_the_embedding_of_one_token():
    layer = _layer()
    word_ids = np.full((1, 4), 7, "int32")
    out = np.asarray(layer(word_ids, np.array([[0, 0, 1, 1]], "int32")))[0]
    assert np.abs(out[0] - out[1]).max() > 1e-3  # positions 0 and 1, same type
    assert np.abs(out[1] - out[2]).max() > 1e-3  # type 0 vs 1 (and position)


def test_layer_norm_epsilon_is_1e_12():
    # Rows whose variance (~1e-9) is far below Keras' default epsilon (1e-3):
    # only the configured 1e-12 normalizes them to about unit variance.
    layer = _layer()
    for weight in layer.weights:
        if not weight.path.endswith(("gamma", "beta")):
            weight.assign(weight * 1e-4)
    layer.layer_norm.gamma.assign(np.ones(E, "float32"))
    layer.layer_norm.beta.assign(np.zeros(E, "float32"))
    word_ids, type_ids = _inputs()
    out = np.asarray(layer(word_ids, type_ids))
    assert out.std(axis=-1).min() > 0.99
    expected = reference.embeddings(reference.weights_of(layer), word_ids, type_ids, 1e-12)
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_dropout_only_in_training():
    layer = _layer(dropout=0.5)
    word_ids, type_ids = _inputs()
    np.testing.assert_array_equal(layer(word_ids, type_ids), layer(word_ids, type_ids, training=False))
    dropped = np.asarray(layer(word_ids, type_ids, training=True))
    assert 0.3 < (dropped == 0).mean() < 0.7


def test_config_round_trip():
    layer = _layer(dropout=0.1, type_vocab_size=3, initializer_range=0.05, layer_norm_eps=1e-6, name="embeddings")
    assert layer.get_config()["type_vocab_size"] == 3
    reference.check_config_round_trip(layer, *_inputs())


@pytest.mark.parametrize("always_project", [False, True])
def test_factorized_projection_e_to_h_matches_numpy(always_project):
    # E < H always projects; E == H projects only when asked (Hugging Face /
    # keras-hub checkpoints carry that Dense).
    config = TINY_CONFIG if not always_project else TINY_CONFIG.replace(
        embedding_size=TINY_CONFIG.hidden_size, always_project_embeddings=True)
    backbone = AlbertBackbone(config)
    reference.redraw_weights(backbone)
    projected = keras.Model(backbone.input, backbone.embedding_projection.output)
    batch = random_batch(config, batch_size=2, seq_length=6)
    w = reference.weights_of(backbone.embeddings)
    embedded = reference.embeddings(w, batch["input_word_ids"], batch["input_type_ids"], config.layer_norm_eps)
    kernel, bias = (np.asarray(v, "float64") for v in backbone.embedding_projection.weights)
    assert kernel.shape == (config.embedding_size, config.hidden_size)
    np.testing.assert_allclose(projected(batch), embedded @ kernel + bias, atol=1e-5)

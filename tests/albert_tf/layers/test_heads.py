"""AlbertMaskedLMHead against NumPy: gathered positions, tied output table, float32 logits."""

import keras
import numpy as np

from albert_tf.layers import AlbertMaskedLMHead
from tests.helpers import layers as reference

V, E, H, T = 40, 6, 10, 7
POSITIONS = np.array([[1, 4, 4], [0, 6, 2]], "int32")


def _sequence_output(seed=0):
    return np.random.default_rng(seed).standard_normal((2, T, H)).astype("float32")


def _head(**kwargs):
    word_embeddings = keras.layers.Embedding(V, E, name="word_embeddings")
    word_embeddings.build((None,))
    head = AlbertMaskedLMHead(word_embeddings, **kwargs)
    head(_sequence_output(), POSITIONS)
    reference.redraw_weights(head)
    return head


def test_matches_numpy_and_predicts_every_piece():
    for hidden_act in ("gelu_new", "gelu_exact"):
        head = _head(hidden_act=hidden_act)
        x = _sequence_output()
        logits = np.asarray(head(x, POSITIONS))
        assert logits.shape == (2, 3, V) and head.compute_output_shape(x.shape, POSITIONS.shape) == (2, 3, V)
        table = np.asarray(head.word_embeddings.embeddings, "float64")
        expected = reference.masked_lm_head(reference.weights_of(head), table, x.astype("float64"),
                                            POSITIONS, hidden_act, 1e-12)
        np.testing.assert_allclose(logits, expected, atol=1e-5)


def test_only_the_gathered_positions_matter():
    head = _head()
    x = _sequence_output()
    changed = x.copy()
    changed[0, [0, 2, 3, 5, 6]] = 50.0  # row 0 gathers positions 1 and 4 only
    a, b = np.asarray(head(x, POSITIONS)), np.asarray(head(changed, POSITIONS))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[0, 1], a[0, 2])  # the same position twice


def test_output_table_is_the_word_embedding_itself():
    head = _head()
    x = _sequence_output()
    before = np.asarray(head(x, POSITIONS))
    head.word_embeddings.embeddings.assign(head.word_embeddings.embeddings * 2.0)
    assert np.abs(np.asarray(head(x, POSITIONS)) - before).max() > 1e-3
    # The head's own weights: dense, LayerNorm and the output bias, no second [V, E] table.
    own = [w for w in head.weights if w.path.startswith(head.path + "/")]
    assert sorted(tuple(w.shape) for w in own) == sorted([(H, E), (E,), (E,), (E,), (V,)])


def test_logits_are_float32_under_mixed_precision():
    keras.config.set_dtype_policy("mixed_float16")
    word_embeddings = keras.layers.Embedding(V, E)
    word_embeddings.build((None,))
    logits = AlbertMaskedLMHead(word_embeddings)(_sequence_output(), POSITIONS)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"


def test_config_round_trip_with_the_owner_passing_the_embedding():
    head = _head(hidden_act="relu", initializer_range=0.05, layer_norm_eps=1e-6, name="mlm_head")
    config = head.get_config()
    assert "word_embeddings" not in config and config["hidden_act"] == "relu"
    reference.check_config_round_trip(
        head, _sequence_output(), POSITIONS,
        rebuild=lambda config: AlbertMaskedLMHead(head.word_embeddings, **config),
    )

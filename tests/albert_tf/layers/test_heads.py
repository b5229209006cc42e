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


def test_squad_v2_p_mask_is_the_original_rule():
    from albert_tf.layers import squad_v2_p_mask
    from tests.helpers.convert import gr_p_mask, make_batch

    batch = make_batch(vocab_size=100, batch_size=3, seq_length=12, seed=3)
    got = np.asarray(squad_v2_p_mask(batch["input_mask"], batch["input_type_ids"]))
    np.testing.assert_array_equal(got, gr_p_mask(batch))
    # Symbolic inputs of unknown length (a functional model) give the same.
    inputs = {k: keras.Input((None,), dtype="int32", name=k) for k in ("input_mask", "input_type_ids")}
    model = keras.Model(inputs, squad_v2_p_mask(inputs["input_mask"], inputs["input_type_ids"]))
    np.testing.assert_array_equal(np.asarray(model({k: batch[k] for k in inputs})), got)


def test_squad_v2_head_matches_the_original_computation_and_round_trips():
    from albert_tf.layers import AlbertSquadV2Head
    from tests.helpers.convert import squad_v2_reference, squad_v2_tensors

    hidden, batch_size, length = 16, 2, 9
    head = AlbertSquadV2Head(hidden, start_n_top=3, end_n_top=2, dropout=0.0)
    x = np.random.default_rng(4).standard_normal((batch_size, length, hidden)).astype("float32")
    p_mask = np.zeros((batch_size, length), "float32")
    p_mask[:, 1:3] = 1.0
    p_mask[1, -2:] = 1.0
    head(x, p_mask)
    tensors = squad_v2_tensors(hidden, seed=5)
    by_path = {
        "start_logits/dense/kernel": head.start_dense.kernel, "start_logits/dense/bias": head.start_dense.bias,
        "end_logits/dense_0/kernel": head.end_dense_0.kernel, "end_logits/dense_0/bias": head.end_dense_0.bias,
        "end_logits/LayerNorm/gamma": head.end_layer_norm.gamma, "end_logits/LayerNorm/beta": head.end_layer_norm.beta,
        "end_logits/dense_1/kernel": head.end_dense_1.kernel, "end_logits/dense_1/bias": head.end_dense_1.bias,
        "answer_class/dense_0/kernel": head.answer_dense_0.kernel,
        "answer_class/dense_0/bias": head.answer_dense_0.bias,
        "answer_class/dense_1/kernel": head.answer_dense_1.kernel,
    }
    assert len(head.weights) == len(by_path) == len(tensors)
    for name, variable in by_path.items():
        variable.assign(tensors[name])
    out = {k: np.asarray(v) for k, v in head(x, p_mask).items()}
    expected = squad_v2_reference(tensors, x, p_mask.astype("float64"), 3, 2)
    for key, value in expected.items():
        np.testing.assert_allclose(out[key], value, atol=1e-5, err_msg=key)
    assert out["end_top_index"].dtype == np.int32 and out["cls_logits"].shape == (batch_size,)
    # Masked positions are never kept.
    assert not np.isin(out["start_top_index"][1], [1, 2, length - 2, length - 1]).any()
    clone = AlbertSquadV2Head.from_config(head.get_config())
    assert (clone.start_n_top, clone.end_n_top, clone.hidden_size) == (3, 2, hidden)

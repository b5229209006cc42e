"""Every task model: outputs, `.keras` round trip, `fit` (also XLA), mixed precision."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_tf import (
    PRESETS,
    AlbertBackbone,
    AlbertClassifier,
    AlbertMultipleChoice,
    AlbertPretrainer,
    AlbertSpanQA,
    AlbertTokenClassifier,
)
from tests.helpers.models import random_batch

CONFIG = PRESETS["albert_tiny"].replace(vocab_size=300, hidden_dropout_prob=0.1)


def _case(name):
    """(model, inputs, targets, loss) for task `name`, batch 4, length 8."""
    backbone = AlbertBackbone(CONFIG)
    x = random_batch(CONFIG, batch_size=4, seq_length=8)
    rng = np.random.default_rng(0)
    sparse_ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if name == "classifier":
        return AlbertClassifier(backbone, 3), x, rng.integers(0, 3, 4), sparse_ce
    if name == "regressor":
        model = AlbertClassifier(backbone, 1, problem_type="regression")
        return model, x, rng.normal(size=(4, 1)).astype("float32"), "mse"
    if name == "token_classifier":
        return AlbertTokenClassifier(backbone, 5), x, rng.integers(0, 5, (4, 8)), sparse_ce
    if name == "span_qa":
        y = {"start_logits": rng.integers(0, 8, 4), "end_logits": rng.integers(0, 8, 4)}
        return AlbertSpanQA(backbone), x, y, {"start_logits": sparse_ce, "end_logits": sparse_ce}
    if name == "multiple_choice":
        x = {k: np.stack([v, v[::-1], v]) .transpose(1, 0, 2).copy() for k, v in x.items()}
        return AlbertMultipleChoice(backbone), x, rng.integers(0, 3, 4), sparse_ce
    if name == "pretrainer":
        x = dict(x, masked_lm_positions=rng.integers(1, 3, (4, 2)).astype("int32"))
        y = {"mlm_logits": rng.integers(5, 300, (4, 2)), "sop_logits": rng.integers(0, 2, 4)}
        return AlbertPretrainer(backbone), x, y, {"mlm_logits": sparse_ce, "sop_logits": sparse_ce}
    raise KeyError(name)


TASKS = ["classifier", "regressor", "token_classifier", "span_qa", "multiple_choice", "pretrainer"]
EXPECTED_SHAPES = {
    "classifier": [(4, 3)],
    "regressor": [(4, 1)],
    "token_classifier": [(4, 8, 5)],
    "span_qa": [(4, 8), (4, 8)],
    "multiple_choice": [(4, 3)],
    "pretrainer": [(4, 2, 300), (4, 2)],
}


@pytest.mark.parametrize("name", TASKS)
def test_outputs_and_keras_round_trip(name, tmp_path):
    model, x, _, _ = _case(name)
    outputs = keras.tree.flatten(model(x, training=False))
    assert [tuple(o.shape) for o in outputs] == EXPECTED_SHAPES[name]
    assert all(o.dtype == tf.float32 for o in outputs)
    model.save(tmp_path / "model.keras")
    restored = keras.models.load_model(tmp_path / "model.keras")
    assert type(restored) is type(model)
    assert restored.get_config() == model.get_config()
    for a, b in zip(outputs, keras.tree.flatten(restored(x, training=False))):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", TASKS)
def test_fit_with_xla_reduces_loss(name):
    model, x, y, loss = _case(name)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss, jit_compile=True)
    history = model.fit(x, y, epochs=8, batch_size=4, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all()
    assert losses[-1] < losses[0]


def test_pretrainer_mlm_output_is_tied_to_word_embeddings():
    model, x, _, _ = _case("pretrainer")
    table = model.backbone.word_embeddings.embeddings
    before = np.array(model(x)["mlm_logits"])
    table.assign(table * 2.0)
    after = np.array(model(x)["mlm_logits"])
    assert np.abs(after - before).max() > 1e-4
    assert len([w for w in model.weights if w.path.endswith("word_embeddings/embeddings")]) == 1


def test_xla_tf_function_train_step_matches_eager_step():
    model, x, y, loss_fn = _case("classifier")
    model_b = AlbertClassifier.from_config(model.get_config())
    model_b.set_weights(model.get_weights())
    inputs = {k: tf.constant(v) for k, v in x.items()}

    def step(m, optimizer):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, m(inputs, training=False))
        grads = tape.gradient(loss, m.trainable_variables)
        optimizer.apply_gradients(zip(grads, m.trainable_variables))
        return loss

    compiled = tf.function(lambda: step(model, opt_a), jit_compile=True)
    opt_a, opt_b = keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1)
    loss_a = compiled()
    loss_b = step(model_b, opt_b)
    np.testing.assert_allclose(loss_a, loss_b, atol=1e-5)
    for wa, wb in zip(model.trainable_variables, model_b.trainable_variables):
        np.testing.assert_allclose(wa, wb, atol=1e-5)


def _op_dtypes(fn, op_type):
    graph = fn.get_concrete_function().graph.as_graph_def()
    nodes = list(graph.node) + [n for f in graph.library.function for n in f.node_def]
    return {tf.dtypes.as_dtype(n.attr["T"].type).name for n in nodes if n.op == op_type}


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_keeps_norms_softmax_logits_in_float32(policy):
    keras.config.set_dtype_policy(policy)
    model, x, y, loss = _case("pretrainer")
    half = policy.split("_")[1]
    inputs = {k: tf.constant(v) for k, v in x.items()}
    outputs = model(inputs)
    assert outputs["mlm_logits"].dtype == tf.float32 and outputs["sop_logits"].dtype == tf.float32
    assert model.backbone(
        {k: inputs[k] for k in ("input_word_ids", "input_mask", "input_type_ids")}
    )["sequence_output"].dtype == half
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    traced = tf.function(lambda: model(inputs))
    assert _op_dtypes(traced, "Softmax") == {"float32"}
    assert _op_dtypes(traced, "Rsqrt") == {"float32"}  # LayerNorm statistics
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, jit_compile=True)
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()

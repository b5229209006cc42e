"""Model inputs for tests, and `run_model_test`: the one harness every model goes through.

`run_model_test` checks one model (the backbone or a task model) end to end:
call shapes and finiteness, `.keras` round trip, variable sequence length
with padding invariance, `predict` on a tf.data pipeline, `fit` with
dropout (loss falls, exactly the reachable weights move), XLA `fit` and
`predict` against the eager ones, all of that under the float32 policy,
and build, call (close to float32) and `fit` under mixed_float16 and
mixed_bfloat16. It returns the measured differences and prints them
(`pytest -s` shows them).

Tolerances, measured over all seven models (tiny config: vocab 300,
hidden 32, T 8, batch 4) on CPU, each 5-35x the worst difference seen:

- `.keras` round trip: exactly equal outputs (seen: 0).
- padding to a longer T: 1e-6, as `tests/albert_tf/test_parity_padding.py`
  (seen: 0, bitwise equal).
- tf.data `predict` against a direct call: 1e-6 (seen: 3e-8).
- XLA `predict` against eager `predict`: 1e-5 (seen: 7e-7).
- XLA `fit` against eager `fit`, same start, no dropout, 4 Adam steps:
  5e-4 on losses and post-fit outputs (seen: 1e-6 on losses, 4e-5 on
  outputs; Adam's normalized steps amplify last-bit gradient differences).
- mixed precision against float32 with the same weights, as a fraction
  of the largest float32 output magnitude (at least 1): mixed_float16
  1e-2 (seen: 1.7e-3, the backbone), mixed_bfloat16 5e-2 (seen: 1.0e-2,
  the backbone); bfloat16 keeps 8 significant bits to float16's 11.
"""

import keras
import numpy as np
import tensorflow as tf

from albert_tf.backbone import INPUT_NAMES
from albert_tf.config import AlbertConfig

# The harness's model size: every check compiles and fits each model, so tiny.
TINY_CONFIG = AlbertConfig(
    vocab_size=300, embedding_size=16, hidden_size=32, num_hidden_layers=2,
    num_attention_heads=2, intermediate_size=64, max_position_embeddings=64,
)
PADDING_TOLERANCE = 1e-6
PREDICT_TOLERANCE = 1e-6
XLA_PREDICT_TOLERANCE = 1e-5
XLA_FIT_TOLERANCE = 5e-4
MIXED_PRECISION_TOLERANCE = {"mixed_float16": 1e-2, "mixed_bfloat16": 5e-2}


def random_batch(config, batch_size=3, seq_length=9, seed=0):
    """Packed-looking int32 inputs with padding: row i has seq_length - 2*i real tokens."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, config.vocab_size, size=(batch_size, seq_length)).astype("int32")
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row in range(batch_size):
        length = max(3, seq_length - 2 * row)
        mask[row, :length] = 1
        types[row, length // 2 : length] = 1
    ids[:, 0] = 2
    ids = np.where(mask == 1, ids, 0).astype("int32")
    return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": types}


def pad_sequences(inputs, extra):
    """`inputs` with `extra` more padding positions (id, mask and type 0) on the sequence axis.

    Only the backbone's three inputs carry the sequence axis (their last);
    other inputs such as `masked_lm_positions` are returned unchanged.
    """
    padded = dict(inputs)
    for name in INPUT_NAMES:
        value = np.asarray(inputs[name])
        widths = [(0, 0)] * (value.ndim - 1) + [(0, extra)]
        padded[name] = np.pad(value, widths)
    return padded


def output_shapes(outputs):
    """The structure of `outputs` (dicts, lists, tensors) with each tensor replaced by its shape."""
    if isinstance(outputs, dict):
        return {key: output_shapes(value) for key, value in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        return [output_shapes(value) for value in outputs]
    return tuple(outputs.shape)


def _numpy(outputs):
    return [np.asarray(keras.ops.convert_to_numpy(o), dtype="float32") for o in keras.tree.flatten(outputs)]


def max_abs_diff(a, b):
    """Largest |a - b| over two output structures of the same layout."""
    pairs = list(zip(_numpy(a), _numpy(b), strict=True))
    return max(float(np.max(np.abs(x - y))) for x, y in pairs)


def _compile(model, loss, **kwargs):
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss, **kwargs)


def _op_dtypes(concrete_function, op_type):
    graph = concrete_function.graph.as_graph_def()
    nodes = list(graph.node) + [n for f in graph.library.function for n in f.node_def]
    return {tf.dtypes.as_dtype(n.attr["T"].type).name for n in nodes if n.op == op_type}


def check_call(model, inputs, expected_output_shapes, float32_outputs):
    """Outputs have `expected_output_shapes`, are finite, and float32 when promised."""
    outputs = model(inputs, training=False)
    assert output_shapes(outputs) == expected_output_shapes
    for output in keras.tree.flatten(outputs):
        assert np.isfinite(keras.ops.convert_to_numpy(output)).all()
        expected_dtype = "float32" if float32_outputs else model.dtype_policy.compute_dtype
        assert keras.backend.standardize_dtype(output.dtype) == expected_dtype
    return outputs


def check_round_trip(model, inputs, directory):
    """`.keras` save + load gives the same class, the same config and identical outputs."""
    path = directory / f"{model.name}.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert type(restored) is type(model)
    assert restored.get_config() == model.get_config()
    assert type(model).from_config(model.get_config()).get_config() == model.get_config()
    difference = max_abs_diff(model(inputs, training=False), restored(inputs, training=False))
    assert difference == 0.0, f"outputs changed by {difference} through .keras"
    return difference


def check_variable_sequence_length(model, inputs, extra=5):
    """Called at T and T + extra, the real-token outputs (and the per-sequence ones) agree."""
    short = model(inputs, training=False)
    long = model(pad_sequences(inputs, extra), training=False)
    mask = np.asarray(inputs["input_mask"]).astype(bool)
    length = mask.shape[-1]
    worst = 0.0
    for a, b in zip(_numpy(short), _numpy(long), strict=True):
        if a.shape != b.shape:
            # Per-token outputs [..., T, ...] with the sequence axis right after the mask's leading axes.
            axis = mask.ndim - 1
            assert b.shape[axis] == length + extra and a.shape[axis] == length, (a.shape, b.shape)
            b = np.take(b, np.arange(length), axis=axis)
            a, b = a[mask], b[mask]
        worst = max(worst, float(np.max(np.abs(a - b))))
    assert worst <= PADDING_TOLERANCE, f"padding moved real-token outputs by {worst}"
    return worst


def check_predict_on_dataset(model, inputs, batch_size=2):
    """`predict` on a batched tf.data pipeline equals a direct call."""
    dataset = tf.data.Dataset.from_tensor_slices(inputs).batch(batch_size)
    predicted = model.predict(dataset, verbose=0)
    difference = max_abs_diff(predicted, model(inputs, training=False))
    assert difference <= PREDICT_TOLERANCE, f"predict on tf.data differs by {difference}"
    return difference


def _trainable(model):
    return {w.path: np.array(w) for w in model.trainable_weights}


def check_fit(model, inputs, targets, loss, unused_weights=(), epochs=4):
    """Graph-mode `fit` (dropout active): finite falling loss, exactly the reachable weights move."""
    before = _trainable(model)
    _compile(model, loss, jit_compile=False)
    losses = model.fit(inputs, targets, epochs=epochs, batch_size=len(inputs["input_mask"]),
                       verbose=0).history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0], losses
    after = _trainable(model)
    assert all(np.isfinite(value).all() for value in after.values())
    changed = {path for path in before if not np.array_equal(before[path], after[path])}
    reachable = {path for path in before if not path.startswith(tuple(unused_weights))}
    assert changed == reachable, {"unchanged": sorted(reachable - changed), "unexpected": sorted(changed - reachable)}
    return losses


def check_xla(model_factory, inputs, targets, loss, epochs=4):
    """XLA `predict` and `fit` equal the eager ones from the same weights.

    Dropout is off (`model_factory(0.0)`): XLA draws other random numbers
    than TensorFlow's kernels for the same seed, so only a deterministic
    model can be compared step for step.
    """
    eager = model_factory(0.0)
    xla = model_factory(0.0)
    xla.set_weights(eager.get_weights())
    _compile(eager, loss, run_eagerly=True)
    _compile(xla, loss, jit_compile=True)
    measured = {"xla_predict": max_abs_diff(xla.predict(inputs, verbose=0), eager.predict(inputs, verbose=0))}
    assert measured["xla_predict"] <= XLA_PREDICT_TOLERANCE, measured
    batch_size = len(inputs["input_mask"])
    eager_losses = eager.fit(inputs, targets, epochs=epochs, batch_size=batch_size, verbose=0).history["loss"]
    xla_losses = xla.fit(inputs, targets, epochs=epochs, batch_size=batch_size, verbose=0).history["loss"]
    assert xla_losses[-1] < xla_losses[0], xla_losses
    measured["xla_fit_loss"] = float(np.max(np.abs(np.subtract(xla_losses, eager_losses))))
    measured["xla_fit_predict"] = max_abs_diff(xla.predict(inputs, verbose=0), eager.predict(inputs, verbose=0))
    assert max(measured["xla_fit_loss"], measured["xla_fit_predict"]) <= XLA_FIT_TOLERANCE, measured
    return measured


def check_mixed_precision(model_factory, policy, reference, inputs, targets, loss,
                          expected_output_shapes, float32_outputs, jit_compile=False):
    """Under `policy` the model builds, calls close to float32 `reference` with its weights, and fits.

    Variables stay float32, softmax and LayerNorm statistics run in
    float32 whatever the compute dtype, and a 2-step `fit` keeps the loss
    and the weights finite.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        model = model_factory(0.0)
        model.set_weights(reference.get_weights())
        assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in model.trainable_weights)
        outputs = check_call(model, inputs, expected_output_shapes, float32_outputs)
        expected = reference(inputs, training=False)
        scale = max(1.0, max(float(np.max(np.abs(x))) for x in _numpy(expected)))
        relative = max_abs_diff(outputs, expected) / scale
        assert relative <= MIXED_PRECISION_TOLERANCE[policy], f"{policy}: {relative} of the float32 scale"

        constants = {key: tf.constant(value) for key, value in inputs.items()}
        traced = tf.function(lambda: model(constants, training=False)).get_concrete_function()
        assert _op_dtypes(traced, "Softmax") == {"float32"}
        assert _op_dtypes(traced, "Rsqrt") == {"float32"}  # LayerNorm statistics

        _compile(model, loss, jit_compile=jit_compile, run_eagerly=not jit_compile)
        losses = model.fit(inputs, targets, epochs=2, batch_size=len(inputs["input_mask"]),
                           verbose=0).history["loss"]
        assert np.isfinite(losses).all(), losses
        assert all(np.isfinite(np.array(w)).all() for w in model.trainable_weights)
    finally:
        keras.config.set_dtype_policy(previous)
    return relative


def run_model_test(model_factory, inputs, targets, loss, expected_output_shapes, directory,
                   float32_outputs=True, unused_weights=(), mixed_precision_jit_compile=False):
    """Runs every check of this module on one model; returns the measured differences.

    Args:
        model_factory: callable(dropout) -> a newly built model under the
            current global dtype policy, with every dropout rate (backbone
            and head) set to `dropout`.
        inputs: dict of int32 NumPy arrays, the model's inputs (batch B).
        targets: what `fit` takes as `y` for `loss`.
        loss: a Keras loss, or a dict of them for dict outputs (a dict may
            name only some outputs).
        expected_output_shapes: the output structure with each tensor
            replaced by its shape tuple, e.g. `{"start_logits": (4, 8), ...}`.
        directory: a `pathlib.Path` to write the `.keras` file into.
        float32_outputs: the model promises float32 outputs under mixed
            precision (task heads); False for the backbone, whose outputs
            are in the compute dtype.
        unused_weights: path prefixes of trainable weights the loss does not
            reach (they must stay unchanged by `fit`), e.g. `("pooler/",)`.
        mixed_precision_jit_compile: run the mixed-precision `fit` under
            XLA rather than eagerly (slow on CPU: use it for one model).

    Returns:
        dict check name -> largest absolute difference measured (relative
        to the output scale for the mixed-precision checks).
    """
    model = model_factory(0.1)
    check_call(model, inputs, expected_output_shapes, float32_outputs)
    measured = {
        "round_trip": check_round_trip(model, inputs, directory),
        "padding": check_variable_sequence_length(model, inputs),
        "predict_dataset": check_predict_on_dataset(model, inputs),
    }
    for policy in MIXED_PRECISION_TOLERANCE:
        measured[policy] = check_mixed_precision(
            model_factory, policy, model, inputs, targets, loss, expected_output_shapes,
            float32_outputs, jit_compile=mixed_precision_jit_compile,
        )
    check_fit(model, inputs, targets, loss, unused_weights)
    measured.update(check_xla(model_factory, inputs, targets, loss))
    print(f"\n{model.name}: " + ", ".join(f"{k} {v:.1e}" for k, v in measured.items()))
    return measured

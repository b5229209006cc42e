"""LAMB against a NumPy transcription of the original update, the schedule, AdamW."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from training.optimization import (
    AdamW, Lamb, WarmupPolynomialDecay, create_optimizer,
)

BETA_1, BETA_2, EPS, DECAY = 0.9, 0.999, 1e-6, 0.01


def _model():
    """Variables whose paths exercise the exclusion rules, plus zero-valued ones."""
    inputs = keras.Input((5,))
    x = keras.layers.Dense(4, name="dense")(inputs)
    x = keras.layers.LayerNormalization(name="layer_norm")(x)
    x = keras.layers.Dense(3, kernel_initializer="zeros", bias_initializer="zeros", name="zero")(x)
    model = keras.Model(inputs, x)
    model.layers[1].bias.assign(np.linspace(-0.5, 0.5, 4))
    return model


def _reference_lamb(weights, grads_per_step, excluded, lr, clipnorm=None):
    """google-research/albert lamb_optimizer.py, step by step, in float64."""
    w = [np.array(v, np.float64) for v in weights]
    m = [np.zeros_like(v) for v in w]
    v = [np.zeros_like(x) for x in w]
    for grads in grads_per_step:
        grads = [np.array(g, np.float64) for g in grads]
        if clipnorm:
            norm = np.sqrt(sum((g ** 2).sum() for g in grads))
            grads = [g * clipnorm / max(norm, clipnorm) for g in grads]
        for i, g in enumerate(grads):
            m[i] = BETA_1 * m[i] + (1 - BETA_1) * g
            v[i] = BETA_2 * v[i] + (1 - BETA_2) * g * g
            update = m[i] / (np.sqrt(v[i]) + EPS)
            ratio = 1.0
            if not excluded[i]:
                update = update + DECAY * w[i]
                w_norm, u_norm = np.linalg.norm(w[i]), np.linalg.norm(update)
                ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
            w[i] = w[i] - ratio * lr * update
    return w


@pytest.mark.parametrize("clipnorm,jit", [(None, False), (1.0, True)])
def test_lamb_matches_numpy_reference(clipnorm, jit):
    model = _model()
    variables = model.trainable_variables
    paths = [v.path for v in variables]
    assert paths == ["dense/kernel", "dense/bias", "layer_norm/gamma", "layer_norm/beta",
                     "zero/kernel", "zero/bias"]
    excluded = [False, True, True, True, False, True]
    rng = np.random.default_rng(0)
    grads_per_step = []
    for step in range(5):
        grads = [rng.normal(size=v.shape).astype("float32") * 0.3 for v in variables]
        grads[5] = np.zeros_like(grads[5])  # zero update on a zero variable
        if step == 0:
            grads[4] = np.zeros_like(grads[4])  # w = 0 and update = 0: ratio 1
        grads_per_step.append(grads)
    lr = 0.01
    optimizer = Lamb(learning_rate=lr, weight_decay_rate=DECAY, epsilon=EPS,
                     global_clipnorm=clipnorm)
    assert [optimizer.uses_weight_decay(v) for v in variables] == [not e for e in excluded]
    initial = [v.numpy() for v in variables]
    optimizer.build(variables)

    @tf.function(jit_compile=jit)
    def apply(grads):
        optimizer.apply(grads, variables)

    for grads in grads_per_step:
        apply([tf.constant(g) for g in grads])
    expected = _reference_lamb(initial, grads_per_step, excluded, lr, clipnorm)
    for variable, want in zip(variables, expected):
        np.testing.assert_allclose(variable.numpy(), want, atol=1e-6, rtol=0, err_msg=variable.path)
    # The zero kernel moved (its trust ratio was 1 while its norm was 0); the zero bias did not.
    assert np.abs(variables[4].numpy()).max() > 0
    np.testing.assert_array_equal(variables[5].numpy(), 0.0)


def test_lamb_has_no_bias_correction():
    variable = keras.Variable(np.array([0.0, 0.0], "float32"), name="bias")
    optimizer = Lamb(learning_rate=0.1, exclude_from_weight_decay=["bias"])
    optimizer.apply([tf.constant([1.0, -2.0])], [variable])
    # m = 0.1 g, v = 0.001 g^2: update = 0.1 g / (0.0316 |g| + eps) ~ 3.16 sign(g);
    # with Adam's bias correction it would be ~1.0 sign(g).
    expected = -0.1 * (0.1 * np.array([1.0, -2.0])) / (np.sqrt(0.001 * np.array([1.0, 4.0])) + EPS)
    np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-5)


def test_schedule_warmup_then_linear_decay_and_serialization():
    schedule = WarmupPolynomialDecay(1e-3, decay_steps=100, warmup_steps=10)
    values = [float(schedule(s)) for s in (0, 5, 10, 55, 100, 150)]
    np.testing.assert_allclose(values, [0.0, 5e-4, 9e-4, 4.5e-4, 0.0, 0.0], atol=1e-9)
    accumulated = WarmupPolynomialDecay(1e-3, decay_steps=100, warmup_steps=10, steps_per_update=4)
    assert float(accumulated(4 * 55 + 3)) == pytest.approx(float(schedule(55)))
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(restored, WarmupPolynomialDecay)
    assert restored.get_config() == schedule.get_config()
    with pytest.raises(ValueError, match="decay_steps"):
        WarmupPolynomialDecay(1e-3, decay_steps=0)


def test_create_optimizer_and_adamw_exclusion():
    model = _model()
    variables = model.trainable_variables
    optimizer = create_optimizer("adamw", 0.1, num_train_steps=10, num_warmup_steps=0,
                                 weight_decay=0.5, clipnorm=None)
    assert isinstance(optimizer, AdamW)
    before = [v.numpy() for v in variables]
    optimizer.apply([tf.zeros_like(v) for v in variables], variables)
    after = [v.numpy() for v in variables]
    # Zero gradients: only the decayed kernel moves (w -= lr * wd * w).
    np.testing.assert_allclose(after[0], before[0] * (1 - 0.1 * 0.5), rtol=1e-6)
    for i in (1, 2, 3):
        np.testing.assert_array_equal(after[i], before[i])
    lamb = create_optimizer("lamb", 1e-3, num_train_steps=10, gradient_accumulation_steps=4)
    assert isinstance(lamb, Lamb) and lamb.global_clipnorm == 1.0
    assert lamb.gradient_accumulation_steps == 4
    config = keras.optimizers.serialize(lamb)
    assert isinstance(keras.optimizers.deserialize(config), Lamb)
    with pytest.raises(ValueError, match="Unknown optimizer 'sgd'"):
        create_optimizer("sgd")
    with pytest.raises(ValueError, match="num_warmup_steps"):
        create_optimizer("lamb", num_train_steps=5, num_warmup_steps=10)

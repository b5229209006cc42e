"""Optimizers and learning-rate schedules for pretraining and fine-tuning.

- `Lamb`: LAMB as in google-research/albert `lamb_optimizer.py`: Adam
  moments WITHOUT bias correction, weight decay added to the update (not
  for variables whose path matches LayerNorm / bias), and a layer-wise
  trust ratio ||w|| / ||update|| (1.0 when either norm is 0; not applied to
  the decay-excluded variables, as in the original).
- `AdamW`: `keras.optimizers.AdamW` whose weight-decay exclusion matches
  variable paths (Keras matches short names only), so the same patterns
  work for both optimizers.
- `WarmupPolynomialDecay`: linear warmup, then polynomial decay (linear
  by default) as in the original `optimization.py`: the decay runs from
  step 0 to `decay_steps` and warmup overrides it for the first steps.
- `create_optimizer(...)`: the one factory (adds global-norm clipping and
  gradient accumulation).

All are Keras objects built from `keras.ops`, so they run inside XLA
(`jit_compile=True`) and under `tf.distribute` strategies, and serialize.
"""

import re

import keras
import tensorflow as tf
from keras import ops

# The original list (GR optimization.py) plus Keras' LayerNormalization
# variable names, matched anywhere in `variable.path` with re.search.
DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY = ("LayerNorm", "layer_norm", "bias")


def _densify(grads):
    # tf.clip_by_global_norm-style norms over IndexedSlices (embedding
    # gradients) count a repeated token's rows separately; the dense
    # gradient's norm is the true one (and makes k accumulated micro-batches
    # clip exactly like one big batch).
    return [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]


def _matches(variable, patterns):
    path = getattr(variable, "path", None) or variable.name
    return any(re.search(pattern, path) for pattern in patterns)


@keras.saving.register_keras_serializable(package="albert_tf")
class WarmupPolynomialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to `initial_learning_rate`, then polynomial decay.

    lr(s) = initial * s / warmup_steps                          if s < warmup_steps
          = (initial - end) * (1 - min(s, decay_steps) / decay_steps) ** power + end
    where s = floor(step / steps_per_update): with gradient accumulation the
    optimizer counts micro-batches, and the schedule must count updates.

    Args:
        initial_learning_rate: peak learning rate.
        decay_steps: total number of updates (the original num_train_steps).
        warmup_steps: number of warmup updates (0: none).
        end_learning_rate: rate reached at `decay_steps`.
        power: 1.0 for linear decay.
        steps_per_update: micro-batches per update (gradient accumulation).

    Example:
    >>> schedule = WarmupPolynomialDecay(1e-3, decay_steps=100, warmup_steps=10)
    >>> [round(float(schedule(step)), 8) for step in (5, 10, 55, 100)]
    [0.0005, 0.0009, 0.00045, 0.0]
    """

    def __init__(
        self, initial_learning_rate, decay_steps, warmup_steps=0, end_learning_rate=0.0,
        power=1.0, steps_per_update=1,
    ):
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be positive, got {decay_steps!r}")
        if warmup_steps < 0 or steps_per_update < 1:
            raise ValueError(
                f"warmup_steps must be >= 0 and steps_per_update >= 1, got "
                f"{warmup_steps!r}, {steps_per_update!r}"
            )
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = int(decay_steps)
        self.warmup_steps = int(warmup_steps)
        self.end_learning_rate = float(end_learning_rate)
        self.power = float(power)
        self.steps_per_update = int(steps_per_update)

    def __call__(self, step):
        step = ops.cast(ops.floor_divide(ops.cast(step, "int64"), self.steps_per_update), "float32")
        done = ops.minimum(step, float(self.decay_steps)) / float(self.decay_steps)
        decayed = (self.initial_learning_rate - self.end_learning_rate) * ops.power(
            1.0 - done, self.power
        ) + self.end_learning_rate
        if not self.warmup_steps:
            return decayed
        warmup = self.initial_learning_rate * step / float(self.warmup_steps)
        return ops.where(step < float(self.warmup_steps), warmup, decayed)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "warmup_steps": self.warmup_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "steps_per_update": self.steps_per_update,
        }


@keras.saving.register_keras_serializable(package="albert_tf")
class Lamb(keras.optimizers.Optimizer):
    """LAMB (You et al., 2020) with the semantics of the original ALBERT code.

    For each variable w with gradient g (after global-norm clipping):

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        u = m / (sqrt(v) + epsilon)              # no bias correction
        u = u + weight_decay_rate * w            # unless excluded by path
        r = ||w|| / ||u|| (1 if either is 0)     # unless excluded by path
        w = w - learning_rate * r * u

    Args:
        learning_rate: float or `LearningRateSchedule`.
        beta_1, beta_2, epsilon: Adam constants (0.9, 0.999, 1e-6).
        weight_decay_rate: decay added to the update (0.01).
        exclude_from_weight_decay: regexes searched in `variable.path`.
        exclude_from_layer_adaptation: regexes for variables without the
            trust ratio; None means the same as `exclude_from_weight_decay`
            (the original's default).
        **kwargs: `keras.optimizers.Optimizer` arguments (`global_clipnorm`,
            `gradient_accumulation_steps`, `name`, ...).

    Example:
    >>> keras.utils.set_random_seed(0)
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=Lamb(learning_rate=1e-2, global_clipnorm=1.0), loss="mse")
    >>> x, y = np.ones((8, 3)), np.zeros((8, 1))
    >>> before = model.evaluate(x, y, verbose=0)
    >>> _ = model.fit(x, y, epochs=5, verbose=0)
    >>> bool(model.evaluate(x, y, verbose=0) < before)
    True
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-6,
        weight_decay_rate=0.01,
        exclude_from_weight_decay=DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY,
        exclude_from_layer_adaptation=None,
        name="lamb",
        **kwargs,
    ):
        if kwargs.get("weight_decay"):
            raise ValueError(
                "Lamb applies decay inside its update: pass weight_decay_rate, not weight_decay"
            )
        kwargs.pop("weight_decay", None)
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.weight_decay_rate = weight_decay_rate
        self.exclude_from_weight_decay = tuple(exclude_from_weight_decay or ())
        self.exclude_from_layer_adaptation = (
            tuple(exclude_from_layer_adaptation)
            if exclude_from_layer_adaptation is not None
            else self.exclude_from_weight_decay
        )

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "m")
        self._velocities = self.add_optimizer_variables(var_list, "v")

    def uses_weight_decay(self, variable):
        """Whether `variable` (matched by path) gets weight decay."""
        return bool(self.weight_decay_rate) and not _matches(variable, self.exclude_from_weight_decay)

    def uses_layer_adaptation(self, variable):
        """Whether `variable` (matched by path) gets the trust ratio."""
        return not _matches(variable, self.exclude_from_layer_adaptation)

    def _clip_gradients(self, grads):
        return super()._clip_gradients(_densify(grads))

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        # Embedding gradients arrive as IndexedSlices; LAMB's norms need them dense.
        if isinstance(gradient, tf.IndexedSlices):
            gradient = tf.convert_to_tensor(gradient)
        gradient = ops.cast(gradient, dtype)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        self.assign(m, self.beta_1 * m + (1.0 - self.beta_1) * gradient)
        self.assign(v, self.beta_2 * v + (1.0 - self.beta_2) * ops.square(gradient))
        update = m / (ops.sqrt(v) + self.epsilon)
        if self.uses_weight_decay(variable):
            update = update + self.weight_decay_rate * variable
        if self.uses_layer_adaptation(variable):
            w_norm = ops.sqrt(ops.sum(ops.square(variable)))
            u_norm = ops.sqrt(ops.sum(ops.square(update)))
            safe = ops.where(u_norm > 0, u_norm, ops.ones_like(u_norm))
            ratio = ops.where(
                ops.logical_and(w_norm > 0, u_norm > 0), w_norm / safe, ops.ones_like(w_norm)
            )
            update = ratio * update
        self.assign_sub(variable, lr * update)

    def get_config(self):
        config = super().get_config()
        config.update(
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            weight_decay_rate=self.weight_decay_rate,
            exclude_from_weight_decay=list(self.exclude_from_weight_decay),
            exclude_from_layer_adaptation=list(self.exclude_from_layer_adaptation),
        )
        return config


@keras.saving.register_keras_serializable(package="albert_tf")
class AdamW(keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` whose decay exclusion matches variable paths.

    Keras matches `exclude_from_weight_decay` names against the short
    variable name ("gamma", "bias"); ALBERT's rule names layers
    ("LayerNorm", "layer_norm"), which only the path holds.

    Args:
        exclude_from_weight_decay_patterns: regexes searched in `variable.path`.
        **kwargs: `keras.optimizers.AdamW` arguments.
    """

    def __init__(self, exclude_from_weight_decay_patterns=DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY, **kwargs):
        super().__init__(**kwargs)
        self.exclude_from_weight_decay_patterns = tuple(exclude_from_weight_decay_patterns or ())

    def _clip_gradients(self, grads):
        return super()._clip_gradients(_densify(grads) if self.global_clipnorm else grads)

    def _use_weight_decay(self, variable):
        if _matches(variable, self.exclude_from_weight_decay_patterns):
            return False
        return super()._use_weight_decay(variable)

    def get_config(self):
        config = super().get_config()
        config["exclude_from_weight_decay_patterns"] = list(self.exclude_from_weight_decay_patterns)
        return config


OPTIMIZERS = ("lamb", "adamw")


def create_optimizer(
    name="lamb",
    learning_rate=1e-3,
    num_train_steps=10_000,
    num_warmup_steps=0,
    weight_decay=0.01,
    clipnorm=1.0,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-6,
    end_learning_rate=0.0,
    power=1.0,
    gradient_accumulation_steps=1,
    exclude_from_weight_decay=DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY,
):
    """Builds the optimizer with the warmup + polynomial-decay schedule.

    Args:
        name: "lamb" (the ALBERT recipe) or "adamw".
        learning_rate: peak learning rate (ALBERT: 0.00176 at batch 4096).
        num_train_steps: total optimizer updates (the decay length).
        num_warmup_steps: linear warmup updates.
        weight_decay: decay rate (0.01), not applied to LayerNorm / bias.
        clipnorm: global gradient-norm clip (1.0); None or 0 disables it.
        beta_1, beta_2, epsilon: Adam constants.
        end_learning_rate, power: polynomial decay shape (0.0, 1.0 = linear).
        gradient_accumulation_steps: k > 1 averages the gradients of k
            micro-batches and updates once (`model.fit` then runs k steps
            per update; the schedule counts updates). Equals one step on the
            k-times larger batch when each micro-batch's loss is a mean over
            the same number of items.
        exclude_from_weight_decay: regexes searched in variable paths.

    Returns:
        A `keras.optimizers.Optimizer`.

    Example:
    >>> optimizer = create_optimizer("lamb", 1e-3, num_train_steps=1000, num_warmup_steps=100)
    """
    name = str(name).lower()
    if name not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {name!r}; expected one of {OPTIMIZERS}")
    if gradient_accumulation_steps < 1:
        raise ValueError(
            f"gradient_accumulation_steps must be >= 1, got {gradient_accumulation_steps!r}"
        )
    if num_warmup_steps > num_train_steps:
        raise ValueError(
            f"num_warmup_steps={num_warmup_steps} exceeds num_train_steps={num_train_steps}"
        )
    schedule = WarmupPolynomialDecay(
        learning_rate, decay_steps=num_train_steps, warmup_steps=num_warmup_steps,
        end_learning_rate=end_learning_rate, power=power,
        steps_per_update=gradient_accumulation_steps,
    )
    common = dict(
        learning_rate=schedule,
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=epsilon,
        global_clipnorm=clipnorm or None,
        gradient_accumulation_steps=(
            gradient_accumulation_steps if gradient_accumulation_steps > 1 else None
        ),
    )
    if name == "lamb":
        return Lamb(
            weight_decay_rate=weight_decay, exclude_from_weight_decay=exclude_from_weight_decay,
            **common,
        )
    return AdamW(
        weight_decay=weight_decay, exclude_from_weight_decay_patterns=exclude_from_weight_decay,
        **common,
    )

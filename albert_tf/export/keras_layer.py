"""`HubEncoderLayer`: a TF Hub-style encoder SavedModel as a fine-tunable Keras 3 layer.

`tensorflow_hub.KerasLayer` needs tf_keras (`TF_USE_LEGACY_KERAS=1`); in a
Keras 3 functional model it fails, and wrapping `tf.saved_model.load` in a
Keras 3 layer tracks no weights, so `model.fit` cannot train the encoder.
This layer hands the module's own `tf.Variable`s to Keras as Keras variables
(the same storage, not copies): the Keras optimizer updates exactly the
variables the module's restored functions read.
"""

import keras
import tensorflow as tf


class _BorrowedVariable(keras.Variable):
    """A Keras variable whose storage is an existing `tf.Variable`."""

    def __init__(self, variable, trainable, name):
        self._borrowed = variable
        super().__init__(
            initializer=lambda shape, dtype: None,  # never called: see _initialize
            shape=tuple(variable.shape),
            dtype=variable.dtype.name,
            trainable=trainable,
            autocast=False,
            name=name,
        )

    def _initialize(self, value):
        self._value = self._borrowed


def _keras_name(variable):
    # Keras variable names may not hold "/"; keep the module's path readable.
    return variable.name.split(":")[0].replace("/", ".")


@keras.saving.register_keras_serializable(package="albert_tf")
class HubEncoderLayer(keras.layers.Layer):
    """Loads a TF Hub-style encoder SavedModel as a Keras 3 layer.

    Works with modules written by `albert_tf.export.export_encoder_module`
    and with other TF2 reusable SavedModels that follow the TF Hub encoder
    convention (`obj(inputs, training=...)`, `obj.variables`,
    `obj.trainable_variables`).

    Call args:
        inputs: dict of int32 [B, T] `input_word_ids`, `input_mask`,
            `input_type_ids` (plus `masked_lm_positions` [B, P] when
            `sub_module="mlm"`).
        training: Python bool; selects the module's training trace (dropout).

    Returns:
        The module's outputs: dict `pooled_output` [B, H], `sequence_output`
        [B, T, H], `encoder_outputs` (list of L * inner_group_num [B, T, H]), `default` [B, H]
        (and `mlm_logits` [B, P, V] with `sub_module="mlm"`).

    Args:
        handle: path of the SavedModel directory.
        sub_module: None for the root encoder, or the attribute name of a
            sub-object to call instead (e.g. "mlm").
        trainable: whether the module's trainable variables are trained.

    Raises:
        ValueError: the SavedModel lacks `sub_module` or the TF Hub
            `variables` / `trainable_variables`.

    Example:
    >>> from albert_tf.export import export_encoder_module
    >>> backbone = AlbertBackbone.from_preset("albert_tiny")
    >>> export_encoder_module(backbone, "hub/albert_encoder")
    PosixPath('hub/albert_encoder')
    >>> encoder = HubEncoderLayer("hub/albert_encoder", trainable=True)
    >>> inputs = {n: keras.Input((None,), dtype="int32", name=n)
    ...           for n in ("input_word_ids", "input_mask", "input_type_ids")}
    >>> logits = keras.layers.Dense(2)(encoder(inputs)["pooled_output"])
    >>> model = keras.Model(inputs, logits)
    >>> model.count_params() == backbone.count_params() + 64 * 2 + 2
    True
    """

    def __init__(self, handle, sub_module=None, trainable=True, **kwargs):
        super().__init__(trainable=trainable, **kwargs)
        self.handle = str(handle)
        self.sub_module = sub_module
        loaded = tf.saved_model.load(self.handle)
        module = loaded
        if sub_module is not None:
            if not hasattr(loaded, sub_module):
                raise ValueError(
                    f"The SavedModel at {self.handle} has no sub-object {sub_module!r}; "
                    "export it from a model with that head (e.g. an AlbertPretrainer for 'mlm')"
                )
            module = getattr(loaded, sub_module)
        for attribute in ("variables", "trainable_variables"):
            if not hasattr(module, attribute):
                raise ValueError(
                    f"The SavedModel at {self.handle} has no `{attribute}`; expected a TF Hub-style "
                    "reusable SavedModel (see albert_tf/export/README.md)"
                )
        # Kept out of Keras' tracker: the variables below are what Keras owns.
        object.__setattr__(self, "_loaded", loaded)
        object.__setattr__(self, "_module", module)
        trainable_refs = {v.ref() for v in module.trainable_variables}
        seen = set()
        for variable in module.variables:
            if variable.ref() in seen:  # a tied weight listed twice is trained once
                continue
            seen.add(variable.ref())
            is_trainable = variable.ref() in trainable_refs
            self._track_variable(
                _BorrowedVariable(variable, trainable=is_trainable, name=_keras_name(variable))
            )
        self.built = True

    def call(self, inputs, training=None):
        inputs = {name: tf.cast(tensor, tf.int32) for name, tensor in inputs.items()}
        return self._module(inputs, training=bool(training))

    def compute_output_spec(self, inputs, training=None):
        # Trace the restored function on specs to read its output structure.
        specs = {
            name: tf.TensorSpec(tuple(x.shape), tf.int32, name=name) for name, x in inputs.items()
        }
        traced = tf.function(lambda x: self._module(x, training=False)).get_concrete_function(specs)
        return tf.nest.map_structure(
            lambda t: keras.KerasTensor(tuple(t.shape), dtype=t.dtype.name),
            traced.structured_outputs,
        )

    def get_config(self):
        config = super().get_config()
        config.update(handle=self.handle, sub_module=self.sub_module)
        return config

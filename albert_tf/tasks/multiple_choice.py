"""`AlbertMultipleChoice`: pick one of C candidate continuations (RACE, SWAG)."""

import keras
from keras import ops

from albert_tf.backbone import INPUT_NAMES
from albert_tf.tasks.task import AlbertTask, head_dense


@keras.saving.register_keras_serializable(package="albert_tf")
class _FlattenChoices(keras.layers.Layer):
    """[B, C, T] -> [B * C, T], with C and T known only at run time."""

    def call(self, x):
        return ops.reshape(x, (-1, ops.shape(x)[-1]))

    def compute_output_shape(self, shape):
        return (None, shape[-1])


@keras.saving.register_keras_serializable(package="albert_tf")
class _UnflattenChoices(keras.layers.Layer):
    """Scores [B * C, 1] -> [B, C], C read from the [B, C, T] input."""

    def call(self, scores, choices):
        return ops.reshape(scores, (-1, ops.shape(choices)[1]))

    def compute_output_shape(self, scores_shape, choices_shape):
        return choices_shape[:2]


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertMultipleChoice(AlbertTask):
    """Scores each (context, choice) pair on its pooled output.

    Inputs (dict): the backbone's names, int32 [B, C, T], one packed
        sequence per choice.
    Outputs: float32 logits [B, C].

    Example:
    >>> model = AlbertMultipleChoice(AlbertBackbone.from_preset("albert_tiny"))
    """

    task_names = ("multiple_choice",)
    head_args = ("dropout",)

    def __init__(self, backbone, dropout=0.1, **kwargs):
        # === Layers ===
        dropout_layer = keras.layers.Dropout(dropout, name="output_dropout")
        score_dense = head_dense(backbone, 1, "choice_score")
        # === Functional graph ===
        inputs = {name: keras.Input(shape=(None, None), dtype="int32", name=name) for name in INPUT_NAMES}
        flatten = _FlattenChoices(name="flatten_choices")
        flat = {name: flatten(x) for name, x in inputs.items()}
        scores = score_dense(dropout_layer(backbone(flat)["pooled_output"]))
        outputs = _UnflattenChoices(name="choice_logits", dtype="float32")(scores, inputs["input_word_ids"])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.backbone = backbone
        self.score_dense = score_dense
        self.dropout = dropout

"""`AlbertTokenClassifier`: one label per token (NER, POS tagging)."""

import keras

from albert_tf.tasks.task import AlbertTask, head_dense, check_num_classes


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertTokenClassifier(AlbertTask):
    """Dropout + dense on every position of the sequence output.

    Inputs: the backbone's dict of int32 [B, T].
    Outputs: float32 logits [B, T, num_classes].

    Example:
    >>> model = AlbertTokenClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=9)
    """

    task_names = ("token_classification",)
    head_args = ("num_classes", "dropout")

    def __init__(self, backbone, num_classes, dropout=0.1, **kwargs):
        check_num_classes(num_classes)
        # === Layers ===
        dropout_layer = keras.layers.Dropout(dropout, name="output_dropout")
        output_dense = head_dense(backbone, num_classes, "logits")
        # === Functional graph ===
        inputs = dict(backbone.input)
        sequence = backbone(inputs)["sequence_output"]
        outputs = output_dense(dropout_layer(sequence))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.backbone = backbone
        self.output_dense = output_dense
        self.num_classes = num_classes
        self.dropout = dropout

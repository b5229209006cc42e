"""`AlbertSpanQA`: extractive question answering (SQuAD start/end logits)."""

import keras

from albert_tf.tasks.task import AlbertTask, head_dense


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertSpanQA(AlbertTask):
    """Dense 2 on the sequence output, split into start and end logits.

    Inputs: the backbone's dict of int32 [B, T], question as segment A and
        context as segment B.
    Outputs (dict, float32): `start_logits` [B, T], `end_logits` [B, T].

    Example:
    >>> model = AlbertSpanQA(AlbertBackbone.from_preset("albert_tiny"))
    """

    task_names = ("span_qa",)

    def __init__(self, backbone, **kwargs):
        # === Layers ===
        span_dense = head_dense(backbone, 2, "span_logits")
        # === Functional graph ===
        inputs = dict(backbone.input)
        logits = span_dense(backbone(inputs)["sequence_output"])
        outputs = {"start_logits": logits[:, :, 0], "end_logits": logits[:, :, 1]}
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.backbone = backbone
        self.span_dense = span_dense

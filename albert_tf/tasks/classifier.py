"""`AlbertClassifier`: sequence classification or regression on the pooled output."""

import keras

from albert_tf.tasks.task import AlbertTask, head_dense, check_num_classes

# The head's output layer is named for what it produces.
_OUTPUT_NAMES = {"classification": "logits", "regression": "predictions"}


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertClassifier(AlbertTask):
    """Dropout + dense on the pooled output, as the original `run_classifier`.

    Inputs: the backbone's dict of int32 [B, T].
    Outputs: float32 [B, num_classes] logits (classification) or values
        (regression; `num_classes` is then the number of targets, usually 1).

    Args:
        backbone: an `AlbertBackbone`.
        num_classes: number of labels (or regression targets).
        problem_type: "classification" or "regression"; it is also the
            model's `task_name`.
        dropout: dropout on the pooled output (0.1 in the original).

    Raises:
        ValueError: an unknown `problem_type` or a non-positive `num_classes`.

    Example:
    >>> model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=3)
    >>> model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> model.task_name, AlbertClassifier(model.backbone, 1, problem_type="regression").task_name
    ('classification', 'regression')
    """

    task_names = ("classification", "regression")
    head_args = ("num_classes", "dropout")
    task_arg = "problem_type"

    def __init__(self, backbone, num_classes=2, problem_type="classification", dropout=0.1, **kwargs):
        if problem_type not in self.task_names:
            raise ValueError(f"Unknown problem_type {problem_type!r}; expected one of {self.task_names}")
        check_num_classes(num_classes)
        # === Layers ===
        dropout_layer = keras.layers.Dropout(dropout, name="output_dropout")
        output_dense = head_dense(backbone, num_classes, _OUTPUT_NAMES[problem_type])
        # === Functional graph ===
        inputs = dict(backbone.input)
        pooled = backbone(inputs)["pooled_output"]
        outputs = output_dense(dropout_layer(pooled))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.backbone = backbone
        self.output_dense = output_dense
        self.num_classes = num_classes
        self.problem_type = problem_type
        self.dropout = dropout

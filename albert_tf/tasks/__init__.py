"""Task models: a head on an `AlbertBackbone`, each a Keras functional model.

`registry` maps the task names (`TASK_NAMES`: backbone, pretraining,
classification, regression, token_classification, span_qa,
multiple_choice) to these classes and builds them. Imports
`albert_tf.backbone` and `albert_tf.layers`; nothing above them.
"""

from albert_tf.tasks.classifier import AlbertClassifier
from albert_tf.tasks.multiple_choice import AlbertMultipleChoice
from albert_tf.tasks.pretrainer import AlbertPretrainer
from albert_tf.tasks.registry import (
    TASK_NAMES,
    build_task_model,
    canonical_task_name,
    task_model_class,
    task_name_of,
)
from albert_tf.tasks.span_qa import AlbertSpanQA, AlbertSpanQAV2
from albert_tf.tasks.task import AlbertTask
from albert_tf.tasks.token_classifier import AlbertTokenClassifier

__all__ = [
    "AlbertClassifier",
    "AlbertMultipleChoice",
    "AlbertPretrainer",
    "AlbertSpanQA",
    "AlbertSpanQAV2",
    "AlbertTask",
    "AlbertTokenClassifier",
    "TASK_NAMES",
    "build_task_model",
    "canonical_task_name",
    "task_model_class",
    "task_name_of",
]

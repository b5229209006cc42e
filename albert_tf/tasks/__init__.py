"""Task models: a head on an `AlbertBackbone`, each a Keras functional model.

Imports `albert_tf.backbone` and `albert_tf.layers`; nothing above them.
"""

from albert_tf.tasks.classifier import AlbertClassifier
from albert_tf.tasks.multiple_choice import AlbertMultipleChoice
from albert_tf.tasks.pretrainer import AlbertPretrainer
from albert_tf.tasks.span_qa import AlbertSpanQA
from albert_tf.tasks.task import AlbertTask
from albert_tf.tasks.token_classifier import AlbertTokenClassifier

__all__ = [
    "AlbertClassifier",
    "AlbertMultipleChoice",
    "AlbertPretrainer",
    "AlbertSpanQA",
    "AlbertTask",
    "AlbertTokenClassifier",
]

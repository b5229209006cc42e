"""albert-tf: ALBERT (Lan et al., 2020) for Keras 3 on TensorFlow.

Public names only; see the sub-packages for the rest:
layers -> backbone -> tasks -> {convert, export}; text feeds them all.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from albert_tf.backbone import AlbertBackbone  # noqa: E402
from albert_tf.config import PRESETS, AlbertConfig  # noqa: E402
from albert_tf.saving import load  # noqa: E402
from albert_tf.tasks import (  # noqa: E402
    AlbertClassifier,
    AlbertMultipleChoice,
    AlbertPretrainer,
    AlbertSpanQA,
    AlbertTokenClassifier,
)

__version__ = "0.1.0"


def __getattr__(name):
    # Lazy: albert_tf.export pulls in tensorflow-text, which plain model use does not need.
    if name == "HubEncoderLayer":
        from albert_tf.export.keras_layer import HubEncoderLayer

        return HubEncoderLayer
    raise AttributeError(f"module 'albert_tf' has no attribute {name!r}")


__all__ = [
    "AlbertBackbone",
    "AlbertClassifier",
    "AlbertConfig",
    "AlbertMultipleChoice",
    "AlbertPretrainer",
    "AlbertSpanQA",
    "AlbertTokenClassifier",
    "HubEncoderLayer",
    "PRESETS",
    "load",
]

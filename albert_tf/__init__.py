"""albert-tf: ALBERT (Lan et al., 2020) for Keras 3 on TensorFlow.

Public names only; see the sub-packages for the rest:
layers -> backbone -> tasks -> {convert, export}; text feeds them all.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from albert_tf import resources  # noqa: E402
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


# Lazy: these pull in tensorflow-text, which plain model use does not need.
_LAZY = {
    "AlbertTokenizer": "albert_tf.text",
    "AlbertPacker": "albert_tf.text",
    "AlbertPreprocessor": "albert_tf.text",
    "HubEncoderLayer": "albert_tf.export.keras_layer",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'albert_tf' has no attribute {name!r}")


__all__ = [
    "AlbertBackbone",
    "AlbertClassifier",
    "AlbertConfig",
    "AlbertMultipleChoice",
    "AlbertPacker",
    "AlbertPreprocessor",
    "AlbertPretrainer",
    "AlbertSpanQA",
    "AlbertTokenClassifier",
    "AlbertTokenizer",
    "HubEncoderLayer",
    "PRESETS",
    "load",
    "resources",
]

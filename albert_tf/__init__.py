"""albert-tf: ALBERT (Lan et al., 2020) for Keras 3 on TensorFlow.

Public names only; see the sub-packages for the rest:
layers -> backbone -> tasks -> {convert, export}; text feeds them all.
"""

import importlib
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from albert_tf import resources  # noqa: E402

__version__ = "0.1.0"


# Public names load on first use: `import albert_tf` does not import
# TensorFlow, so the `albert-tf` command can quiet TensorFlow's C++ logs
# before they start, and plain model use never pulls in tensorflow-text.
_LAZY = {
    "AlbertBackbone": "albert_tf.backbone",
    "AlbertConfig": "albert_tf.config",
    "PRESETS": "albert_tf.config",
    "load": "albert_tf.saving",
    "AlbertClassifier": "albert_tf.tasks",
    "AlbertMultipleChoice": "albert_tf.tasks",
    "AlbertPretrainer": "albert_tf.tasks",
    "AlbertSpanQA": "albert_tf.tasks",
    "AlbertSpanQAV2": "albert_tf.tasks",
    "AlbertTokenClassifier": "albert_tf.tasks",
    "AlbertTokenizer": "albert_tf.text",
    "AlbertWordPieceTokenizer": "albert_tf.text",
    "tokenizer_from_assets": "albert_tf.text",
    "AlbertPacker": "albert_tf.text",
    "AlbertPreprocessor": "albert_tf.text",
    "HubEncoderLayer": "albert_tf.export.keras_layer",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'albert_tf' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AlbertBackbone",
    "AlbertClassifier",
    "AlbertConfig",
    "AlbertMultipleChoice",
    "AlbertPacker",
    "AlbertPreprocessor",
    "AlbertPretrainer",
    "AlbertSpanQA",
    "AlbertSpanQAV2",
    "AlbertTokenClassifier",
    "AlbertTokenizer",
    "AlbertWordPieceTokenizer",
    "HubEncoderLayer",
    "PRESETS",
    "load",
    "resources",
    "tokenizer_from_assets",
]

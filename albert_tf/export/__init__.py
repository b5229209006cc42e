"""Export: raw-text SavedModels for TF Serving, TF Hub-style modules, the op check.

Imports albert_tf's layers, backbone, tasks and text; `serving.server` and
`albert_tf.convert.tfhub` import this package, never the reverse. Formats
are documented in README.md beside this file.

Example:
>>> from albert_tf.export import export_saved_model
>>> export_saved_model(classifier, tokenizer, "models/sentiment", labels=["neg", "pos"])
PosixPath('models/sentiment/1')
"""

from albert_tf.export.hub_modules import export_encoder_module, export_preprocess_module
from albert_tf.export.keras_layer import HubEncoderLayer
from albert_tf.export.task_export import export_saved_model, next_version
# One op check for the project: the text package owns it (it lists tf-text ops).
from albert_tf.text.ops_check import check_serving_ops, graph_op_types

__all__ = [
    "HubEncoderLayer",
    "check_serving_ops",
    "export_encoder_module",
    "export_preprocess_module",
    "export_saved_model",
    "graph_op_types",
    "next_version",
]

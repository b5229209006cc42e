"""Export: raw-text SavedModels for TF Serving, TF Hub-style modules, the op check.

Imports albert_tf's layers, backbone, tasks and text; `serving.server` and
`albert_tf.convert.tfhub` import this package, never the reverse. Each task
exports through its serving module (`serving_modules.py`, one class per
task, looked up through the task registry). Formats are documented in
README.md beside this file.

Example:
>>> from albert_tf.export import export_saved_model
>>> tokenizer = AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"))
>>> version_dir = export_saved_model(AlbertBackbone.from_preset("albert_tiny"), tokenizer,
...                                  "models/encoder", seq_length=32)
>>> metadata = json.loads((version_dir / "assets" / "albert_export.json").read_text())
>>> metadata["task"], metadata["signatures"], metadata["tokenizer"]
('backbone', ['serve_token_ids', 'serving_default'], {'do_lower_case': True, 'keep_accents': False, 'kind': 'sentencepiece'})
"""

from albert_tf.export.hub_modules import export_encoder_module, export_preprocess_module
from albert_tf.export.keras_layer import HubEncoderLayer
from albert_tf.export.serving_modules import SERVING_MODULES, ServingModule, serving_module_class
from albert_tf.export.task_export import export_saved_model, next_version
# One op check for the project: the text package owns it (it lists tf-text ops).
from albert_tf.text.ops_check import check_serving_ops, graph_op_types

__all__ = [
    "HubEncoderLayer",
    "SERVING_MODULES",
    "ServingModule",
    "check_serving_ops",
    "export_encoder_module",
    "export_preprocess_module",
    "export_saved_model",
    "graph_op_types",
    "next_version",
    "serving_module_class",
]

"""Converters from external ALBERT formats into albert_tf models.

One module per format, each holding ONE explicit name map and a loader:

- `huggingface`: transformers ALBERT (torch object or save_pretrained dir).
- `keras_hub`: `keras_hub.models.AlbertBackbone`.
- `tf1_checkpoint`: original google-research/albert TF1 checkpoints (and TF
  Hub TF1 modules, whose names carry a `module/` prefix).
- `tfhub`: TF2 TF Hub encoder SavedModels (Google's official.nlp
  AlbertEncoder modules and the ones `albert_tf.export` writes).

Every converter takes `task`: "auto" (the head the source carries) or a
name of the task registry (`TASKS`), and builds its model through
`albert_tf.tasks.build_task_model`. It validates the whole source (missing
tensors, shapes, dtypes, unknown tensors) before filling any variable; a
tensor that no albert_tf model holds fails the conversion, naming it, unless
`allow_unused=True`; `albert-tf convert` then writes through
`albert_tf.saving.save`, atomically. Imports: albert_tf's backbone and tasks;
torch/transformers/keras_hub only inside the functions that need them.
"""

from albert_tf.convert._mapping import TASKS, ConversionError, ConversionReport
from albert_tf.convert.huggingface import from_huggingface
from albert_tf.convert.keras_hub import from_keras_hub
from albert_tf.convert.tf1_checkpoint import from_tf1_checkpoint
from albert_tf.convert.tfhub import from_tfhub

__all__ = [
    "ConversionError",
    "ConversionReport",
    "TASKS",
    "from_huggingface",
    "from_keras_hub",
    "from_tf1_checkpoint",
    "from_tfhub",
]

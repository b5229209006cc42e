"""Keras layers of ALBERT: embeddings, the transformer layer, the heads.

Imports only keras and tensorflow; `backbone.py` and `tasks/` build on them.
"""

from albert_tf.layers.embeddings import AlbertEmbeddings
from albert_tf.layers.heads import AlbertMaskedLMHead
from albert_tf.layers.transformer import AlbertTransformerLayer, activation_fn

__all__ = ["AlbertEmbeddings", "AlbertMaskedLMHead", "AlbertTransformerLayer", "activation_fn"]

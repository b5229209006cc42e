"""Keras layers of ALBERT: embeddings, the transformer layer, the heads.

Imports only keras and tensorflow; `backbone.py` and `tasks/` build on them.
"""

from albert_tf.layers.embeddings import AlbertEmbeddings
from albert_tf.layers.heads import AlbertMaskedLMHead, AlbertSquadV2Head, squad_v2_p_mask
from albert_tf.layers.transformer import AlbertTransformerLayer, activation_fn

__all__ = [
    "AlbertEmbeddings",
    "AlbertMaskedLMHead",
    "AlbertSquadV2Head",
    "AlbertTransformerLayer",
    "activation_fn",
    "squad_v2_p_mask",
]

"""Text: ALBERT normalization, SentencePiece and WordPiece tokenizers, packer, task preprocessors.

Everything here is TensorFlow ops (core + tensorflow-text), usable in
tf.data and in SavedModel signatures, never inside XLA-compiled functions.
`tokenizer_from_assets` picks SentencePiece (`AlbertTokenizer`, the
English models) or WordPiece (`AlbertWordPieceTokenizer`, the Chinese
models) from the vocabulary file. Imports only TensorFlow, tensorflow-text
and sentencepiece; the models never come in here (text sits beside
layers -> backbone -> tasks).
`masking.py` (MLM masking for pretraining) is NumPy only.
"""

from albert_tf.text.assets import tokenizer_from_assets
from albert_tf.text.normalization import normalize, normalize_text
from albert_tf.text.ops_check import check_serving_ops, graph_op_types
from albert_tf.text.packer import AlbertPacker
from albert_tf.text.preprocessor import (
    AlbertMultipleChoicePreprocessor,
    AlbertPreprocessor,
    AlbertTokenClassificationPreprocessor,
)
from albert_tf.text.qa import AlbertQAPreprocessor
from albert_tf.text.tokenizer import AlbertTokenizer
from albert_tf.text.wordpiece import AlbertWordPieceTokenizer

__all__ = [
    "AlbertMultipleChoicePreprocessor",
    "AlbertPacker",
    "AlbertPreprocessor",
    "AlbertQAPreprocessor",
    "AlbertTokenClassificationPreprocessor",
    "AlbertTokenizer",
    "AlbertWordPieceTokenizer",
    "check_serving_ops",
    "graph_op_types",
    "normalize",
    "normalize_text",
    "tokenizer_from_assets",
]

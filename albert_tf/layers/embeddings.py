"""Factorized ALBERT embeddings: E-wide word + position + type, LayerNorm, dropout."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertEmbeddings(keras.layers.Layer):
    """Sums word, position and type embeddings of width E, then LayerNorm and dropout.

    The E->H projection is not part of this layer (the original keeps it in
    the encoder scope), so the same layer serves E == H models.

    Call args:
        word_ids: int [B, T] SentencePiece ids.
        type_ids: int [B, T] segment ids.

    Returns:
        [B, T, E] embeddings.

    Example:
    >>> layer = AlbertEmbeddings(vocab_size=100, embedding_size=8)
    >>> ids = keras.ops.zeros((2, 5), "int32")
    >>> tuple(layer(ids, ids).shape)
    (2, 5, 8)
    """

    def __init__(
        self,
        vocab_size,
        embedding_size,
        max_position_embeddings=512,
        type_vocab_size=2,
        dropout=0.0,
        initializer_range=0.02,
        layer_norm_eps=1e-12,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.dropout = dropout
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps

        init = keras.initializers.TruncatedNormal(stddev=initializer_range)
        self.word_embeddings = keras.layers.Embedding(
            vocab_size, embedding_size, embeddings_initializer=init,
            dtype=self.dtype_policy, name="word_embeddings",
        )
        self.type_embeddings = keras.layers.Embedding(
            type_vocab_size, embedding_size, embeddings_initializer=init,
            dtype=self.dtype_policy, name="token_type_embeddings",
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_eps, dtype=self.dtype_policy, name="layer_norm"
        )
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)

    def build(self, word_ids_shape, type_ids_shape=None):
        self.word_embeddings.build(word_ids_shape)
        self.type_embeddings.build(word_ids_shape)
        self.position_embeddings = self.add_weight(
            name="position_embeddings",
            shape=(self.max_position_embeddings, self.embedding_size),
            initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range),
        )
        self.layer_norm.build((None, None, self.embedding_size))

    def call(self, word_ids, type_ids, training=None):
        seq_length = ops.shape(word_ids)[1]
        positions = ops.cast(self.position_embeddings[:seq_length], self.compute_dtype)
        x = self.word_embeddings(word_ids) + self.type_embeddings(type_ids) + positions[None]
        return self.dropout_layer(self.layer_norm(x), training=training)

    def compute_output_shape(self, word_ids_shape, type_ids_shape=None):
        return (*word_ids_shape, self.embedding_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size,
            embedding_size=self.embedding_size,
            max_position_embeddings=self.max_position_embeddings,
            type_vocab_size=self.type_vocab_size,
            dropout=self.dropout,
            initializer_range=self.initializer_range,
            layer_norm_eps=self.layer_norm_eps,
        )
        return config

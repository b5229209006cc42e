"""Pretraining head: the masked-LM head tied to the E-wide word embeddings."""

import keras
from keras import ops

from albert_tf.layers.transformer import activation_fn


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertMaskedLMHead(keras.layers.Layer):
    """Gathers masked positions, dense H->E, activation, LayerNorm, tied logits.

    logits = LayerNorm(act(x W + b)) @ word_embeddings^T + output_bias.

    Args:
        word_embeddings: the backbone's `keras.layers.Embedding` of shape
            [V, E]; its matrix is the output projection (weights tied).

    Call args:
        sequence_output: [B, T, H].
        masked_positions: int [B, P] positions to predict.

    Returns:
        float32 logits [B, P, V].

    Example:
    >>> word_embeddings = keras.layers.Embedding(100, 8)
    >>> word_embeddings.build((None,))
    >>> head = AlbertMaskedLMHead(word_embeddings)
    >>> logits = head(keras.ops.ones((2, 5, 16)), np.array([[1, 3], [0, 4]], "int32"))
    >>> tuple(logits.shape), logits.dtype.name
    ((2, 2, 100), 'float32')
    """

    def __init__(
        self,
        word_embeddings,
        hidden_act="gelu_new",
        initializer_range=0.02,
        layer_norm_eps=1e-12,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.word_embeddings = word_embeddings
        self.hidden_act = hidden_act
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        vocab_size, embedding_size = word_embeddings.input_dim, word_embeddings.output_dim
        self.dense = keras.layers.Dense(
            embedding_size, activation=activation_fn(hidden_act),
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=initializer_range),
            dtype=self.dtype_policy, name="dense",
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_eps, dtype=self.dtype_policy, name="layer_norm"
        )
        self.vocab_size = vocab_size

    def build(self, sequence_output_shape, masked_positions_shape=None):
        self.dense.build(sequence_output_shape)
        self.layer_norm.build((None, None, self.word_embeddings.output_dim))
        self.output_bias = self.add_weight(
            name="output_bias", shape=(self.vocab_size,), initializer="zeros",
            autocast=False,
        )

    def call(self, sequence_output, masked_positions):
        gathered = ops.take_along_axis(
            sequence_output, ops.cast(masked_positions, "int32")[:, :, None], axis=1
        )
        x = self.layer_norm(self.dense(gathered))
        # Logits in float32 whatever the compute dtype (mixed precision).
        table = ops.cast(self.word_embeddings.embeddings, "float32")
        return ops.matmul(ops.cast(x, "float32"), ops.transpose(table)) + self.output_bias

    def compute_output_shape(self, sequence_output_shape, masked_positions_shape):
        return (*masked_positions_shape, self.vocab_size)

    def compute_output_spec(self, sequence_output, masked_positions):
        return keras.KerasTensor((*masked_positions.shape, self.vocab_size), dtype="float32")

    def get_config(self):
        # The tied embedding is not part of the config: the task that owns
        # this head passes its backbone's embedding when rebuilding.
        config = super().get_config()
        config.update(
            hidden_act=self.hidden_act,
            initializer_range=self.initializer_range,
            layer_norm_eps=self.layer_norm_eps,
        )
        return config

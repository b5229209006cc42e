"""Heads: the masked-LM head tied to the E-wide word embeddings, and the
original run_squad_v2 SQuAD 2.0 head (beam of starts, conditioned ends,
answer class)."""

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


def squad_v2_p_mask(input_mask, input_type_ids):
    """The original run_squad_v2 `p_mask`: 1 where no answer can start or end.

    The original packs `[CLS] question [SEP] context [SEP]` + padding and
    lets an answer sit only at [CLS] (the "no answer" position) or in the
    context; the question, both [SEP] and the padding are masked.

    Args:
        input_mask: int [B, T], 1 at real tokens.
        input_type_ids: int [B, T], 1 on the context segment (its closing
            [SEP] included).

    Returns:
        float32 [B, T], 1.0 at impossible answer positions, else 0.0.

    Example:
    >>> mask = np.array([[1, 1, 1, 1, 1, 1, 0]], "int32")   # [CLS] q [SEP] c c [SEP] pad
    >>> types = np.array([[0, 0, 0, 1, 1, 1, 0]], "int32")
    >>> keras.ops.convert_to_numpy(squad_v2_p_mask(mask, types))
    array([[0., 1., 1., 0., 0., 1., 1.]], dtype=float32)
    """
    mask = ops.cast(input_mask, "int32")
    # Positions from a cumulative sum, so that symbolic (functional) inputs
    # of unknown length work too.
    positions = ops.cumsum(ops.ones_like(mask), axis=1) - 1
    closing_sep = ops.sum(mask, axis=1, keepdims=True) - 1
    # ops.* comparisons: `==` is not an op on symbolic Keras tensors.
    context = ops.logical_and(
        ops.logical_and(ops.equal(ops.cast(input_type_ids, "int32"), 1), ops.equal(mask, 1)),
        ops.not_equal(positions, closing_sep),
    )
    return 1.0 - ops.cast(ops.logical_or(ops.equal(positions, 0), context), "float32")


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertSquadV2Head(keras.layers.Layer):
    """The SQuAD 2.0 head of the original run_squad_v2, at inference.

    Follows google-research/albert `squad_utils.create_v2_model` with
    `is_training=False` (shapes: B batch, T sequence, H hidden, K
    `start_n_top`, K' `end_n_top`; p_mask positions get logit -1e30):

    - start: `start_logits` = dense_1(x) [B, T]; log-softmax; top K.
    - end, conditioned on each top start k: dense_H(tanh)([x_t ; x_k]),
      LayerNorm (epsilon 1e-12, as the original's contrib layer_norm),
      dense_1 -> [B, K, T]; log-softmax over T; top K' per start.
    - answer class: dense_H(tanh)([softmax(start) @ x ; x_[CLS]]), dropout,
      dense_1 without bias -> `cls_logits` [B], higher = no answer.

    The end layer is conditioned on the beam of predicted starts, as the
    original's prediction graph; the original's training graph conditions
    it on the gold start instead, which this layer does not build.

    Args:
        hidden_size: H.
        start_n_top: K, starts kept (the original's default 5); K <= T.
        end_n_top: K', ends kept per start (default 5); K' <= T.
        dropout: dropout on the answer-class feature (the original's 0.1).
        initializer_range: stddev of the truncated-normal kernel initializer.

    Call args:
        sequence_output: [B, T, H].
        p_mask: [B, T], 1 at positions that cannot hold an answer
            (`squad_v2_p_mask`).

    Returns:
        dict, float32 unless noted:
            start_top_log_probs [B, K], start_top_index int32 [B, K],
            end_top_log_probs [B, K * K'], end_top_index int32 [B, K * K']
            (row k * K' + j is the j-th end of start k), cls_logits [B].

    Example:
    >>> head = AlbertSquadV2Head(hidden_size=8, start_n_top=2, end_n_top=3)
    >>> out = head(keras.ops.ones((1, 6, 8)), np.array([[0, 1, 1, 0, 0, 1]], "float32"))
    >>> {k: tuple(v.shape) for k, v in sorted(out.items())}
    {'cls_logits': (1,), 'end_top_index': (1, 6), 'end_top_log_probs': (1, 6), 'start_top_index': (1, 2), 'start_top_log_probs': (1, 2)}
    """

    def __init__(self, hidden_size, start_n_top=5, end_n_top=5, dropout=0.1,
                 initializer_range=0.02, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        for name, value in (("start_n_top", start_n_top), ("end_n_top", end_n_top)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.hidden_size = hidden_size
        self.start_n_top = start_n_top
        self.end_n_top = end_n_top
        self.dropout = dropout
        self.initializer_range = initializer_range

        def dense(units, name, activation=None, use_bias=True):
            return keras.layers.Dense(
                units, activation=activation, use_bias=use_bias,
                kernel_initializer=keras.initializers.TruncatedNormal(stddev=initializer_range),
                dtype=self.dtype_policy, name=name,
            )

        self.start_dense = dense(1, "start_logits")
        self.end_dense_0 = dense(hidden_size, "end_logits_dense_0", activation="tanh")
        self.end_layer_norm = keras.layers.LayerNormalization(
            epsilon=1e-12, dtype=self.dtype_policy, name="end_logits_layer_norm"
        )
        self.end_dense_1 = dense(1, "end_logits_dense_1")
        self.answer_dense_0 = dense(hidden_size, "answer_class_dense_0", activation="tanh")
        self.answer_dropout = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.answer_dense_1 = dense(1, "answer_class_dense_1", use_bias=False)

    def build(self, sequence_output_shape, p_mask_shape=None):
        h = self.hidden_size
        self.start_dense.build((None, None, h))
        self.end_dense_0.build((None, None, None, 2 * h))
        self.end_layer_norm.build((None, None, None, h))
        self.end_dense_1.build((None, None, None, h))
        self.answer_dense_0.build((None, 2 * h))
        self.answer_dense_1.build((None, h))

    def call(self, sequence_output, p_mask, training=None):
        x = ops.cast(sequence_output, "float32")
        p_mask = ops.cast(p_mask, "float32")
        start_logits = ops.squeeze(self.start_dense(x), -1)
        start_masked = start_logits * (1.0 - p_mask) - 1e30 * p_mask
        start_log_probs = ops.log_softmax(start_masked, axis=-1)
        start_top_log_probs, start_top_index = ops.top_k(start_log_probs, self.start_n_top)
        # [B, K, H]: the sequence output at each kept start.
        start_features = ops.take_along_axis(x, start_top_index[:, :, None], axis=1)
        seq_length = ops.shape(x)[1]
        end_input = ops.concatenate(
            [
                ops.broadcast_to(x[:, None], (ops.shape(x)[0], self.start_n_top, seq_length, self.hidden_size)),
                ops.broadcast_to(start_features[:, :, None],
                                 (ops.shape(x)[0], self.start_n_top, seq_length, self.hidden_size)),
            ],
            axis=-1,
        )
        end_logits = ops.squeeze(self.end_dense_1(self.end_layer_norm(self.end_dense_0(end_input))), -1)
        end_mask = p_mask[:, None, :]
        end_log_probs = ops.log_softmax(end_logits * (1.0 - end_mask) - 1e30 * end_mask, axis=-1)
        end_top_log_probs, end_top_index = ops.top_k(end_log_probs, self.end_n_top)
        beam = self.start_n_top * self.end_n_top

        start_p = ops.softmax(start_masked, axis=-1)
        start_feature = ops.einsum("bt,bth->bh", start_p, x)
        answer = self.answer_dense_0(ops.concatenate([start_feature, x[:, 0]], axis=-1))
        answer = self.answer_dropout(answer, training=training)
        return {
            "start_top_log_probs": start_top_log_probs,
            "start_top_index": ops.cast(start_top_index, "int32"),
            "end_top_log_probs": ops.reshape(end_top_log_probs, (-1, beam)),
            "end_top_index": ops.cast(ops.reshape(end_top_index, (-1, beam)), "int32"),
            "cls_logits": ops.squeeze(self.answer_dense_1(answer), -1),
        }

    def compute_output_spec(self, sequence_output, p_mask, training=None):
        batch = sequence_output.shape[0]
        beam = self.start_n_top * self.end_n_top
        return {
            "start_top_log_probs": keras.KerasTensor((batch, self.start_n_top), dtype="float32"),
            "start_top_index": keras.KerasTensor((batch, self.start_n_top), dtype="int32"),
            "end_top_log_probs": keras.KerasTensor((batch, beam), dtype="float32"),
            "end_top_index": keras.KerasTensor((batch, beam), dtype="int32"),
            "cls_logits": keras.KerasTensor((batch,), dtype="float32"),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_size=self.hidden_size,
            start_n_top=self.start_n_top,
            end_n_top=self.end_n_top,
            dropout=self.dropout,
            initializer_range=self.initializer_range,
        )
        return config

"""The ALBERT transformer layer (post-LN, BERT style) and its activations."""

import math

import keras
from keras import ops

# GR/Hugging Face add -10000 to masked attention logits; exp() of it is 0 in
# float32, so outputs at real positions do not depend on padding.
_MASK_ADDER = -10000.0


def activation_fn(name):
    """Returns the activation function for an `AlbertConfig.hidden_act` name.

    "gelu_new" is GELU in its tanh form (the original ALBERT's "gelu"),
    "gelu_exact" the erf form, "swish" is x * sigmoid(x).

    Raises:
        ValueError: `name` is not one of `albert_tf.config.ACTIVATIONS`.

    Example:
    >>> gelu = activation_fn("gelu_new")
    >>> np.round(keras.ops.convert_to_numpy(gelu(np.array([-1.0, 0.0, 1.0], "float32"))), 4)
    array([-0.1588,  0.    ,  0.8412], dtype=float32)
    """
    functions = {
        "gelu_new": lambda x: keras.activations.gelu(x, approximate=True),
        "gelu_exact": lambda x: keras.activations.gelu(x, approximate=False),
        "relu": keras.activations.relu,
        "tanh": keras.activations.tanh,
        "swish": keras.activations.silu,
    }
    if name not in functions:
        raise ValueError(f"Unknown activation {name!r}; expected one of {sorted(functions)}")
    return functions[name]


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertTransformerLayer(keras.layers.Layer):
    """Self-attention + residual + LayerNorm, then FFN + residual + LayerNorm.

    Shapes: B batch, T sequence, H hidden, N heads, D = H / N head size.
    Query/key/value kernels are [H, N, D] and the attention output kernel
    [N, D, H] (the original's [H, H] kernels, reshaped).

    Call args:
        hidden_states: [B, T, H].
        padding_mask: int or bool [B, T], 1 at real tokens.

    Returns:
        [B, T, H].

    Example:
    >>> layer = AlbertTransformerLayer(hidden_size=8, num_attention_heads=2,
    ...                                intermediate_size=16)
    >>> x = keras.ops.ones((1, 3, 8))
    >>> tuple(layer(x, keras.ops.ones((1, 3), "int32")).shape)
    (1, 3, 8)
    """

    def __init__(
        self,
        hidden_size,
        num_attention_heads,
        intermediate_size,
        hidden_act="gelu_new",
        hidden_dropout=0.0,
        attention_dropout=0.0,
        initializer_range=0.02,
        layer_norm_eps=1e-12,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_size = hidden_size
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout = hidden_dropout
        self.attention_dropout = attention_dropout
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.head_size = hidden_size // num_attention_heads

        init = keras.initializers.TruncatedNormal(stddev=initializer_range)
        heads, head_size = num_attention_heads, self.head_size

        def projection(name):
            return keras.layers.EinsumDense(
                "btc,cnd->btnd", output_shape=(None, heads, head_size), bias_axes="nd",
                kernel_initializer=init, dtype=self.dtype_policy, name=name,
            )

        self.query = projection("query")
        self.key = projection("key")
        self.value = projection("value")
        self.attention_output = keras.layers.EinsumDense(
            "btnd,ndc->btc", output_shape=(None, hidden_size), bias_axes="c",
            kernel_initializer=init, dtype=self.dtype_policy, name="attention_output",
        )
        self.attention_layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_eps, dtype=self.dtype_policy, name="attention_layer_norm"
        )
        self.ffn = keras.layers.Dense(
            intermediate_size, activation=activation_fn(hidden_act),
            kernel_initializer=init, dtype=self.dtype_policy, name="ffn",
        )
        self.ffn_output = keras.layers.Dense(
            hidden_size, kernel_initializer=init, dtype=self.dtype_policy, name="ffn_output"
        )
        self.output_layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_eps, dtype=self.dtype_policy, name="output_layer_norm"
        )
        self.attention_dropout_layer = keras.layers.Dropout(attention_dropout, dtype=self.dtype_policy)
        self.hidden_dropout_layer = keras.layers.Dropout(hidden_dropout, dtype=self.dtype_policy)

    def build(self, hidden_states_shape, padding_mask_shape=None):
        x_shape = (None, None, self.hidden_size)
        for layer in (self.query, self.key, self.value):
            layer.build(x_shape)
        self.attention_output.build((None, None, self.num_attention_heads, self.head_size))
        self.attention_layer_norm.build(x_shape)
        self.ffn.build(x_shape)
        self.ffn_output.build((None, None, self.intermediate_size))
        self.output_layer_norm.build(x_shape)

    def call(self, hidden_states, padding_mask, training=None):
        query = self.query(hidden_states) * ops.cast(1.0 / math.sqrt(self.head_size), self.compute_dtype)
        key = self.key(hidden_states)
        value = self.value(hidden_states)
        # Softmax in float32 whatever the compute dtype (mixed precision).
        scores = ops.cast(ops.einsum("bqnd,bknd->bnqk", query, key), "float32")
        mask = ops.cast(padding_mask, "float32")[:, None, None, :]
        probs = ops.softmax(scores + (1.0 - mask) * _MASK_ADDER, axis=-1)
        probs = self.attention_dropout_layer(ops.cast(probs, self.compute_dtype), training=training)
        context = ops.einsum("bnqk,bknd->bqnd", probs, value)
        attention = self.hidden_dropout_layer(self.attention_output(context), training=training)
        hidden_states = self.attention_layer_norm(hidden_states + attention)

        ffn = self.hidden_dropout_layer(self.ffn_output(self.ffn(hidden_states)), training=training)
        return self.output_layer_norm(hidden_states + ffn)

    def compute_output_shape(self, hidden_states_shape, padding_mask_shape=None):
        return hidden_states_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_size=self.hidden_size,
            num_attention_heads=self.num_attention_heads,
            intermediate_size=self.intermediate_size,
            hidden_act=self.hidden_act,
            hidden_dropout=self.hidden_dropout,
            attention_dropout=self.attention_dropout,
            initializer_range=self.initializer_range,
            layer_norm_eps=self.layer_norm_eps,
        )
        return config

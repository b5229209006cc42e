"""`AlbertBackbone`: the whole ALBERT encoder, readable top to bottom.

raw ids -> factorized embeddings (E) -> projection E->H -> L applications of
shared transformer groups -> sequence output, pooled first token.
"""

import keras

from albert_tf.config import AlbertConfig
from albert_tf.layers import AlbertEmbeddings, AlbertTransformerLayer

INPUT_NAMES = ("input_word_ids", "input_mask", "input_type_ids")


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertBackbone(keras.Model):
    """The ALBERT encoder as a Keras functional model.

    Inputs (dict, int32 [B, T], the TF Hub names):
        input_word_ids: SentencePiece ids, `[CLS] A [SEP] (B [SEP])` + padding.
        input_mask: 1 at real tokens, 0 at padding.
        input_type_ids: 0 for the first segment, 1 for the second.

    Outputs (dict):
        sequence_output: [B, T, H] last layer.
        pooled_output: [B, H] tanh(dense(first token)).
        encoder_outputs: list of L * inner_group_num tensors [B, T, H], one per
            transformer layer application (as the original's all_layer_outputs).

    Parameter sharing follows the original: `num_hidden_groups` groups of
    `inner_group_num` transformer layers; layer application `l` runs every
    inner layer of group `config.group_of_layer(l)`, the original's
    `int(l / L * G)`: G need not divide L (5 layers in 2 groups use groups
    0, 0, 0, 1, 1).

    Args:
        config: an `AlbertConfig` (or its dict form).

    Example:
    >>> backbone = AlbertBackbone.from_preset("albert_tiny")
    >>> ids = np.array([[2, 48, 3, 0]], "int32")
    >>> out = backbone({"input_word_ids": ids, "input_mask": (ids > 0).astype("int32"),
    ...                 "input_type_ids": np.zeros_like(ids)})
    >>> tuple(out["sequence_output"].shape), tuple(out["pooled_output"].shape)
    ((1, 4, 64), (1, 64))
    """

    # Its declaration in the task registry (`albert_tf.tasks.registry`):
    # the encoder alone is the "backbone" task, with no head.
    task_names = ("backbone",)
    head_args = ()
    task_name = "backbone"
    variant = None

    def __init__(self, config, dtype=None, **kwargs):
        if isinstance(config, dict):
            config = AlbertConfig.from_dict(config)
        init = keras.initializers.TruncatedNormal(stddev=config.initializer_range)

        # === Layers ===
        embeddings = AlbertEmbeddings(
            vocab_size=config.vocab_size,
            embedding_size=config.embedding_size,
            max_position_embeddings=config.max_position_embeddings,
            type_vocab_size=config.type_vocab_size,
            dropout=config.hidden_dropout_prob,
            initializer_range=config.initializer_range,
            layer_norm_eps=config.layer_norm_eps,
            dtype=dtype,
            name="embeddings",
        )
        projection = None
        if config.has_embedding_projection:
            projection = keras.layers.Dense(
                config.hidden_size, kernel_initializer=init, dtype=dtype,
                name="embedding_projection",
            )
        # Keyed by group index: like the original, only groups some layer
        # uses exist (all G unless G > L; see `AlbertConfig.used_groups`).
        groups = {
            g: [
                AlbertTransformerLayer(
                    hidden_size=config.hidden_size,
                    num_attention_heads=config.num_attention_heads,
                    intermediate_size=config.intermediate_size,
                    hidden_act=config.hidden_act,
                    hidden_dropout=config.hidden_dropout_prob,
                    attention_dropout=config.attention_probs_dropout_prob,
                    initializer_range=config.initializer_range,
                    layer_norm_eps=config.layer_norm_eps,
                    dtype=dtype,
                    name=f"group_{g}_inner_{i}",
                )
                for i in range(config.inner_group_num)
            ]
            for g in config.used_groups
        }
        pooler = keras.layers.Dense(
            config.hidden_size, activation="tanh", kernel_initializer=init,
            dtype=dtype, name="pooler",
        )

        # === Functional graph ===
        inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in INPUT_NAMES}
        x = embeddings(inputs["input_word_ids"], inputs["input_type_ids"])
        if projection is not None:
            x = projection(x)
        encoder_outputs = []
        for layer_index in range(config.num_hidden_layers):
            for layer in groups[config.group_of_layer(layer_index)]:
                x = layer(x, inputs["input_mask"])
                encoder_outputs.append(x)
        pooled = pooler(x[:, 0, :])
        outputs = {
            "sequence_output": x,
            "pooled_output": pooled,
            "encoder_outputs": encoder_outputs,
        }
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

        # === Config ===
        self.config = config
        self.embeddings = embeddings
        self.embedding_projection = projection
        self.groups = groups
        self.pooler = pooler

    @property
    def word_embeddings(self):
        """The [V, E] `keras.layers.Embedding` (tied to the MLM output)."""
        return self.embeddings.word_embeddings

    @classmethod
    def from_preset(cls, name, **kwargs):
        """Builds a randomly initialized backbone of preset `name`.

        Presets are shapes only; weights come from `albert_tf.convert` or a
        saved model.
        """
        return cls(AlbertConfig.from_preset(name), **kwargs)

    def get_config(self):
        return {
            "config": self.config.to_dict(),
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.saving.serialize_keras_object(self.dtype_policy),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.saving.deserialize_keras_object(config["dtype"])
        return cls(**config)

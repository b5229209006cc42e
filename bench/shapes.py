"""Model shapes for the benchmarks, taken from albert_tf's preset table (one place)."""

from albert_tf.config import AlbertConfig

PRESET_OF_SIZE = {"tiny": "albert_tiny", "base": "albert_base_v2"}


def config_of(size):
    """The `AlbertConfig` a benchmark size name ("tiny" or "base") stands for."""
    return AlbertConfig.from_preset(PRESET_OF_SIZE[size])


def keras_hub_backbone(config, dtype=None):
    """keras-hub's `AlbertBackbone` with the same shape as `config` (random weights)."""
    import keras_hub

    return keras_hub.models.AlbertBackbone(
        dtype=dtype,
        vocabulary_size=config.vocab_size, num_layers=config.num_hidden_layers,
        num_heads=config.num_attention_heads, embedding_dim=config.embedding_size,
        hidden_dim=config.hidden_size, intermediate_dim=config.intermediate_size,
        num_groups=config.num_hidden_groups, num_inner_repetitions=config.inner_group_num,
        dropout=config.hidden_dropout_prob, max_sequence_length=config.max_position_embeddings,
    )


def transformers_config(config, **overrides):
    """transformers' `AlbertConfig` with the same shape as `config` (same field names)."""
    import transformers

    fields = {k: v for k, v in config.to_dict().items() if k != "always_project_embeddings"}
    return transformers.AlbertConfig(**fields, **overrides)

"""keras-hub `AlbertBackbone` -> albert_tf `AlbertBackbone`.

keras-hub keeps q/k/v kernels as [H, N, D] and the attention output as
[N, D, H], like albert_tf, so every tensor maps without reshaping. keras-hub
always creates the E->H projection, so an E == H model converts with
`always_project_embeddings=True`. keras-hub has no MLM/SOP heads to convert.
"""

import pathlib

from albert_tf.config import AlbertConfig
from albert_tf.convert._mapping import (
    ConversionError,
    Entry,
    TensorSource,
    apply_name_map,
    build_model,
    check_task,
)

FORMAT = "keras-hub"


def name_map(config):
    """The keras-hub -> albert_tf name map (keras-hub `weight.path` -> ours).

    Raises:
        ConversionError: `config` has a group layout keras-hub cannot
            represent (see `check_group_layout`).
    """
    check_group_layout(config)
    v, e, h = config.vocab_size, config.embedding_size, config.hidden_size
    i_size, p, t = config.intermediate_size, config.max_position_embeddings, config.type_vocab_size
    n, d = config.num_attention_heads, config.head_size
    entries = [
        Entry("token_embedding/embeddings", "embeddings/word_embeddings/embeddings", (v, e)),
        Entry("position_embedding/embeddings", "embeddings/position_embeddings", (p, e)),
        Entry("segment_embedding/embeddings", "embeddings/token_type_embeddings/embeddings", (t, e)),
        Entry("embeddings_layer_norm/gamma", "embeddings/layer_norm/gamma", (e,)),
        Entry("embeddings_layer_norm/beta", "embeddings/layer_norm/beta", (e,)),
        Entry("embedding_projection/kernel", "embedding_projection/kernel", (e, h)),
        Entry("embedding_projection/bias", "embedding_projection/bias", (h,)),
    ]
    for g in range(config.num_hidden_groups):
        for i in range(config.inner_group_num):
            src = f"group_{g}_inner_layer_{i}/"
            dst = f"group_{g}_inner_{i}/"
            entries += [
                Entry(src + "self_attention_layer/query/kernel", dst + "query/kernel", (h, n, d)),
                Entry(src + "self_attention_layer/query/bias", dst + "query/bias", (n, d)),
                Entry(src + "self_attention_layer/key/kernel", dst + "key/kernel", (h, n, d)),
                Entry(src + "self_attention_layer/key/bias", dst + "key/bias", (n, d)),
                Entry(src + "self_attention_layer/value/kernel", dst + "value/kernel", (h, n, d)),
                Entry(src + "self_attention_layer/value/bias", dst + "value/bias", (n, d)),
                Entry(src + "self_attention_layer/attention_output/kernel", dst + "attention_output/kernel", (n, d, h)),
                Entry(src + "self_attention_layer/attention_output/bias", dst + "attention_output/bias", (h,)),
                Entry(src + "self_attention_layer_norm/gamma", dst + "attention_layer_norm/gamma", (h,)),
                Entry(src + "self_attention_layer_norm/beta", dst + "attention_layer_norm/beta", (h,)),
                Entry(src + "feedforward_intermediate_dense/kernel", dst + "ffn/kernel", (h, i_size)),
                Entry(src + "feedforward_intermediate_dense/bias", dst + "ffn/bias", (i_size,)),
                Entry(src + "feedforward_output_dense/kernel", dst + "ffn_output/kernel", (i_size, h)),
                Entry(src + "feedforward_output_dense/bias", dst + "ffn_output/bias", (h,)),
                Entry(src + "feedforward_layer_norm/gamma", dst + "output_layer_norm/gamma", (h,)),
                Entry(src + "feedforward_layer_norm/beta", dst + "output_layer_norm/beta", (h,)),
            ]
    entries += [
        Entry("pooled_dense/kernel", "pooler/kernel", (h, h)),
        Entry("pooled_dense/bias", "pooler/bias", (h,)),
    ]
    return entries


def check_group_layout(config):
    """Fails for configs whose layer -> group assignment keras-hub cannot hold.

    keras-hub's `AlbertBackbone` runs each group `num_layers // num_groups`
    times in a row, so it needs G to divide L; the original (and albert_tf)
    assign layer l to group `int(l / L * G)`, which also covers 5 layers in
    2 groups (0, 0, 0, 1, 1) and, by float rounding, differs from keras-hub
    for a few divisible pairs (L = G = 22 at layer 15).

    Raises:
        ConversionError: naming L, G and the layers keras-hub would place
            elsewhere.
    """
    layers, groups = config.num_hidden_layers, config.num_hidden_groups
    if layers % groups:
        raise ConversionError(
            f"keras-hub cannot represent num_hidden_layers={layers} with num_hidden_groups={groups}: "
            "its AlbertBackbone needs num_layers divisible by num_groups (the original ALBERT "
            "does not); convert through the TF1 checkpoint or Hugging Face format instead"
        )
    differ = [l for l in range(layers) if l // (layers // groups) != config.group_of_layer(l)]
    if differ:
        raise ConversionError(
            f"keras-hub cannot represent num_hidden_layers={layers} with num_hidden_groups={groups}: "
            f"it runs other groups than the original ALBERT at layers {differ}"
        )


def config_from_keras_hub(kh_config):
    """`AlbertConfig` of a keras-hub `AlbertBackbone.get_config()` dict."""
    embedding, hidden = kh_config["embedding_dim"], kh_config["hidden_dim"]
    dropout = kh_config.get("dropout", 0.0)
    return AlbertConfig(
        vocab_size=kh_config["vocabulary_size"],
        embedding_size=embedding,
        hidden_size=hidden,
        num_hidden_layers=kh_config["num_layers"],
        num_hidden_groups=kh_config.get("num_groups", 1),
        inner_group_num=kh_config.get("num_inner_repetitions", 1),
        num_attention_heads=kh_config["num_heads"],
        intermediate_size=kh_config["intermediate_dim"],
        hidden_act="gelu_new",  # keras-hub uses the tanh GELU (gelu_approximate)
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
        max_position_embeddings=kh_config.get("max_sequence_length", 512),
        type_vocab_size=kh_config.get("num_segments", 2),
        layer_norm_eps=1e-12,
        always_project_embeddings=embedding == hidden,
    )


def load_keras_hub_backbone(path):
    """Loads a keras-hub ALBERT backbone from a preset directory or `.keras` file."""
    import keras
    import keras_hub

    path = pathlib.Path(path)
    try:
        if path.is_file():
            return keras.saving.load_model(path, compile=False)
        if path.is_dir():
            return keras_hub.models.AlbertBackbone.from_preset(str(path))
    except Exception as error:
        raise ConversionError(f"cannot load a keras-hub AlbertBackbone from {path}: {error}") from error
    raise ConversionError(f"{path} is neither a keras-hub preset directory nor a .keras file")


def convert(backbone, task="auto", allow_unused=False):
    """Converts and returns `(model, ConversionReport)`; see `from_keras_hub`."""
    if isinstance(backbone, (str, pathlib.Path)):
        backbone = load_keras_hub_backbone(backbone)
    if type(backbone).__name__ != "AlbertBackbone" or not hasattr(backbone, "get_config"):
        raise TypeError(f"from_keras_hub expects a keras_hub.models.AlbertBackbone, "
                        f"got {type(backbone).__name__}")
    kh_config = backbone.get_config()
    if "num_inner_repetitions" not in kh_config:
        raise TypeError("from_keras_hub expects a keras_hub.models.AlbertBackbone "
                        f"(config keys {sorted(kh_config)})")
    config = config_from_keras_hub(kh_config)
    description = f"<keras_hub AlbertBackbone {backbone.name!r}>"
    task = check_task(task, "backbone", description)
    arrays = {w.path: w.numpy() for w in backbone.weights}
    source = TensorSource.from_arrays(arrays, description)
    model = build_model(config, task)
    report = apply_name_map(model, name_map(config), source, format_name=FORMAT, task=task,
                            allow_unused=allow_unused)
    return model, report


def from_keras_hub(backbone, task="auto", allow_unused=False):
    """Converts a `keras_hub.models.AlbertBackbone` into an albert_tf `AlbertBackbone`.

    Args:
        backbone: the keras-hub backbone object, or a path to a keras-hub
            preset directory / `.keras` file holding one.
        task: "auto" or "backbone" (keras-hub backbones carry no heads).
        allow_unused: unknown weights warn instead of failing.

    Returns:
        An `AlbertBackbone` whose outputs match keras-hub's (keras-hub's
        `token_ids`, `segment_ids`, `padding_mask` become `input_word_ids`,
        `input_type_ids`, `input_mask`).

    Raises:
        TypeError: `backbone` is not a keras-hub ALBERT backbone.
        ConversionError: a task other than "backbone", or a weight that
            does not fit (named); nothing is modified.

    Example:
    >>> import keras_hub
    >>> kh = keras_hub.models.AlbertBackbone(vocabulary_size=300, num_layers=2, num_heads=2,
    ...                                      embedding_dim=16, hidden_dim=32, intermediate_dim=64)
    >>> backbone = albert_tf.convert.from_keras_hub(kh)
    >>> ids = np.array([[2, 45, 67, 3]], "int32")
    >>> ours = backbone({"input_word_ids": ids, "input_mask": np.ones_like(ids), "input_type_ids": np.zeros_like(ids)})
    >>> theirs = kh({"token_ids": ids, "padding_mask": np.ones_like(ids), "segment_ids": np.zeros_like(ids)})
    >>> bool(np.abs(ours["sequence_output"] - theirs["sequence_output"]).max() < 1e-5)
    True
    """
    return convert(backbone, task=task, allow_unused=allow_unused)[0]

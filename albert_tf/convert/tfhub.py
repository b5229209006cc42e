"""TF2 TF Hub ALBERT encoder SavedModels -> albert_tf.

Two layouts, told apart by their variable names:

(a) Google's published ALBERT TF2 modules (tfhub.dev/tensorflow/albert_en_*):
    SavedModels of tensorflow/models' official.nlp `AlbertEncoder`, one
    shared `TransformerEncoderBlock` named "transformer" (so G = 1, one inner
    layer), Keras 2 variable names, q/k/v kernels [H, N, D].
(b) Modules written by `albert_tf.export.export_encoder_module`: variable
    names are albert_tf's own Keras paths, `assets/albert_config.json` holds
    the config.

The SavedModel is not executed: variable names come from its object graph
and values from its `variables/` checkpoint, so modules whose functions need
ops this process lacks still convert. The number of layers L is not in the
variables of (a): it comes from `config=`, an `albert_config.json` asset, or
the count of `encoder_outputs_*` outputs of the serving signature.
"""

import pathlib
import re

import tensorflow as tf

from albert_tf.config import AlbertConfig
from albert_tf.convert._mapping import (
    ConversionError,
    Entry,
    TensorSource,
    apply_name_map,
    build_model,
    check_task,
    resolve_config,
    source_names,
)
from albert_tf.tasks import AlbertPretrainer

FORMAT = "TF Hub SavedModel"

_OFFICIAL_MARKER = "transformer/self_attention/query/kernel"
_OWN_MARKER = "group_0_inner_0/query/kernel"
# The MLM head an albert_tf pretrainer export holds, under its variable paths.
OWN_MLM_HEAD = (
    "mlm_head/dense/kernel", "mlm_head/dense/bias", "mlm_head/layer_norm/gamma",
    "mlm_head/layer_norm/beta", "mlm_head/output_bias",
)


def official_name_map(config, with_mlm=False):
    """The official.nlp AlbertEncoder (TF Hub TF2) -> albert_tf name map.

    Older releases named the attention output `transformer/self_attention_output`
    (aliases below) and the MLM bias `cls/predictions/output_bias`.

    Args:
        config: `AlbertConfig` of the module (one shared layer).
        with_mlm: also map the module's `mlm` head (official.nlp MaskedLM;
            it has no SOP head).
    """
    v, e, h = config.vocab_size, config.embedding_size, config.hidden_size
    i_size, p, t = config.intermediate_size, config.max_position_embeddings, config.type_vocab_size
    n, d = config.num_attention_heads, config.head_size
    if config.num_hidden_groups != 1 or config.inner_group_num != 1:
        raise ConversionError("official.nlp AlbertEncoder modules share one layer; "
                              f"config has {config.num_hidden_groups} groups x "
                              f"{config.inner_group_num} inner layers")
    tr, dst = "transformer/", "group_0_inner_0/"
    entries = [
        Entry("word_embeddings/embeddings", "embeddings/word_embeddings/embeddings", (v, e)),
        Entry("position_embedding/embeddings", "embeddings/position_embeddings", (p, e)),
        Entry("type_embeddings/embeddings", "embeddings/token_type_embeddings/embeddings", (t, e)),
        Entry("embeddings/layer_norm/gamma", "embeddings/layer_norm/gamma", (e,)),
        Entry("embeddings/layer_norm/beta", "embeddings/layer_norm/beta", (e,)),
    ]
    if config.has_embedding_projection:
        entries += [
            Entry("embedding_projection/kernel", "embedding_projection/kernel", (e, h)),
            Entry("embedding_projection/bias", "embedding_projection/bias", (h,)),
        ]
    entries += [
        Entry(tr + "self_attention/query/kernel", dst + "query/kernel", (h, n, d)),
        Entry(tr + "self_attention/query/bias", dst + "query/bias", (n, d)),
        Entry(tr + "self_attention/key/kernel", dst + "key/kernel", (h, n, d)),
        Entry(tr + "self_attention/key/bias", dst + "key/bias", (n, d)),
        Entry(tr + "self_attention/value/kernel", dst + "value/kernel", (h, n, d)),
        Entry(tr + "self_attention/value/bias", dst + "value/bias", (n, d)),
        Entry(tr + "self_attention/attention_output/kernel", dst + "attention_output/kernel",
              (n, d, h), aliases=(tr + "self_attention_output/kernel",)),
        Entry(tr + "self_attention/attention_output/bias", dst + "attention_output/bias",
              (h,), aliases=(tr + "self_attention_output/bias",)),
        Entry(tr + "self_attention_layer_norm/gamma", dst + "attention_layer_norm/gamma", (h,)),
        Entry(tr + "self_attention_layer_norm/beta", dst + "attention_layer_norm/beta", (h,)),
        Entry(tr + "intermediate/kernel", dst + "ffn/kernel", (h, i_size)),
        Entry(tr + "intermediate/bias", dst + "ffn/bias", (i_size,)),
        Entry(tr + "output/kernel", dst + "ffn_output/kernel", (i_size, h)),
        Entry(tr + "output/bias", dst + "ffn_output/bias", (h,)),
        Entry(tr + "output_layer_norm/gamma", dst + "output_layer_norm/gamma", (h,)),
        Entry(tr + "output_layer_norm/beta", dst + "output_layer_norm/beta", (h,)),
        Entry("pooler_transform/kernel", "pooler/kernel", (h, h)),
        Entry("pooler_transform/bias", "pooler/bias", (h,)),
    ]
    if with_mlm:
        entries += [
            Entry("cls/predictions/transform/dense/kernel", "mlm_head/dense/kernel", (h, e)),
            Entry("cls/predictions/transform/dense/bias", "mlm_head/dense/bias", (e,)),
            Entry("cls/predictions/transform/LayerNorm/gamma", "mlm_head/layer_norm/gamma", (e,)),
            Entry("cls/predictions/transform/LayerNorm/beta", "mlm_head/layer_norm/beta", (e,)),
            Entry("cls/predictions/output_bias/bias", "mlm_head/output_bias", (v,),
                  aliases=("cls/predictions/output_bias",)),
        ]
    return entries


def own_name_map(model):
    """The albert_tf export -> albert_tf name map: names are our own Keras paths.

    The exporter writes every backbone variable (and a pretrainer's MLM head)
    under its `variable.path`, so the map is the identity on `model`'s weights
    (the SOP head is never exported).
    """
    return [
        Entry(w.path, w.path, tuple(w.shape))
        for w in model.weights
        if not w.path.startswith("sop_head/")
    ]


def read_saved_model_variables(directory):
    """{variable name: checkpoint key} and signature outputs, without executing.

    The SavedModel's object graph and its checkpoint's object graph number
    their nodes alike; a variable node's name is in the former, the key of
    its value in the latter.
    """
    from tensorflow.core.protobuf import saved_model_pb2, trackable_object_graph_pb2

    directory = pathlib.Path(directory)
    pb = directory / "saved_model.pb"
    if not pb.is_file():
        raise ConversionError(f"{directory} is not a SavedModel (no saved_model.pb)")
    try:
        saved_model = saved_model_pb2.SavedModel()
        saved_model.ParseFromString(pb.read_bytes())
        meta_graph = saved_model.meta_graphs[0]
        reader = tf.train.load_checkpoint(str(directory / "variables" / "variables"))
        graph = trackable_object_graph_pb2.TrackableObjectGraph()
        graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    except ConversionError:
        raise
    except Exception as error:
        raise ConversionError(f"cannot read SavedModel {directory}: {error}") from error
    keys = {}
    for node_id, node in enumerate(meta_graph.object_graph_def.nodes):
        if node.WhichOneof("kind") != "variable":
            continue
        name = re.sub(r":\d+$", "", node.variable.name)
        attributes = [a.checkpoint_key for a in graph.nodes[node_id].attributes
                      if a.name == "VARIABLE_VALUE"]
        if attributes:
            keys.setdefault(name, attributes[0])
    outputs = {}
    for name, signature in meta_graph.signature_def.items():
        outputs[name] = list(signature.outputs)
    return keys, reader, outputs


def _source(directory):
    keys, reader, outputs = read_saved_model_variables(directory)
    shapes_by_key = reader.get_variable_to_shape_map()
    dtypes_by_key = reader.get_variable_to_dtype_map()
    missing = [k for k in keys.values() if k not in shapes_by_key]
    if missing:
        raise ConversionError(f"SavedModel {directory}: checkpoint lacks values {missing}")
    source = TensorSource(
        shapes={name: tuple(shapes_by_key[key]) for name, key in keys.items()},
        dtypes={name: dtypes_by_key[key].as_numpy_dtype for name, key in keys.items()},
        read=lambda name: reader.get_tensor(keys[name]),
        description=str(directory),
    )
    return source, outputs


def _num_layers(outputs):
    serving = outputs.get("serving_default", [])
    layers = [o for o in serving if re.fullmatch(r"encoder_outputs(_\d+)?", o)]
    return len(layers) or None


def _config_asset(directory):
    for place in ("assets/albert_config.json", "assets.extra/albert_config.json",
                  "albert_config.json"):
        if (directory / place).is_file():
            return directory / place
    return None


def _official_config(source, num_layers, description):
    """Infers an `AlbertConfig` from official.nlp variable shapes (+ L)."""
    shapes = source.shapes
    try:
        v, e = shapes["word_embeddings/embeddings"]
        p = shapes["position_embedding/embeddings"][0]
        t = shapes["type_embeddings/embeddings"][0]
        h, n, d = shapes[_OFFICIAL_MARKER]
        i_size = shapes["transformer/intermediate/kernel"][1]
    except KeyError as error:
        raise ConversionError(f"{description} lacks official.nlp AlbertEncoder tensor {error}") from error
    if num_layers is None:
        raise ConversionError(
            f"{description}: the number of layers is not stored in the variables and the "
            "serving signature has no encoder_outputs; pass config= (CLI: --config)"
        )
    return AlbertConfig(
        vocab_size=v, embedding_size=e, hidden_size=h, num_hidden_layers=num_layers,
        num_attention_heads=n, intermediate_size=i_size, max_position_embeddings=p,
        type_vocab_size=t, hidden_act="gelu_new",
    )


def convert(path, config=None, task="auto", allow_unused=False):
    """Converts and returns `(model, ConversionReport)`; see `from_tfhub`."""
    directory = pathlib.Path(path)
    source, outputs = _source(directory)
    if _OFFICIAL_MARKER in source.shapes:
        layout = "official"
        has_mlm = "cls/predictions/transform/dense/kernel" in source.shapes
    elif _OWN_MARKER in source.shapes:
        layout = "albert_tf"
        has_mlm = "mlm_head/dense/kernel" in source.shapes
    else:
        raise ConversionError(
            f"{directory} holds neither an official.nlp AlbertEncoder ({_OFFICIAL_MARKER!r}) "
            f"nor an albert_tf export ({_OWN_MARKER!r}); variables: {sorted(source.shapes)[:8]}..."
        )
    # "auto" keeps the encoder: a TF Hub module is used as one even when it
    # also carries the MLM head.
    task = check_task(task, "pretraining" if has_mlm else "backbone", str(directory), auto="backbone")

    config = resolve_config(config)
    if config is None and _config_asset(directory) is not None:
        config = AlbertConfig.from_json_file(_config_asset(directory))
    if config is None:
        if layout != "official":
            raise ConversionError(f"{directory} has no assets/albert_config.json; pass config=")
        config = _official_config(source, _num_layers(outputs), str(directory))

    model = build_model(config, task)
    with_mlm = isinstance(model, AlbertPretrainer)
    # Only the MLM head (held by AlbertPretrainer) may be dropped; any other
    # tensor is refused unless allow_unused.
    if layout == "official":
        entries = official_name_map(config, with_mlm=with_mlm)
        heads = source_names(official_name_map(config, with_mlm=True)) - source_names(
            official_name_map(config))
    else:
        entries = own_name_map(model)
        heads = OWN_MLM_HEAD
    sop = ()
    if with_mlm:
        # Hub MLM modules have no SOP head: a zero head gives 50/50 logits.
        for variable in model.sop_head.weights:
            variable.assign(tf.zeros(variable.shape))
        sop = [variable.path for variable in model.sop_head.weights]
    report = apply_name_map(
        model, entries, source, format_name=FORMAT, task=task, head_names=heads,
        # The exporter's `do_lower_case` flag is tokenizer state, not a weight.
        ignore=[n for n in source.shapes if n == "do_lower_case"],
        allow_unused=allow_unused,
        allow_uninitialized=sop,
    )
    return model, report


def from_tfhub(path, config=None, task="auto", allow_unused=False):
    """Converts a TF2 TF Hub ALBERT encoder SavedModel into an `AlbertBackbone`.

    Reads Google's official ALBERT TF2 modules (official.nlp AlbertEncoder
    variable names) and modules written by `albert_tf.export`.

    Args:
        path: the SavedModel directory (a downloaded, extracted module).
        config: optional `AlbertConfig`/dict/preset/JSON path; otherwise the
            module's `assets/albert_config.json`, or shapes + the number of
            `encoder_outputs_*` in its serving signature.
        task: "auto"/"backbone", or "pretraining" for a module with an MLM
            head (its SOP head, absent from TF Hub modules, is zeros).
        allow_unused: unknown variables warn instead of failing.

    Returns:
        An `AlbertBackbone` (or `AlbertPretrainer`).

    Raises:
        ConversionError: an unreadable or unknown SavedModel, a task it does
            not carry, or a variable that does not fit (named).

    Example:
    >>> from albert_tf.export import export_encoder_module
    >>> backbone = AlbertBackbone.from_preset("albert_tiny")
    >>> export_encoder_module(backbone, "hub/albert_encoder")
    PosixPath('hub/albert_encoder')
    >>> converted = albert_tf.convert.from_tfhub("hub/albert_encoder")
    >>> same = [np.array_equal(a, b) for a, b in zip(converted.get_weights(), backbone.get_weights())]
    >>> type(converted).__name__, all(same)
    ('AlbertBackbone', True)
    """
    return convert(path, config=config, task=task, allow_unused=allow_unused)[0]

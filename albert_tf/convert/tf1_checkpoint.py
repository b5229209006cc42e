"""Original google-research/albert TF1 checkpoints -> albert_tf.

Reads `model.ckpt-*` files (and TF Hub TF1 modules, whose variables carry a
`module/` prefix) with `tf.train.load_checkpoint`, so no TF1 graph is built.
`global_step` and the optimizer slots (`*/adam_m`, `*/adam_v`, ...) are
skipped. The GR kernels are [H, H]; q/k/v become [H, N, D] and the attention
output [N, D, H]. Checkpoints with E == H have no
`bert/encoder/embedding_hidden_mapping_in`. Every head GR's scripts write
converts: run_pretraining's MLM + SOP, run_classifier's `output_*`,
run_squad_v1's `cls/squad/*` and run_squad_v2's `start_logits/`,
`end_logits/`, `answer_class/` (into `AlbertSpanQAV2`).
"""

import pathlib

import tensorflow as tf

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

FORMAT = "TF1 checkpoint"

_GROUP = "bert/encoder/transformer/group_{g}/inner_group_{i}/"
# run_squad_v2's head, by the tensor its start layer writes.
_SQUAD_V2_MARKER = "start_logits/dense/kernel"


def name_map(config, task, prefix="", num_classes=None, variant=None):
    """The GR TF1 -> albert_tf name map (one `Entry` per checkpoint tensor).

    Args:
        config: `AlbertConfig` of the checkpoint.
        task: "backbone", "pretraining" (cls/predictions + cls/seq_relationship),
            "classification" or "regression" (GR run_classifier
            `output_weights`/`output_bias`) or "span_qa" (GR SQuAD 1.1
            `cls/squad/*`).
        prefix: "module/" for TF Hub TF1 modules, else "".
        num_classes: C of the classifier head (targets for regression).
        variant: "squad_v2" with task "span_qa": GR run_squad_v2's head
            (`squad_utils.create_v2_model`), into `AlbertSpanQAV2`.
    """
    return _encoder_map(config, prefix) + head_maps(config, prefix, num_classes).get((task, variant), [])


def _encoder_map(config, prefix):
    v, e, h = config.vocab_size, config.embedding_size, config.hidden_size
    i_size, p, t = config.intermediate_size, config.max_position_embeddings, config.type_vocab_size
    b = prefix + "bert/"
    entries = [
        Entry(b + "embeddings/word_embeddings", "embeddings/word_embeddings/embeddings", (v, e)),
        Entry(b + "embeddings/position_embeddings", "embeddings/position_embeddings", (p, e)),
        Entry(b + "embeddings/token_type_embeddings", "embeddings/token_type_embeddings/embeddings", (t, e)),
        Entry(b + "embeddings/LayerNorm/gamma", "embeddings/layer_norm/gamma", (e,)),
        Entry(b + "embeddings/LayerNorm/beta", "embeddings/layer_norm/beta", (e,)),
    ]
    if config.has_embedding_projection:
        entries += [
            Entry(b + "encoder/embedding_hidden_mapping_in/kernel", "embedding_projection/kernel", (e, h)),
            Entry(b + "encoder/embedding_hidden_mapping_in/bias", "embedding_projection/bias", (h,)),
        ]
    # The original creates only the groups some layer uses.
    for g in config.used_groups:
        for i in range(config.inner_group_num):
            src = prefix + _GROUP.format(g=g, i=i)
            dst = f"group_{g}_inner_{i}/"
            entries += [
                Entry(src + "attention_1/self/query/kernel", dst + "query/kernel", (h, h)),
                Entry(src + "attention_1/self/query/bias", dst + "query/bias", (h,)),
                Entry(src + "attention_1/self/key/kernel", dst + "key/kernel", (h, h)),
                Entry(src + "attention_1/self/key/bias", dst + "key/bias", (h,)),
                Entry(src + "attention_1/self/value/kernel", dst + "value/kernel", (h, h)),
                Entry(src + "attention_1/self/value/bias", dst + "value/bias", (h,)),
                Entry(src + "attention_1/output/dense/kernel", dst + "attention_output/kernel", (h, h)),
                Entry(src + "attention_1/output/dense/bias", dst + "attention_output/bias", (h,)),
                Entry(src + "LayerNorm/gamma", dst + "attention_layer_norm/gamma", (h,)),
                Entry(src + "LayerNorm/beta", dst + "attention_layer_norm/beta", (h,)),
                Entry(src + "ffn_1/intermediate/dense/kernel", dst + "ffn/kernel", (h, i_size)),
                Entry(src + "ffn_1/intermediate/dense/bias", dst + "ffn/bias", (i_size,)),
                Entry(src + "ffn_1/intermediate/output/dense/kernel", dst + "ffn_output/kernel", (i_size, h)),
                Entry(src + "ffn_1/intermediate/output/dense/bias", dst + "ffn_output/bias", (h,)),
                Entry(src + "LayerNorm_1/gamma", dst + "output_layer_norm/gamma", (h,)),
                Entry(src + "LayerNorm_1/beta", dst + "output_layer_norm/beta", (h,)),
            ]
    entries += [
        Entry(b + "pooler/dense/kernel", "pooler/kernel", (h, h)),
        Entry(b + "pooler/dense/bias", "pooler/bias", (h,)),
    ]
    return entries


def head_maps(config, prefix="", num_classes=None):
    """{(task, variant): name map of that head} for every head GR writes.

    Args:
        config: `AlbertConfig` of the checkpoint.
        prefix: "module/" for TF Hub TF1 modules, else "".
        num_classes: C of run_classifier's head (only its shapes use it).
    """
    v, e, h = config.vocab_size, config.embedding_size, config.hidden_size
    c = prefix + "cls/"

    def fine_tuned(name, target, shape, transpose=False):
        # Fine-tuning on a TF Hub module (GR's --albert_hub_module_handle)
        # puts the encoder under module/ but the new head at the top level.
        aliases = (name,) if prefix else ()
        return Entry(prefix + name, target, shape, transpose=transpose, aliases=aliases)

    # run_squad_v2: tf.layers.dense scopes inside start_logits/, end_logits/
    # and answer_class/; end_logits' contrib layer_norm is "LayerNorm".
    q = "squad_v2_head/"
    return {
        ("pretraining", None): [
            Entry(c + "predictions/transform/dense/kernel", "mlm_head/dense/kernel", (h, e)),
            Entry(c + "predictions/transform/dense/bias", "mlm_head/dense/bias", (e,)),
            Entry(c + "predictions/transform/LayerNorm/gamma", "mlm_head/layer_norm/gamma", (e,)),
            Entry(c + "predictions/transform/LayerNorm/beta", "mlm_head/layer_norm/beta", (e,)),
            Entry(c + "predictions/output_bias", "mlm_head/output_bias", (v,)),
            Entry(c + "seq_relationship/output_weights", "sop_head/kernel", (2, h), transpose=True),
            Entry(c + "seq_relationship/output_bias", "sop_head/bias", (2,)),
        ],
        ("classification", None): [
            fine_tuned("output_weights", "logits/kernel", (num_classes, h), transpose=True),
            fine_tuned("output_bias", "logits/bias", (num_classes,)),
        ],
        ("regression", None): [
            fine_tuned("output_weights", "predictions/kernel", (num_classes, h), transpose=True),
            fine_tuned("output_bias", "predictions/bias", (num_classes,)),
        ],
        ("span_qa", None): [
            fine_tuned("cls/squad/output_weights", "span_logits/kernel", (2, h), transpose=True),
            fine_tuned("cls/squad/output_bias", "span_logits/bias", (2,)),
        ],
        ("span_qa", "squad_v2"): [
            fine_tuned("start_logits/dense/kernel", q + "start_logits/kernel", (h, 1)),
            fine_tuned("start_logits/dense/bias", q + "start_logits/bias", (1,)),
            fine_tuned("end_logits/dense_0/kernel", q + "end_logits_dense_0/kernel", (2 * h, h)),
            fine_tuned("end_logits/dense_0/bias", q + "end_logits_dense_0/bias", (h,)),
            fine_tuned("end_logits/LayerNorm/gamma", q + "end_logits_layer_norm/gamma", (h,)),
            fine_tuned("end_logits/LayerNorm/beta", q + "end_logits_layer_norm/beta", (h,)),
            fine_tuned("end_logits/dense_1/kernel", q + "end_logits_dense_1/kernel", (h, 1)),
            fine_tuned("end_logits/dense_1/bias", q + "end_logits_dense_1/bias", (1,)),
            fine_tuned("answer_class/dense_0/kernel", q + "answer_class_dense_0/kernel", (2 * h, h)),
            fine_tuned("answer_class/dense_0/bias", q + "answer_class_dense_0/bias", (h,)),
            fine_tuned("answer_class/dense_1/kernel", q + "answer_class_dense_1/kernel", (h, 1)),
        ],
    }


def resolve_checkpoint(path):
    """Returns the checkpoint prefix for a prefix, `.index` file or directory."""
    path = pathlib.Path(path)
    if path.name.endswith(".index"):
        path = path.with_name(path.name[: -len(".index")])
    if pathlib.Path(str(path) + ".index").is_file():
        return path
    if path.is_dir():
        if (path / "variables" / "variables.index").is_file():  # TF Hub TF1 module
            return path / "variables" / "variables"
        latest = tf.train.latest_checkpoint(str(path))
        if latest:
            return pathlib.Path(latest)
        indexes = sorted(path.glob("*.index"))
        if len(indexes) == 1:
            return indexes[0].with_name(indexes[0].name[: -len(".index")])
        if indexes:
            raise ConversionError(
                f"{path} holds several checkpoints {[p.name for p in indexes]}; pass one prefix"
            )
    raise ConversionError(f"no TF1 checkpoint at {path} (expected a prefix with a .index file)")


def find_config(checkpoint, given_path):
    """Looks for albert_config.json next to the checkpoint (GR tarball layout)."""
    places = [pathlib.Path(checkpoint).parent, pathlib.Path(given_path)]
    places += [p.parent for p in list(places)] + [p / "assets" for p in list(places)]
    for place in places:
        for name in ("albert_config.json", "config.json"):
            if (place / name).is_file():
                return place / name
    return None


def _reader_source(prefix):
    try:
        reader = tf.train.load_checkpoint(str(prefix))
        shapes = {k: tuple(v) for k, v in reader.get_variable_to_shape_map().items()}
        dtypes = {k: v.as_numpy_dtype for k, v in reader.get_variable_to_dtype_map().items()}
    except Exception as error:  # DataLossError, NotFoundError, ...: unreadable
        raise ConversionError(f"cannot read TF1 checkpoint {prefix}: {error}") from error
    return TensorSource(shapes, dtypes, reader.get_tensor, str(prefix))


def _name_prefix(names, description):
    for name in names:
        if name.endswith("bert/embeddings/word_embeddings"):
            return name[: -len("bert/embeddings/word_embeddings")]
    raise ConversionError(
        f"{description} has no 'bert/embeddings/word_embeddings' (nor 'module/...'); "
        "is it an original ALBERT checkpoint?"
    )


def _head_tensor(shapes, prefix, name):
    """The name under which a fine-tuning head's tensor `name` is stored, or None."""
    return next((n for n in (prefix + name, name) if n in shapes), None)


def _available_task(shapes, prefix):
    """The task and variant of the heads a checkpoint carries (by their tensor names)."""
    classifier = _head_tensor(shapes, prefix, "output_weights")
    if classifier:
        # GR's run_classifier writes one output for regression (STS-B).
        return ("regression" if shapes[classifier][0] == 1 else "classification"), None
    if _head_tensor(shapes, prefix, _SQUAD_V2_MARKER):
        return "span_qa", "squad_v2"
    if _head_tensor(shapes, prefix, "cls/squad/output_weights"):
        return "span_qa", None
    if prefix + "cls/predictions/output_bias" in shapes:
        return "pretraining", None
    return "backbone", None


def convert(path, config=None, task="auto", allow_unused=False):
    """Converts and returns `(model, ConversionReport)`; see `from_tf1_checkpoint`."""
    checkpoint = resolve_checkpoint(path)
    source = _reader_source(checkpoint)
    config = resolve_config(config)
    if config is None:
        found = find_config(checkpoint, path)
        if found is None:
            raise ConversionError(
                f"no albert_config.json next to {checkpoint}; pass config= (CLI: --config)"
            )
        config = resolve_config(str(found))
    prefix = _name_prefix(source.shapes, source.description)
    projection = prefix + "bert/encoder/embedding_hidden_mapping_in/kernel"
    if config.embedding_size == config.hidden_size and projection in source.shapes:
        config = config.replace(always_project_embeddings=True)
    available, variant = _available_task(source.shapes, prefix)
    task = check_task(task, available, source.description)
    variant = variant if task == available else None

    classifier = _head_tensor(source.shapes, prefix, "output_weights")
    num_classes = source.shapes[classifier][0] if classifier else None
    entries = name_map(config, task, prefix=prefix, num_classes=num_classes, variant=variant)
    model = build_model(config, task, num_classes=num_classes, variant=variant)
    # Only heads some albert_tf model holds may be dropped (task "backbone");
    # any other tensor is refused unless allow_unused.
    heads = source_names(e for head in head_maps(config, prefix, num_classes).values() for e in head)
    report = apply_name_map(model, entries, source, format_name=FORMAT, task=task,
                            head_names=heads, allow_unused=allow_unused)
    return model, report


def from_tf1_checkpoint(path, config=None, task="auto", allow_unused=False):
    """Converts an original (google-research/albert) TF1 checkpoint.

    | checkpoint holds                         | albert_tf model (task="auto") |
    |------------------------------------------|-------------------------------|
    | `output_weights`, `output_bias` [C, H]   | AlbertClassifier (C == 1: "regression") |
    | `cls/squad/output_weights` [2, H]        | AlbertSpanQA                  |
    | `start_logits/`, `end_logits/`, `answer_class/` (run_squad_v2) | AlbertSpanQAV2 |
    | `cls/predictions/*`, `cls/seq_relationship/*` | AlbertPretrainer         |
    | `bert/*` only                            | AlbertBackbone                |

    Args:
        path: checkpoint prefix (`.../model.ckpt-best`), its `.index` file, a
            directory with one checkpoint, or a TF Hub TF1 module directory.
        config: `AlbertConfig`, dict, preset name or path of
            `albert_config.json`; by default the `albert_config.json` beside
            the checkpoint (GR's "gelu" there is the tanh GELU).
        task: "auto" (table above), that task's name, or "backbone".
        allow_unused: unknown tensors warn instead of failing.

    Returns:
        The albert_tf model holding the checkpoint's weights.

    Raises:
        ConversionError: unreadable checkpoint, or a missing, mis-shaped,
            non-float or unknown tensor (named); nothing is modified.

    Example:
    >>> backbone = AlbertBackbone.from_preset("albert_tiny")
    >>> weights = {w.path: w.numpy() for w in backbone.weights}
    >>> entries = name_map(backbone.config, "backbone")  # GR name -> albert_tf variable
    >>> tf.raw_ops.SaveV2(prefix="albert/model.ckpt", tensor_names=[e.source for e in entries],
    ...                   shape_and_slices=[""] * len(entries),
    ...                   tensors=[weights[e.target].reshape(e.shape) for e in entries])
    >>> converted = albert_tf.convert.from_tf1_checkpoint("albert/model.ckpt", config=backbone.config)
    >>> same = [np.array_equal(a, b) for a, b in zip(converted.get_weights(), backbone.get_weights())]
    >>> type(converted).__name__, all(same)
    ('AlbertBackbone', True)
    """
    return convert(path, config=config, task=task, allow_unused=allow_unused)[0]

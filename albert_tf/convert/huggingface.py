"""Hugging Face transformers ALBERT (PyTorch) -> albert_tf.

Source: a transformers model object (`AlbertModel`, `AlbertForPreTraining`,
`AlbertForMaskedLM`, `AlbertForSequenceClassification`,
`AlbertForTokenClassification`, `AlbertForQuestionAnswering`,
`AlbertForMultipleChoice`) or a directory written by `save_pretrained`
(`config.json` + `model.safetensors`, possibly sharded). Directories are
read with safetensors' numpy API: converting them needs neither torch nor
transformers.
"""

import json
import pathlib

import numpy as np

from albert_tf.backbone import AlbertBackbone
from albert_tf.config import AlbertConfig
from albert_tf.convert._mapping import (
    ConversionError,
    Entry,
    TensorSource,
    apply_name_map,
    build_model,
    check_task,
    source_names,
)
from albert_tf.tasks import AlbertPretrainer

FORMAT = "Hugging Face"

# transformers class name -> the albert_tf task it becomes (a sequence
# classifier with one label or problem_type "regression" becomes "regression").
ARCHITECTURES = {
    "AlbertModel": "backbone",
    "AlbertForPreTraining": "pretraining",
    "AlbertForMaskedLM": "pretraining",
    "AlbertForSequenceClassification": "classification",
    "AlbertForTokenClassification": "token_classification",
    "AlbertForQuestionAnswering": "span_qa",
    "AlbertForMultipleChoice": "multiple_choice",
}

# Tensors that are tied copies or buffers, checked or skipped on purpose.
_TIED = {
    "predictions.decoder.weight": "word embeddings",
    "predictions.decoder.bias": "predictions.bias",
}


def name_map(config, task, prefix="albert.", num_labels=None, has_sop=True, has_pooler=True):
    """The Hugging Face -> albert_tf name map (one `Entry` per tensor).

    Hugging Face `Linear` weights are [out, in]: they are transposed, then
    q/k/v kernels reshaped to [H, N, D] and the attention output to [N, D, H].

    Args:
        config: `AlbertConfig` of the model.
        task: albert_tf task being built (a name of `albert_tf.convert.TASKS`).
        prefix: "albert." for task models, "" for a bare `AlbertModel`.
        num_labels: C of the classification heads.
        has_sop: False for `AlbertForMaskedLM` (no sentence-order head).
        has_pooler: False for token classification / QA models, which
            transformers builds without a pooler.
    """
    if not config.has_embedding_projection:
        raise ValueError("Hugging Face ALBERT always has embedding_hidden_mapping_in; "
                         "use a config with always_project_embeddings=True")
    v, e, h = config.vocab_size, config.embedding_size, config.hidden_size
    i_size, p, t = config.intermediate_size, config.max_position_embeddings, config.type_vocab_size
    emb = prefix + "embeddings."
    entries = [
        Entry(emb + "word_embeddings.weight", "embeddings/word_embeddings/embeddings", (v, e)),
        Entry(emb + "position_embeddings.weight", "embeddings/position_embeddings", (p, e)),
        Entry(emb + "token_type_embeddings.weight", "embeddings/token_type_embeddings/embeddings", (t, e)),
        Entry(emb + "LayerNorm.weight", "embeddings/layer_norm/gamma", (e,)),
        Entry(emb + "LayerNorm.bias", "embeddings/layer_norm/beta", (e,)),
        Entry(prefix + "encoder.embedding_hidden_mapping_in.weight", "embedding_projection/kernel", (h, e), True),
        Entry(prefix + "encoder.embedding_hidden_mapping_in.bias", "embedding_projection/bias", (h,)),
    ]
    for g in config.used_groups:
        for i in range(config.inner_group_num):
            src = f"{prefix}encoder.albert_layer_groups.{g}.albert_layers.{i}."
            dst = f"group_{g}_inner_{i}/"
            entries += [
                Entry(src + "attention.query.weight", dst + "query/kernel", (h, h), True),
                Entry(src + "attention.query.bias", dst + "query/bias", (h,)),
                Entry(src + "attention.key.weight", dst + "key/kernel", (h, h), True),
                Entry(src + "attention.key.bias", dst + "key/bias", (h,)),
                Entry(src + "attention.value.weight", dst + "value/kernel", (h, h), True),
                Entry(src + "attention.value.bias", dst + "value/bias", (h,)),
                Entry(src + "attention.dense.weight", dst + "attention_output/kernel", (h, h), True),
                Entry(src + "attention.dense.bias", dst + "attention_output/bias", (h,)),
                Entry(src + "attention.LayerNorm.weight", dst + "attention_layer_norm/gamma", (h,)),
                Entry(src + "attention.LayerNorm.bias", dst + "attention_layer_norm/beta", (h,)),
                Entry(src + "ffn.weight", dst + "ffn/kernel", (i_size, h), True),
                Entry(src + "ffn.bias", dst + "ffn/bias", (i_size,)),
                Entry(src + "ffn_output.weight", dst + "ffn_output/kernel", (h, i_size), True),
                Entry(src + "ffn_output.bias", dst + "ffn_output/bias", (h,)),
                Entry(src + "full_layer_layer_norm.weight", dst + "output_layer_norm/gamma", (h,)),
                Entry(src + "full_layer_layer_norm.bias", dst + "output_layer_norm/beta", (h,)),
            ]
    if has_pooler:
        entries += [
            Entry(prefix + "pooler.weight", "pooler/kernel", (h, h), True),
            Entry(prefix + "pooler.bias", "pooler/bias", (h,)),
        ]
    return entries + head_maps(config, num_labels, has_sop).get(task, [])


def head_maps(config, num_labels=None, has_sop=True):
    """{task: name map of its head} for every head transformers' ALBERT classes hold.

    Args:
        config: `AlbertConfig` of the model.
        num_labels: C of the classification heads (only their shapes use it).
        has_sop: False for `AlbertForMaskedLM` (no sentence-order head).
    """
    v, e, h = config.vocab_size, config.embedding_size, config.hidden_size
    return {
        "pretraining": [
            Entry("predictions.dense.weight", "mlm_head/dense/kernel", (e, h), True),
            Entry("predictions.dense.bias", "mlm_head/dense/bias", (e,)),
            Entry("predictions.LayerNorm.weight", "mlm_head/layer_norm/gamma", (e,)),
            Entry("predictions.LayerNorm.bias", "mlm_head/layer_norm/beta", (e,)),
            Entry("predictions.bias", "mlm_head/output_bias", (v,)),
        ] + ([
            Entry("sop_classifier.classifier.weight", "sop_head/kernel", (2, h), True),
            Entry("sop_classifier.classifier.bias", "sop_head/bias", (2,)),
        ] if has_sop else []),
        "classification": [
            Entry("classifier.weight", "logits/kernel", (num_labels, h), True),
            Entry("classifier.bias", "logits/bias", (num_labels,)),
        ],
        "regression": [
            Entry("classifier.weight", "predictions/kernel", (num_labels, h), True),
            Entry("classifier.bias", "predictions/bias", (num_labels,)),
        ],
        "token_classification": [
            Entry("classifier.weight", "logits/kernel", (num_labels, h), True),
            Entry("classifier.bias", "logits/bias", (num_labels,)),
        ],
        "span_qa": [
            Entry("qa_outputs.weight", "span_logits/kernel", (2, h), True),
            Entry("qa_outputs.bias", "span_logits/bias", (2,)),
        ],
        "multiple_choice": [
            Entry("classifier.weight", "choice_score/kernel", (1, h), True),
            Entry("classifier.bias", "choice_score/bias", (1,)),
        ],
    }


def check_group_rule(config, description):
    """Fails where transformers runs other groups than the original would.

    transformers picks layer l's group as `int(l / (L / G))`, the original
    (and albert_tf) as `int(l / L * G)`; float rounding makes them differ
    for a few (L, G) pairs (e.g. L = 18, G = 14 at layer 9), and a converted
    model would then compute something else than its source.

    Raises:
        ConversionError: naming the layers whose groups differ.
    """
    layers, groups = config.num_hidden_layers, config.num_hidden_groups
    differ = [
        (l, int(l / (layers / groups)), config.group_of_layer(l))
        for l in range(layers)
        if int(l / (layers / groups)) != config.group_of_layer(l)
    ]
    if differ:
        raise ConversionError(
            f"{FORMAT} source {description}: with num_hidden_layers={layers} and "
            f"num_hidden_groups={groups}, transformers runs other groups than the original "
            f"ALBERT at (layer, transformers group, original group) {differ}; albert_tf "
            "follows the original, so this model cannot be converted exactly"
        )


def config_from_dict(values):
    """`AlbertConfig` of a Hugging Face ALBERT `config.json` dict.

    Hugging Face always creates the E->H projection, so an E == H config
    keeps it (`always_project_embeddings=True`).
    """
    values = dict(values)
    values.setdefault("model_type", "albert")  # marks HF semantics of "gelu"
    config = AlbertConfig.from_dict(values)
    if config.embedding_size == config.hidden_size:
        config = config.replace(always_project_embeddings=True)
    return config


def _torch_source(module):
    arrays = {}
    for name, tensor in module.state_dict().items():
        tensor = tensor.detach().cpu()
        if tensor.is_floating_point() and str(tensor.dtype) != "torch.float32":
            tensor = tensor.float()  # bf16/fp16 -> float32; numpy lacks bfloat16
        arrays[name] = tensor.numpy()
    return TensorSource.from_arrays(arrays, f"<{type(module).__name__} object>")


_SAFETENSORS_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64,
                       "I8": np.int8, "I16": np.int16, "I32": np.int32, "I64": np.int64,
                       "U8": np.uint8, "BOOL": np.bool_}


def _safetensors_source(directory):
    from safetensors import safe_open

    index = directory / "model.safetensors.index.json"
    if index.is_file():
        files = sorted(set(json.loads(index.read_text())["weight_map"].values()))
    elif (directory / "model.safetensors").is_file():
        files = ["model.safetensors"]
    elif (directory / "pytorch_model.bin").is_file():
        raise ConversionError(
            f"{directory} holds pytorch_model.bin only; albert_tf reads safetensors "
            "(re-save with model.save_pretrained(dir, safe_serialization=True))"
        )
    else:
        raise ConversionError(f"{directory} has no model.safetensors")
    shapes, dtypes, location = {}, {}, {}
    for file_name in files:
        path = directory / file_name
        try:
            with safe_open(str(path), framework="numpy") as f:
                for name in f.keys():
                    piece = f.get_slice(name)
                    shapes[name] = tuple(piece.get_shape())
                    code = piece.get_dtype()
                    dtypes[name] = _SAFETENSORS_DTYPES.get(code, code)
                    location[name] = path
        except Exception as error:
            raise ConversionError(f"cannot read safetensors file {path}: {error}") from error

    def read(name):
        if not _is_numpy_code(dtypes[name]):
            raise ConversionError(f"tensor {name!r} has dtype {dtypes[name]}, which numpy cannot hold")
        with safe_open(str(location[name]), framework="numpy") as f:
            return f.get_tensor(name)

    return TensorSource(shapes, dtypes, read, str(directory))


def _is_numpy_code(dtype):
    return not isinstance(dtype, str)


def _infer_architecture(names, description):
    if "sop_classifier.classifier.weight" in names:
        return "AlbertForPreTraining"
    if "predictions.bias" in names:
        return "AlbertForMaskedLM"
    if "qa_outputs.weight" in names:
        return "AlbertForQuestionAnswering"
    if "classifier.weight" in names:
        raise ConversionError(
            f"{description} has a 'classifier' head but its config.json names no "
            "architecture (sequence / token classification or multiple choice?)"
        )
    return "AlbertModel"


def _check_ties(source, prefix):
    """albert_tf ties the MLM decoder to the word embeddings: check it holds."""
    pairs = [
        ("predictions.decoder.weight", prefix + "embeddings.word_embeddings.weight"),
        ("predictions.decoder.bias", "predictions.bias"),
    ]
    for copy, original in pairs:
        if copy in source.shapes and original in source.shapes:
            if source.shapes[copy] != source.shapes[original] or not np.array_equal(
                source.read(copy), source.read(original)
            ):
                raise ConversionError(
                    f"{FORMAT} source {source.description}: tensor {copy!r} differs from "
                    f"{original!r}; albert_tf ties them (untied MLM decoders are not supported)"
                )


def convert(src, task="auto", allow_unused=False):
    """Converts and returns `(model, ConversionReport)`; see `from_huggingface`."""
    if isinstance(src, (str, pathlib.Path)):
        directory = pathlib.Path(src)
        config_path = directory / "config.json"
        if not config_path.is_file():
            raise ConversionError(f"{directory} is not a save_pretrained directory (no config.json)")
        try:
            values = json.loads(config_path.read_text())
        except ValueError as error:
            raise ConversionError(f"cannot parse {config_path}: {error}") from error
        source = _safetensors_source(directory)
        architectures = values.get("architectures") or [_infer_architecture(source.shapes, directory)]
        architecture = architectures[0]
    elif hasattr(src, "state_dict") and hasattr(src, "config"):
        values = src.config.to_dict()
        architecture = type(src).__name__
        source = _torch_source(src)
    else:
        raise TypeError(
            f"from_huggingface expects a transformers ALBERT model or a save_pretrained "
            f"directory, got {type(src).__name__}"
        )
    if values.get("model_type", "albert") != "albert":
        raise ConversionError(f"{source.description} is a {values['model_type']!r} model, not ALBERT")
    if architecture not in ARCHITECTURES:
        raise ConversionError(
            f"{source.description}: unsupported architecture {architecture!r}; "
            f"expected one of {sorted(ARCHITECTURES)}"
        )
    config = config_from_dict(values)
    check_group_rule(config, source.description)
    num_labels = values.get("num_labels") or len(values.get("id2label") or {}) or 2
    available = ARCHITECTURES[architecture]
    if architecture == "AlbertForSequenceClassification" and (
        values.get("problem_type") == "regression" or num_labels == 1
    ):
        available = "regression"
    task = check_task(task, available, source.description)

    prefix = "albert." if "albert.embeddings.word_embeddings.weight" in source.shapes else ""
    has_sop = architecture != "AlbertForMaskedLM"
    has_pooler = prefix + "pooler.weight" in source.shapes
    _check_ties(source, prefix)

    entries = name_map(config, task, prefix=prefix, num_labels=num_labels, has_sop=has_sop,
                       has_pooler=has_pooler)
    dropout = values.get("classifier_dropout_prob", 0.1)
    model = build_model(config, task, num_classes=num_labels, dropout=0.1 if dropout is None else dropout)
    # Heads the source lacks are zeroed, not left random: AlbertForMaskedLM
    # has no SOP head (zero -> 50/50 logits); token classification and QA
    # models have no pooler (zero -> pooled_output 0).
    uninitialized = []
    if not has_sop and isinstance(model, AlbertPretrainer):
        uninitialized += [model.sop_head.kernel, model.sop_head.bias]
    if not has_pooler:
        backbone = model if isinstance(model, AlbertBackbone) else model.backbone
        uninitialized += [backbone.pooler.kernel, backbone.pooler.bias]
    for variable in uninitialized:
        variable.assign(np.zeros(variable.shape, "float32"))
    report = apply_name_map(
        model, entries, source, format_name=FORMAT, task=task,
        # Only heads some albert_tf model holds may be dropped (task
        # "backbone"); any other tensor is refused unless allow_unused.
        head_names=source_names(e for head in head_maps(config).values() for e in head),
        ignore=[n for n in source.shapes if n in _TIED or n.endswith("position_ids")],
        allow_unused=allow_unused,
        allow_uninitialized=[v.path for v in uninitialized],
    )
    return model, report


def from_huggingface(src, task="auto", allow_unused=False):
    """Converts a Hugging Face ALBERT into the matching albert_tf model.

    | transformers class                | albert_tf model                    |
    |-----------------------------------|------------------------------------|
    | AlbertModel                       | AlbertBackbone                     |
    | AlbertForPreTraining              | AlbertPretrainer (MLM + SOP)       |
    | AlbertForMaskedLM                 | AlbertPretrainer (SOP head zeros)  |
    | AlbertForSequenceClassification   | AlbertClassifier ("regression" when num_labels == 1) |
    | AlbertForTokenClassification      | AlbertTokenClassifier              |
    | AlbertForQuestionAnswering        | AlbertSpanQA                       |
    | AlbertForMultipleChoice           | AlbertMultipleChoice               |

    transformers builds token classification and QA models without a pooler:
    the converted pooler is zeros (their heads read the sequence output).

    Args:
        src: a transformers ALBERT model object (torch), or a directory
            written by `save_pretrained` (config.json + safetensors; read
            without torch).
        task: "auto" (the table above), that task's name, or "backbone" to
            keep only the encoder.
        allow_unused: tensors that are not ALBERT weights are an error unless
            True (then a warning).

    Returns:
        The albert_tf model with the source's weights (float32).

    Raises:
        ConversionError: a missing, mis-shaped, non-float or unknown tensor,
            named in the message; nothing is modified or written.

    Example:
    >>> import torch, transformers
    >>> hf = transformers.AlbertForSequenceClassification(transformers.AlbertConfig(
    ...     vocab_size=300, embedding_size=16, hidden_size=32, num_hidden_layers=2,
    ...     num_attention_heads=2, intermediate_size=64, num_labels=3)).eval()
    >>> hf.save_pretrained("hf")
    >>> model = albert_tf.convert.from_huggingface("hf")
    >>> ids = np.array([[2, 45, 67, 3]], "int32")
    >>> logits = model({"input_word_ids": ids, "input_mask": np.ones_like(ids), "input_type_ids": np.zeros_like(ids)})
    >>> reference = hf(torch.tensor(ids).long()).logits.detach().numpy()
    >>> model.task_name, bool(np.abs(logits - reference).max() < 1e-5)
    ('classification', True)
    """
    return convert(src, task=task, allow_unused=allow_unused)[0]

"""`export_saved_model`: a task model + tokenizer -> a raw-text SavedModel for TF Serving.

The exported graph is exactly the request chain: raw strings -> ALBERT
normalization + SentencePiece, or BERT's basic tokenization + WordPiece
for Chinese ALBERT (tensorflow-text ops, outside any XLA) ->
packing with dynamic padding (T = the batch's longest packed row) ->
encoder -> task head -> named outputs. The signatures of each task come
from its serving module (`serving_modules.py`); names are listed in
README.md beside this file.
"""

import json
import pathlib
import re
import tempfile

import tensorflow as tf

from albert_tf.backbone import AlbertBackbone
from albert_tf.export import warmup
from albert_tf.export.hub_modules import ASSET_ATTRIBUTES
from albert_tf.export.serving_modules import serving_module_class
from albert_tf.saving import atomic_directory, tokenizer_assets
from albert_tf.text.ops_check import check_serving_ops

METADATA_ASSET = "albert_export.json"


def next_version(base_dir):
    """1 + the largest integer directory name in `base_dir` (1 when none).

    Example:
    >>> for version in ("1", "3", "drafts"):
    ...     pathlib.Path("models/sentiment", version).mkdir(parents=True)
    >>> next_version("models/sentiment"), next_version("models/absent")
    (4, 1)
    """
    base_dir = pathlib.Path(base_dir)
    versions = [int(p.name) for p in base_dir.iterdir() if p.is_dir() and p.name.isdigit()] \
        if base_dir.is_dir() else []
    return max(versions, default=0) + 1


def _tokenizer_resources(tokenizer):
    """What the saved graph must track of the tokenizer: its SentencePiece op, or the WordPiece module.

    Tracking the whole `AlbertTokenizer` module also works, but saving then
    walks its Python attributes (a 30k-entry piece index) for seconds;
    `AlbertWordPieceTokenizer` keeps its vocabulary in tensors only, so it
    is tracked whole (its piece -> id table must be).
    """
    return getattr(tokenizer, "_sp", tokenizer)


def _set_method_names(export_dir, method_names):
    """TF2 saves every signature as a Predict one; Classify/Regress need theirs."""
    from tensorflow.core.protobuf import saved_model_pb2

    path = pathlib.Path(export_dir) / "saved_model.pb"
    saved_model = saved_model_pb2.SavedModel.FromString(path.read_bytes())
    for meta_graph in saved_model.meta_graphs:
        for name, method in method_names.items():
            if name in meta_graph.signature_def:
                meta_graph.signature_def[name].method_name = method
    path.write_bytes(saved_model.SerializeToString())


def export_saved_model(
    model,
    tokenizer,
    base_dir,
    version=None,
    seq_length=None,
    labels=None,
    text_pair=False,
    max_answer_length=30,
    doc_stride=128,
    max_question_length=None,
    model_name=None,
):
    """Exports a task model with its tokenizer as a raw-text SavedModel for TF Serving.

    Writes `<base_dir>/<version>/` (saved_model.pb, variables/,
    assets/spiece.model or assets/vocab.txt, assets/albert_export.json,
    assets.extra/tf_serving_warmup_requests) atomically, after checking
    that every op is one TF Serving 2.21 links. Signatures: `serving_default`
    on raw strings, `serve_token_ids` on packed int32 ids, and for sequence
    classifiers `classify` / `regress` on serialized tf.Examples (see
    README.md for inputs and outputs of each task). `albert_export.json`
    records the task name, labels, seq_length, text_pair,
    max_answer_length, doc_stride, max_question_length, the signatures, the `AlbertConfig` and the
    tokenizer's kind ("sentencepiece" or "wordpiece") and settings
    (`do_lower_case`, and `keep_accents` for SentencePiece).

    Args:
        model: an albert_tf task model (`AlbertClassifier` incl. regression,
            `AlbertTokenClassifier`, `AlbertSpanQA`, `AlbertMultipleChoice`,
            `AlbertPretrainer`) or an `AlbertBackbone`.
        tokenizer: the `albert_tf.text.AlbertTokenizer` or
            `AlbertWordPieceTokenizer` the model was trained with.
        base_dir: the model's base directory (as TF Serving's `base_path`).
        version: positive int; default 1 + the largest existing version.
        seq_length: longest packed sequence (truncation point); batches are
            padded only to their longest row. Default: the model's
            `max_position_embeddings`.
        labels: class names (classifiers, token classifiers), default "0", "1", ...
        text_pair: the sequence classifier takes `text` + `text_pair`.
        max_answer_length: span QA, longest answer in tokens.
        doc_stride: span QA, context tokens between the starts of two
            windows of a long context.
        max_question_length: span QA, most question pieces kept (None: the
            preprocessor's default for `seq_length` and `doc_stride`).
        model_name: model name written in the warmup requests (default: the
            base directory's name).

    Returns:
        The version directory (`pathlib.Path`).

    Raises:
        TypeError: `model` is no albert_tf model, or `tokenizer` no albert_tf tokenizer.
        ValueError: a bad `seq_length`, `version`, `labels`, `text_pair`,
            `max_answer_length` or `doc_stride`, or an op TF Serving does not link.
        FileExistsError: the version directory exists.

    Example:
    >>> model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=2)
    >>> tokenizer = AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"))
    >>> export_saved_model(model, tokenizer, "models/sentiment", seq_length=32,
    ...                    labels=["negative", "positive"])
    PosixPath('models/sentiment/1')
    >>> served = tf.saved_model.load("models/sentiment/1")
    >>> sorted(served.signatures)
    ['classify', 'serve_token_ids', 'serving_default']
    >>> out = served.signatures["serving_default"](text=tf.constant(["a lovely film", "dull"]))
    >>> out["probabilities"].shape, set(out["labels"].numpy()) <= {b"negative", b"positive"}
    (TensorShape([2, 2]), True)
    """
    module_class = serving_module_class(model)
    backbone = model if isinstance(model, AlbertBackbone) else model.backbone
    max_positions = backbone.config.max_position_embeddings
    if seq_length is None:
        seq_length = max_positions
    if not isinstance(seq_length, int) or isinstance(seq_length, bool) or not 3 <= seq_length <= max_positions:
        raise ValueError(
            f"seq_length must be an int in [3, {max_positions}] (the model's "
            f"max_position_embeddings), got {seq_length!r}"
        )
    assets = tokenizer_assets(tokenizer)
    module = module_class(model, tokenizer, seq_length, labels, text_pair, max_answer_length, doc_stride,
                          max_question_length)
    if not isinstance(max_answer_length, int) or max_answer_length < 1:
        raise ValueError(f"max_answer_length must be a positive int, got {max_answer_length!r}")
    base_dir = pathlib.Path(base_dir)
    if version is None:
        version = next_version(base_dir)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive int, got {version!r}")
    model_name = model_name or re.sub(r"[^A-Za-z0-9_.-]", "_", base_dir.resolve().name)

    root = tf.__internal__.tracking.AutoTrackable()
    root.variables = [v.value for v in model.variables]
    root.tokenizer = _tokenizer_resources(tokenizer)
    # Only signatures are saved (what TF Serving and clients call): saving
    # the tf.functions as attributes too would double the tracing time.
    functions = module.functions()

    metadata = {
        "task": module.task,
        "labels": module.labels,
        "seq_length": seq_length,
        "text_pair": bool(text_pair),
        "max_answer_length": max_answer_length,
        "doc_stride": doc_stride,
        "max_question_length": getattr(module.preprocessor, "max_question_length", None),
        "signatures": sorted(functions),
        "albert_config": backbone.config.to_dict(),
        "tokenizer": {"kind": assets.kind, **assets.settings},
    }
    with tempfile.TemporaryDirectory() as sources, \
            atomic_directory(base_dir / str(version)) as staging:
        vocab = pathlib.Path(sources) / assets.file_name
        vocab.write_bytes(assets.data)
        meta = pathlib.Path(sources) / METADATA_ASSET
        meta.write_text(json.dumps(metadata, indent=2, sort_keys=True))
        setattr(root, ASSET_ATTRIBUTES[assets.kind], tf.saved_model.Asset(str(vocab)))
        root.metadata_file = tf.saved_model.Asset(str(meta))
        tf.saved_model.save(root, str(staging), signatures=functions)
        _set_method_names(staging, module.method_names())
        warmup.write_warmup_requests(staging, module.warmup_logs(model_name))
        check_serving_ops(staging)
    return base_dir / str(version)

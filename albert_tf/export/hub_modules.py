"""TF Hub-style reusable SavedModels: the ALBERT encoder and its preprocessing.

The formats (signatures, input/output names, variable names, assets) are
documented in README.md beside this file; `albert_tf.convert.tfhub` reads
encoder modules back and `HubEncoderLayer` fine-tunes them in Keras 3.
"""

import json
import pathlib
import tempfile

import tensorflow as tf

from albert_tf.backbone import INPUT_NAMES, AlbertBackbone
from albert_tf.saving import atomic_directory, tokenizer_assets
from albert_tf.text.ops_check import check_serving_ops

CONFIG_ASSET = "albert_config.json"
# The root attribute holding the vocabulary asset, named as TF Hub's ALBERT
# modules (SentencePiece) and BERT modules (WordPiece) name it.
ASSET_ATTRIBUTES = {"sentencepiece": "sp_model_file", "wordpiece": "vocab_file"}


# A plain trackable object: tf.Module reserves `variables` and
# `trainable_variables` as read-only properties, which the TF Hub format sets.
_Trackable = tf.__internal__.tracking.AutoTrackable


def _ids_spec(rank=2):
    return {name: tf.TensorSpec([None] * rank, tf.int32, name=name) for name in INPUT_NAMES}


def _tf_variables(keras_variables):
    """The tf.Variables under Keras 3 variables, each once, in order.

    The traced functions capture these; a tied weight (the MLM head reuses
    the word embeddings) must appear once or it would be trained twice.
    """
    seen, out = set(), []
    for variable in keras_variables:
        if variable.value.ref() not in seen:
            seen.add(variable.value.ref())
            out.append(variable.value)
    return out


def _split_model(model):
    """(backbone, mlm_head or None) of a backbone or a task model."""
    if isinstance(model, AlbertBackbone):
        return model, None
    backbone = getattr(model, "backbone", None)
    if not isinstance(backbone, AlbertBackbone):
        raise TypeError(
            f"Expected an AlbertBackbone or an albert_tf task model with a `backbone`, "
            f"got {type(model).__name__}"
        )
    return backbone, getattr(model, "mlm_head", None)


def _attach_tokenizer_assets(root, tokenizer, directory):
    """Writes the vocabulary file into `directory` and attaches it and `do_lower_case` to `root`.

    The vocabulary is `spiece.model` under `sp_model_file` (SentencePiece)
    or `vocab.txt` under `vocab_file` (WordPiece), as TF Hub's modules have them.
    """
    assets = tokenizer_assets(tokenizer)
    path = pathlib.Path(directory) / assets.file_name
    path.write_bytes(assets.data)
    setattr(root, ASSET_ATTRIBUTES[assets.kind], tf.saved_model.Asset(str(path)))
    root.do_lower_case = tf.Variable(assets.settings["do_lower_case"], trainable=False, name="do_lower_case")


def export_encoder_module(model, directory, tokenizer=None):
    """Writes `model`'s encoder as a TF Hub-style reusable SavedModel.

    The module is called as `obj(inputs, training=False)` on a dict of int32
    [B, T] `input_word_ids`, `input_mask`, `input_type_ids` and returns
    `pooled_output` [B, H], `sequence_output` [B, T, H], `encoder_outputs`
    (list, one [B, T, H] per inner layer application) and `default` (= pooled). A pretrainer adds
    `obj.mlm(inputs + masked_lm_positions [B, P])` -> also `mlm_logits`
    [B, P, V]. See README.md for the full format.

    Args:
        model: an `AlbertBackbone`, or a task model holding one (an
            `AlbertPretrainer` also exports its MLM head).
        directory: target directory; must not exist (written atomically).
        tokenizer: optional `albert_tf.text.AlbertTokenizer` or
            `AlbertWordPieceTokenizer`; its SentencePiece model travels as
            `assets/spiece.model` (attribute `sp_model_file`), its WordPiece
            vocabulary as `assets/vocab.txt` (attribute `vocab_file`).

    Returns:
        The directory as a `pathlib.Path`.

    Raises:
        TypeError: `model` holds no `AlbertBackbone`, or `tokenizer` is no
            albert_tf tokenizer.
        FileExistsError: `directory` exists.
        ValueError: an op TF Serving does not link.

    Example:
    >>> backbone = AlbertBackbone.from_preset("albert_tiny")
    >>> export_encoder_module(backbone, "hub/albert_encoder")
    PosixPath('hub/albert_encoder')
    >>> encoder = tf.saved_model.load("hub/albert_encoder")
    >>> ids = tf.constant([[2, 48, 3]])
    >>> inputs = {"input_word_ids": ids, "input_mask": tf.ones_like(ids), "input_type_ids": tf.zeros_like(ids)}
    >>> outputs = encoder(inputs)
    >>> outputs["pooled_output"].shape, len(outputs["encoder_outputs"])
    (TensorShape([1, 64]), 4)
    >>> float(tf.reduce_max(tf.abs(outputs["pooled_output"] - backbone(inputs)["pooled_output"]))) < 1e-6
    True
    """
    backbone, mlm_head = _split_model(model)
    directory = pathlib.Path(directory)

    def encode(inputs, training=False):
        outputs = backbone({name: inputs[name] for name in INPUT_NAMES}, training=training)
        return {
            "pooled_output": outputs["pooled_output"],
            "sequence_output": outputs["sequence_output"],
            "encoder_outputs": list(outputs["encoder_outputs"]),
            "default": outputs["pooled_output"],
        }

    root = _Trackable()
    root.variables = _tf_variables(backbone.variables)
    root.trainable_variables = _tf_variables(backbone.trainable_variables)
    root.regularization_losses = []
    root.__call__ = tf.function(encode, autograph=False)
    for training in (False, True):
        root.__call__.get_concrete_function(_ids_spec(), training=training)

    @tf.function(input_signature=[_ids_spec()], autograph=False)
    def serve(inputs):
        outputs = encode(inputs)
        flat = {k: v for k, v in outputs.items() if k != "encoder_outputs"}
        for i, layer_output in enumerate(outputs["encoder_outputs"]):
            flat[f"encoder_outputs_{i}"] = layer_output
        return flat

    if mlm_head is not None:

        def encode_mlm(inputs, training=False):
            outputs = encode(inputs, training=training)
            outputs["mlm_logits"] = mlm_head(
                outputs["sequence_output"], inputs["masked_lm_positions"], training=training
            )
            return outputs

        mlm_spec = dict(_ids_spec())
        mlm_spec["masked_lm_positions"] = tf.TensorSpec(
            [None, None], tf.int32, name="masked_lm_positions"
        )
        root.mlm = _Trackable()
        root.mlm.variables = _tf_variables(backbone.variables + mlm_head.variables)
        root.mlm.trainable_variables = _tf_variables(
            backbone.trainable_variables + mlm_head.trainable_variables
        )
        root.mlm.regularization_losses = []
        root.mlm.__call__ = tf.function(encode_mlm, autograph=False)
        for training in (False, True):
            root.mlm.__call__.get_concrete_function(mlm_spec, training=training)

    with tempfile.TemporaryDirectory() as sources, atomic_directory(directory) as staging:
        config_file = pathlib.Path(sources) / CONFIG_ASSET
        config_file.write_text(json.dumps(backbone.config.to_dict(), indent=2, sort_keys=True))
        root.albert_config_file = tf.saved_model.Asset(str(config_file))
        if tokenizer is not None:
            _attach_tokenizer_assets(root, tokenizer, sources)
        tf.saved_model.save(root, str(staging), signatures={"serving_default": serve})
        check_serving_ops(staging)
    return directory


def _pack(segments, seq_length, cls_id, sep_id, pad_id):
    """Round-robin truncation and packing to a (tensor) `seq_length`.

    `AlbertPacker` takes a Python int; TF Hub's `bert_pack_inputs` takes
    `seq_length` as an int32 scalar at call time, so this reuses the
    packer's truncation and assembly functions with a tensor budget and
    pads the dynamic result up to `seq_length`.
    """
    from albert_tf.text.packer import assemble, trimmed_lengths

    segments = [tf.cast(s, tf.int32).with_row_splits_dtype(tf.int64) for s in segments]
    seq_length = tf.cast(seq_length, tf.int32)
    check = tf.debugging.assert_greater_equal(
        seq_length, len(segments) + 2,
        message=f"seq_length too small for {len(segments)} segment(s) and the special tokens",
    )
    with tf.control_dependencies([check]):
        budget = seq_length - 1 - len(segments)
    lengths = [tf.cast(s.row_lengths(), tf.int32) for s in segments]
    keep = trimmed_lengths(lengths, budget, "round_robin")
    trimmed = [
        tf.ragged.boolean_mask(s, tf.ragged.range(s.row_lengths()) < tf.cast(k, tf.int64)[:, None])
        for s, k in zip(segments, keep)
    ]
    ids, type_ids, mask = assemble(trimmed, cls_id, sep_id, pad_id, None, dynamic_padding=True)
    pad = [[0, 0], [0, seq_length - tf.shape(ids)[1]]]
    return {
        "input_word_ids": tf.pad(ids, pad, constant_values=pad_id),
        "input_mask": tf.pad(mask, pad),
        "input_type_ids": tf.pad(type_ids, pad),
    }


def export_preprocess_module(tokenizer, directory, seq_length=128):
    """Writes ALBERT preprocessing as a TF Hub-style preprocess SavedModel.

    - `obj(strings [B])` -> dict int32 [B, seq_length] `input_word_ids`,
      `input_mask`, `input_type_ids` (one segment, padded to seq_length).
    - `obj.tokenize(strings [B])` -> int32 RaggedTensor [B, (tokens)].
    - `obj.tokenize.get_special_tokens_dict()` -> int32 scalars
      `vocab_size`, `start_of_sequence_id`, `end_of_segment_id`,
      `padding_id`, `mask_id`, `unk_id`.
    - `obj.bert_pack_inputs([ragged, ...], seq_length=...)`: 1 or 2 ragged
      [B, (tokens)] -> the three int32 [B, seq_length] tensors, round-robin
      truncation.

    Args:
        tokenizer: an `albert_tf.text.AlbertTokenizer` (vocabulary asset
            `spiece.model`, attribute `sp_model_file`) or
            `AlbertWordPieceTokenizer` (`vocab.txt`, attribute `vocab_file`).
        directory: target directory; must not exist (written atomically).
        seq_length: packed length of the root call and the default of
            `bert_pack_inputs`.

    Returns:
        The directory as a `pathlib.Path`.

    Raises:
        TypeError: `tokenizer` is no albert_tf tokenizer.
        ValueError: `seq_length` is not an int >= 3.
        FileExistsError: `directory` exists.

    Example:
    >>> export_preprocess_module(AlbertTokenizer(), "hub/albert_preprocess", seq_length=8)
    PosixPath('hub/albert_preprocess')
    >>> preprocess = tf.saved_model.load("hub/albert_preprocess")
    >>> preprocess(tf.constant(["hello world"]))["input_word_ids"].numpy().tolist()
    [[2, 10975, 126, 3, 0, 0, 0, 0]]
    """
    tokenizer_assets(tokenizer)  # a TypeError before any tracing for what is no albert_tf tokenizer
    if not isinstance(seq_length, int) or isinstance(seq_length, bool) or seq_length < 3:
        raise ValueError(f"seq_length must be an int >= 3, got {seq_length!r}")
    directory = pathlib.Path(directory)
    ids = (tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id)
    strings_spec = tf.TensorSpec([None], tf.string, name="strings")
    special = {
        "vocab_size": tokenizer.vocab_size,
        "start_of_sequence_id": tokenizer.cls_id,
        "end_of_segment_id": tokenizer.sep_id,
        "padding_id": tokenizer.pad_id,
        "mask_id": tokenizer.mask_id,
        "unk_id": tokenizer.unk_id,
    }

    def tokenize(strings):
        return tokenizer.tokenize(strings)

    def pack(inputs, seq_length=seq_length):
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (1, 2):
            raise ValueError("bert_pack_inputs expects a list of 1 or 2 ragged id tensors")
        return _pack(list(inputs), seq_length, *ids)

    root = _Trackable()
    root.tokenizer = getattr(tokenizer, "_sp", tokenizer)  # see task_export._tokenizer_resources
    root.tokenize = _Trackable()
    root.tokenize.__call__ = tf.function(tokenize, input_signature=[strings_spec])
    root.tokenize.get_special_tokens_dict = tf.function(
        lambda: {k: tf.constant(v, tf.int32) for k, v in special.items()}, input_signature=[]
    )
    root.bert_pack_inputs = _Trackable()
    root.bert_pack_inputs.__call__ = tf.function(pack)
    ragged = tf.RaggedTensorSpec([None, None], tf.int32, ragged_rank=1, row_splits_dtype=tf.int64)
    for num_segments in (1, 2):
        root.bert_pack_inputs.__call__.get_concrete_function(
            [ragged] * num_segments, seq_length=tf.TensorSpec([], tf.int32, name="seq_length")
        )
    root.__call__ = tf.function(
        lambda strings: _pack([tokenizer.tokenize(strings)], seq_length, *ids),
        input_signature=[strings_spec],
    )

    with tempfile.TemporaryDirectory() as sources, atomic_directory(directory) as staging:
        _attach_tokenizer_assets(root, tokenizer, sources)
        tf.saved_model.save(
            root, str(staging), signatures={"serving_default": root.__call__.get_concrete_function()}
        )
        check_serving_ops(staging)
    return directory

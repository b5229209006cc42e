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
from albert_tf.export._files import atomic_directory
from albert_tf.export.ops_check import check_serving_ops

CONFIG_ASSET = "albert_config.json"
SPIECE_ASSET = "spiece.model"


# A plain trackable object: tf.Module reserves `variables` and
# `trainable_variables` as read-only properties, which the TF Hub format sets.
_Trackable = tf.__internal__.tracking.AutoTrackable


def _ids_spec(rank=2):
    return {name: tf.TensorSpec([None] * rank, tf.int32, name=name) for name in INPUT_NAMES}


def _tf_variables(keras_variables):
    # Keras 3 variables wrap a tf.Variable; the traced functions capture that one.
    return [v.value for v in keras_variables]


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


def _write_sources(directory, config, tokenizer):
    """Writes the asset source files into `directory`; returns {name: path}."""
    directory = pathlib.Path(directory)
    paths = {CONFIG_ASSET: directory / CONFIG_ASSET}
    paths[CONFIG_ASSET].write_text(json.dumps(config.to_dict(), indent=2, sort_keys=True))
    if tokenizer is not None:
        paths[SPIECE_ASSET] = directory / SPIECE_ASSET
        paths[SPIECE_ASSET].write_bytes(_tokenizer_proto(tokenizer))
    return paths


def _tokenizer_proto(tokenizer):
    proto = getattr(tokenizer, "proto", None)
    if not isinstance(proto, bytes) or not proto:
        raise TypeError(
            f"Expected an albert_tf.text.AlbertTokenizer (with `.proto` bytes), "
            f"got {type(tokenizer).__name__}"
        )
    return proto


def export_encoder_module(model, directory, tokenizer=None):
    """Writes `model`'s encoder as a TF Hub-style reusable SavedModel.

    The module is called as `obj(inputs, training=False)` on a dict of int32
    [B, T] `input_word_ids`, `input_mask`, `input_type_ids` and returns
    `pooled_output` [B, H], `sequence_output` [B, T, H], `encoder_outputs`
    (list of L [B, T, H]) and `default` (= pooled). A pretrainer adds
    `obj.mlm(inputs + masked_lm_positions [B, P])` -> also `mlm_logits`
    [B, P, V]. See README.md for the full format.

    Args:
        model: an `AlbertBackbone`, or a task model holding one (an
            `AlbertPretrainer` also exports its MLM head).
        directory: target directory; must not exist (written atomically).
        tokenizer: optional `albert_tf.text.AlbertTokenizer`; its
            SentencePiece model travels as `assets/spiece.model`.

    Returns:
        The directory as a `pathlib.Path`.

    Example:
    >>> export_encoder_module(AlbertBackbone.from_preset("albert_tiny"), "albert_encoder")
    >>> encoder = tf.saved_model.load("albert_encoder")
    >>> encoder(inputs)["pooled_output"].shape
    TensorShape([1, 64])
    """
    backbone, mlm_head = _split_model(model)
    directory = pathlib.Path(directory)
    num_layers = backbone.config.num_hidden_layers

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
        for i in range(num_layers):
            flat[f"encoder_outputs_{i}"] = outputs["encoder_outputs"][i]
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
        head_variables = _tf_variables(mlm_head.variables)
        root.mlm.variables = root.variables + head_variables
        root.mlm.trainable_variables = root.trainable_variables + _tf_variables(
            mlm_head.trainable_variables
        )
        root.mlm.regularization_losses = []
        root.mlm.__call__ = tf.function(encode_mlm, autograph=False)
        for training in (False, True):
            root.mlm.__call__.get_concrete_function(mlm_spec, training=training)

    with tempfile.TemporaryDirectory() as sources, atomic_directory(directory) as staging:
        paths = _write_sources(sources, backbone.config, tokenizer)
        root.albert_config_file = tf.saved_model.Asset(str(paths[CONFIG_ASSET]))
        if tokenizer is not None:
            root.sp_model_file = tf.saved_model.Asset(str(paths[SPIECE_ASSET]))
            root.do_lower_case = tf.Variable(
                bool(getattr(tokenizer, "do_lower_case", True)), trainable=False,
                name="do_lower_case",
            )
        tf.saved_model.save(root, str(staging), signatures={"serving_default": serve})
        check_serving_ops(staging)
    return directory

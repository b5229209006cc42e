"""`HubEncoderLayer`: a TF Hub-style encoder module fine-tuned inside a Keras 3 model."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertBackbone, AlbertPretrainer
from albert_tf.backbone import INPUT_NAMES
from albert_tf.export import HubEncoderLayer, export_encoder_module
from tests.helpers.export import assert_close


@pytest.fixture(scope="module")
def pretrainer():
    return AlbertPretrainer(AlbertBackbone.from_preset("albert_tiny"))


@pytest.fixture()
def encoder_dir(tmp_path, pretrainer):
    # A fresh export per test: fine-tuning writes into the module's variables.
    return export_encoder_module(pretrainer, tmp_path / "encoder")


def _batch(n=16, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 30000, size=(n, 8)).astype("int32")
    lengths = rng.integers(3, 9, size=(n, 1))
    mask = (np.arange(8) < lengths).astype("int32")
    return {"input_word_ids": np.where(mask > 0, ids, 0).astype("int32"), "input_mask": mask,
            "input_type_ids": np.zeros_like(ids)}


def _classifier(layer):
    inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in INPUT_NAMES}
    logits = keras.layers.Dense(2, name="head")(layer(inputs)["pooled_output"])
    return keras.Model(inputs, logits)


def test_layer_tracks_module_variables_and_matches_backbone(encoder_dir, pretrainer):
    layer = HubEncoderLayer(encoder_dir)
    backbone = pretrainer.backbone
    assert len(layer.trainable_weights) == len(backbone.trainable_weights)
    assert layer.non_trainable_weights == []
    inputs = _batch(4)
    out = layer(inputs)
    expected = backbone(inputs)
    assert_close(out["pooled_output"], expected["pooled_output"])
    assert_close(out["sequence_output"], expected["sequence_output"])
    model = _classifier(layer)
    assert len(model.trainable_weights) == len(backbone.trainable_weights) + 2  # + head kernel, bias


def test_fine_tuning_changes_the_encoder_and_lowers_the_loss(encoder_dir):
    keras.utils.set_random_seed(0)
    layer = HubEncoderLayer(encoder_dir, trainable=True)
    model = _classifier(layer)
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = _batch(16)
    y = (x["input_mask"].sum(-1) > 5).astype("int32")  # learnable from the inputs
    before = [w.numpy().copy() for w in layer.trainable_weights]
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=8, epochs=6, verbose=0)
    last = model.evaluate(x, y, verbose=0)
    assert last < first * 0.8, (first, last)
    changed = [not np.allclose(b, w.numpy()) for b, w in zip(before, layer.trainable_weights)]
    assert sum(changed) >= len(changed) // 2
    # The layer owns the module's own variables: the module sees the update.
    pooled = layer._module(x, training=False)["pooled_output"]
    assert_close(layer(x)["pooled_output"], pooled)


def test_frozen_layer_keeps_the_encoder(encoder_dir):
    layer = HubEncoderLayer(encoder_dir, trainable=False)
    model = _classifier(layer)
    assert len(model.trainable_weights) == 2
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [w.numpy().copy() for w in layer.weights]
    model.fit(_batch(8), np.arange(8) % 2, epochs=2, verbose=0)
    for b, w in zip(before, layer.weights):
        np.testing.assert_array_equal(b, w.numpy())


def test_mlm_sub_module(encoder_dir, pretrainer):
    layer = HubEncoderLayer(encoder_dir, sub_module="mlm")
    inputs = dict(_batch(3), masked_lm_positions=np.array([[1, 2], [0, 1], [2, 2]], "int32"))
    assert_close(layer(inputs)["mlm_logits"], pretrainer(inputs)["mlm_logits"], atol=1e-5)
    # Encoder + MLM head, the tied word embeddings once, no SOP head.
    unique = {id(v) for v in pretrainer.trainable_weights if "sop_head" not in v.path}
    assert len(layer.trainable_weights) == len(unique) == len(pretrainer.trainable_weights) - 2
    with pytest.raises(ValueError, match="no sub-object 'nsp'"):
        HubEncoderLayer(encoder_dir, sub_module="nsp")


def test_model_with_the_layer_round_trips_through_keras_file(encoder_dir, tmp_path):
    model = _classifier(HubEncoderLayer(encoder_dir))
    x = _batch(4, seed=3)
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "model.keras")
    restored = keras.models.load_model(tmp_path / "model.keras")
    assert_close(restored.predict(x, verbose=0), expected)


def test_not_a_hub_module_is_refused(tmp_path):
    module = tf.Module()
    module.f = tf.function(lambda x: x, input_signature=[tf.TensorSpec([None], tf.float32)])
    tf.saved_model.save(module, str(tmp_path / "plain"))
    with pytest.raises(ValueError, match="TF Hub-style"):
        HubEncoderLayer(tmp_path / "plain")

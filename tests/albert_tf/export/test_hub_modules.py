"""TF Hub-style encoder and preprocess modules: formats, numbers, tensorflow_hub under tf_keras."""

import json

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertBackbone, AlbertConfig, AlbertPretrainer
from albert_tf import text as albert_text
from albert_tf.export import export_encoder_module, export_preprocess_module
from tests.helpers.export import assert_close, run_fresh

TEXTS = ["Hello world!", "The movie was 1,000 times better than the book, honestly.", ""]
SECOND = ["A second segment that is rather long and will need truncation.", "b", "c d"]


def _ids(seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 30000, size=(3, 10)).astype("int32")
    mask = (np.arange(10) < np.array([[10], [6], [3]])).astype("int32")
    types = ((np.arange(10) >= 4) & (mask > 0)).astype("int32")
    return {"input_word_ids": np.where(mask > 0, ids, 0).astype("int32"), "input_mask": mask,
            "input_type_ids": types}


@pytest.fixture(scope="module")
def pretrainer():
    return AlbertPretrainer(AlbertBackbone.from_preset("albert_tiny_grouped"))


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory, pretrainer, tokenizer):
    return export_encoder_module(pretrainer, tmp_path_factory.mktemp("hub") / "encoder", tokenizer=tokenizer)


@pytest.fixture(scope="module")
def preprocess_dir(tmp_path_factory, tokenizer):
    return export_preprocess_module(tokenizer, tmp_path_factory.mktemp("hub") / "preprocess", seq_length=16)


def test_encoder_module_matches_backbone(encoder_dir, pretrainer):
    loaded = tf.saved_model.load(str(encoder_dir))
    inputs = _ids()
    expected = pretrainer.backbone(inputs)
    out = loaded(inputs, training=False)
    assert sorted(out) == ["default", "encoder_outputs", "pooled_output", "sequence_output"]
    assert_close(out["pooled_output"], expected["pooled_output"])
    assert_close(out["default"], expected["pooled_output"])
    assert_close(out["sequence_output"], expected["sequence_output"])
    config = pretrainer.backbone.config
    assert len(out["encoder_outputs"]) == config.num_hidden_layers * config.inner_group_num == 8
    for got, want in zip(out["encoder_outputs"], expected["encoder_outputs"]):
        assert_close(got, want)
    signature = loaded.signatures["serving_default"](**{k: tf.constant(v) for k, v in inputs.items()})
    assert_close(signature["encoder_outputs_7"], expected["encoder_outputs"][7])
    assert_close(signature["pooled_output"], expected["pooled_output"])


def test_encoder_module_mlm_matches_pretrainer(encoder_dir, pretrainer):
    loaded = tf.saved_model.load(str(encoder_dir))
    inputs = dict(_ids(1), masked_lm_positions=np.array([[1, 2], [3, 0], [1, 1]], "int32"))
    out = loaded.mlm(inputs, training=False)
    assert_close(out["mlm_logits"], pretrainer(inputs)["mlm_logits"], atol=1e-5)
    names = [v.name for v in loaded.mlm.trainable_variables]
    assert len(names) == len(set(names)) == len(pretrainer.trainable_variables) - 2  # no SOP head
    assert "mlm_head/output_bias:0" in names


def test_encoder_module_variables_and_assets(encoder_dir, pretrainer, tokenizer):
    loaded = tf.saved_model.load(str(encoder_dir))
    backbone = pretrainer.backbone
    names = sorted(v.name for v in loaded.trainable_variables)
    assert names == sorted(f"{v.path}:0" for v in backbone.trainable_variables)
    assert "group_1_inner_1/query/kernel:0" in names  # the documented name map
    query = next(v for v in loaded.variables if v.name == "group_1_inner_1/query/kernel:0")
    assert query.shape == (64, 4, 16)
    assert (encoder_dir / "assets" / "spiece.model").read_bytes() == tokenizer.proto
    config = AlbertConfig.from_json_file(encoder_dir / "assets" / "albert_config.json")
    assert config == backbone.config
    assert bool(loaded.do_lower_case.numpy()) is True
    assert loaded.sp_model_file.asset_path.numpy().decode().endswith("spiece.model")


def test_preprocess_module_matches_albert_text(preprocess_dir, tokenizer):
    loaded = tf.saved_model.load(str(preprocess_dir))
    texts = tf.constant(TEXTS)
    out = loaded(texts)
    expected = albert_text.AlbertPreprocessor(tokenizer, seq_length=16)(texts)
    for key in expected:
        np.testing.assert_array_equal(out[key], expected[key], err_msg=key)
    assert out["input_word_ids"].shape == (3, 16)
    tokens = loaded.tokenize(texts)
    assert tokens.to_list() == tokenizer.tokenize(texts).to_list()
    special = {k: int(v) for k, v in loaded.tokenize.get_special_tokens_dict().items()}
    assert special == {"vocab_size": 30000, "start_of_sequence_id": 2, "end_of_segment_id": 3,
                       "padding_id": 0, "mask_id": 4, "unk_id": 1}
    second = loaded.tokenize(tf.constant(SECOND))
    for seq_length in (8, 13):
        packed = loaded.bert_pack_inputs([tokens, second], seq_length=seq_length)
        reference = albert_text.AlbertPacker(seq_length, 2, 3, 0, truncation="round_robin")(
            [tokenizer.tokenize(texts), tokenizer.tokenize(tf.constant(SECOND))]
        )
        for key in reference:
            np.testing.assert_array_equal(packed[key], reference[key], err_msg=f"{key} at {seq_length}")
    default = loaded.bert_pack_inputs([tokens])
    np.testing.assert_array_equal(default["input_word_ids"], out["input_word_ids"])


HUB_UNDER_TF_KERAS = """
import numpy as np
import tensorflow as tf
import tensorflow_hub as hub
import tensorflow_text  # noqa: F401
import tf_keras

assert tf.keras is tf_keras or tf.keras.__name__.startswith("tf_keras"), tf.keras
RESULT = {}
names = ("input_word_ids", "input_mask", "input_type_ids")
inputs = {n: tf_keras.layers.Input(shape=(None,), dtype=tf.int32, name=n) for n in names}
encoder = hub.KerasLayer(PAYLOAD["encoder"], trainable=True)
outputs = encoder(inputs)
model = tf_keras.Model(inputs, [outputs["pooled_output"], outputs["sequence_output"]])
pooled, sequence = model.predict(PAYLOAD["ids"], verbose=0)
RESULT["pooled"], RESULT["sequence"] = pooled, sequence
RESULT["trainable"] = len(encoder.trainable_weights)

text = tf_keras.layers.Input(shape=(), dtype=tf.string)
preprocessor = hub.load(PAYLOAD["preprocess"])
packed = hub.KerasLayer(PAYLOAD["preprocess"])(text)
pre_model = tf_keras.Model(text, packed)
RESULT["packed"] = {k: v.numpy() for k, v in pre_model(tf.constant(PAYLOAD["texts"])).items()}
tokenize = hub.KerasLayer(preprocessor.tokenize)
pack = hub.KerasLayer(preprocessor.bert_pack_inputs, arguments=dict(seq_length=12))
pair = pack([tokenize(tf.constant(PAYLOAD["texts"])), tokenize(tf.constant(PAYLOAD["second"]))])
RESULT["pair"] = {k: v.numpy() for k, v in pair.items()}
"""


def test_modules_load_in_tensorflow_hub_keras_layer(encoder_dir, preprocess_dir, pretrainer, tokenizer, tmp_path):
    ids = _ids(2)
    payload = {"encoder": str(encoder_dir), "preprocess": str(preprocess_dir), "ids": ids,
               "texts": TEXTS, "second": SECOND}
    result = run_fresh(HUB_UNDER_TF_KERAS, payload, tmp_path, env={"TF_USE_LEGACY_KERAS": "1"})
    expected = pretrainer.backbone(ids)
    assert_close(result["pooled"], expected["pooled_output"])
    assert_close(result["sequence"], expected["sequence_output"])
    assert result["trainable"] == len(pretrainer.backbone.trainable_variables)
    reference = albert_text.AlbertPreprocessor(tokenizer, 16)(tf.constant(TEXTS))
    for key in reference:
        np.testing.assert_array_equal(result["packed"][key], reference[key])
    pair = albert_text.AlbertPacker(12, 2, 3, 0)(
        [tokenizer.tokenize(tf.constant(TEXTS)), tokenizer.tokenize(tf.constant(SECOND))]
    )
    for key in pair:
        np.testing.assert_array_equal(result["pair"][key], pair[key])


def test_encoder_module_of_a_bare_backbone_has_no_mlm(tmp_path):
    directory = export_encoder_module(AlbertBackbone.from_preset("albert_tiny_unfactorized"), tmp_path / "enc")
    loaded = tf.saved_model.load(str(directory))
    assert not hasattr(loaded, "mlm") and not hasattr(loaded, "sp_model_file")
    assert not any("embedding_projection" in v.name for v in loaded.variables)  # E == H: no projection
    assert json.loads((directory / "assets" / "albert_config.json").read_text())["embedding_size"] == 64
    with pytest.raises(FileExistsError, match="already exists"):
        export_encoder_module(AlbertBackbone.from_preset("albert_tiny"), directory)


class _PythonTokenizer(albert_text.AlbertTokenizer):
    """Tokenizes through a tf.py_function, which no model server can run."""

    def tokenize(self, strings):
        ids = super().tokenize(strings)
        flat = tf.py_function(lambda x: x, [ids.flat_values], tf.int32)
        return ids.with_flat_values(tf.ensure_shape(flat, ids.flat_values.shape))


def test_unservable_preprocess_module_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="EagerPyFunc"):
        export_preprocess_module(_PythonTokenizer(), tmp_path / "pre", seq_length=8)
    assert list(tmp_path.iterdir()) == []


def test_bad_inputs_raise_clear_errors(tmp_path, tokenizer):
    with pytest.raises(TypeError, match="Expected an AlbertBackbone"):
        export_encoder_module(tf.Module(), tmp_path / "x")
    with pytest.raises(ValueError, match="seq_length must be an int >= 3"):
        export_preprocess_module(tokenizer, tmp_path / "y", seq_length=2)
    with pytest.raises(TypeError, match="AlbertTokenizer"):
        export_preprocess_module("spiece.model", tmp_path / "z")
    assert list(tmp_path.iterdir()) == []

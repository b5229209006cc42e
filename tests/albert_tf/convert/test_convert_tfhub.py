"""TF2 TF Hub encoder SavedModels -> albert_tf.

(a) Google's format: the test writes a SavedModel whose variables carry the
    official.nlp AlbertEncoder names (values from a random transformers
    reference) and whose serving signature runs a plain-TF forward pass over
    them; the converted backbone must match the HF reference.
(b) This project's exporter: export -> convert back -> same outputs.
"""

import math

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertBackbone, AlbertPretrainer
from albert_tf.convert import ConversionError, from_tfhub
from tests.helpers.convert import backbone_inputs, compare, hf_outputs, make_batch, make_hf_model, run_albert


def official_variables(hf):
    """{official.nlp variable name: array} from a transformers ALBERT (G = 1, inner = 1)."""
    sd = {k: v.detach().numpy() for k, v in hf.state_dict().items()}
    cfg = hf.config
    h, n = cfg.hidden_size, cfg.num_attention_heads
    d = h // n
    layer = "encoder.albert_layer_groups.0.albert_layers.0."
    out = {
        "word_embeddings/embeddings": sd["embeddings.word_embeddings.weight"],
        "position_embedding/embeddings": sd["embeddings.position_embeddings.weight"],
        "type_embeddings/embeddings": sd["embeddings.token_type_embeddings.weight"],
        "embeddings/layer_norm/gamma": sd["embeddings.LayerNorm.weight"],
        "embeddings/layer_norm/beta": sd["embeddings.LayerNorm.bias"],
        "embedding_projection/kernel": sd["encoder.embedding_hidden_mapping_in.weight"].T,
        "embedding_projection/bias": sd["encoder.embedding_hidden_mapping_in.bias"],
        "transformer/self_attention/attention_output/kernel": sd[layer + "attention.dense.weight"].T.reshape(n, d, h),
        "transformer/self_attention/attention_output/bias": sd[layer + "attention.dense.bias"],
        "transformer/self_attention_layer_norm/gamma": sd[layer + "attention.LayerNorm.weight"],
        "transformer/self_attention_layer_norm/beta": sd[layer + "attention.LayerNorm.bias"],
        "transformer/intermediate/kernel": sd[layer + "ffn.weight"].T,
        "transformer/intermediate/bias": sd[layer + "ffn.bias"],
        "transformer/output/kernel": sd[layer + "ffn_output.weight"].T,
        "transformer/output/bias": sd[layer + "ffn_output.bias"],
        "transformer/output_layer_norm/gamma": sd[layer + "full_layer_layer_norm.weight"],
        "transformer/output_layer_norm/beta": sd[layer + "full_layer_layer_norm.bias"],
        "pooler_transform/kernel": sd["pooler.weight"].T,
        "pooler_transform/bias": sd["pooler.bias"],
    }
    for role in ("query", "key", "value"):
        out[f"transformer/self_attention/{role}/kernel"] = sd[layer + f"attention.{role}.weight"].T.reshape(h, n, d)
        out[f"transformer/self_attention/{role}/bias"] = sd[layer + f"attention.{role}.bias"].reshape(n, d)
    return {k: np.ascontiguousarray(v, np.float32) for k, v in out.items()}


def write_official_module(directory, hf):
    """A SavedModel with official.nlp variable names and a plain-TF ALBERT signature."""
    cfg = hf.config
    root = tf.Module()
    variables = {name: tf.Variable(value, name=name) for name, value in official_variables(hf).items()}
    root.encoder_variables = list(variables.values())
    w = variables
    num_layers = cfg.num_hidden_layers

    def layer_norm(x, prefix):
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(var + 1e-12) * w[prefix + "/gamma"] + w[prefix + "/beta"]

    def gelu(x):
        return 0.5 * x * (1.0 + tf.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))

    spec = {k: tf.TensorSpec([None, None], tf.int32, name=k)
            for k in ("input_word_ids", "input_mask", "input_type_ids")}

    @tf.function(input_signature=[spec])
    def serve(inputs):
        ids, mask, types = inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"]
        length = tf.shape(ids)[1]
        x = (tf.gather(w["word_embeddings/embeddings"], ids)
             + tf.gather(w["type_embeddings/embeddings"], types)
             + w["position_embedding/embeddings"][None, :length])
        x = layer_norm(x, "embeddings/layer_norm")
        x = tf.einsum("bte,eh->bth", x, w["embedding_projection/kernel"]) + w["embedding_projection/bias"]
        adder = (1.0 - tf.cast(mask, tf.float32))[:, None, None, :] * -10000.0
        t = "transformer/self_attention/"
        outputs = {}
        for i in range(num_layers):
            q, k, v = (tf.einsum("bth,hnd->btnd", x, w[t + r + "/kernel"]) + w[t + r + "/bias"]
                       for r in ("query", "key", "value"))
            scores = tf.einsum("bqnd,bknd->bnqk", q, k) / math.sqrt(q.shape[-1]) + adder
            context = tf.einsum("bnqk,bknd->bqnd", tf.nn.softmax(scores, -1), v)
            attention = tf.einsum("btnd,ndh->bth", context, w[t + "attention_output/kernel"]) + w[t + "attention_output/bias"]
            x = layer_norm(x + attention, "transformer/self_attention_layer_norm")
            inner = gelu(tf.einsum("bth,hi->bti", x, w["transformer/intermediate/kernel"]) + w["transformer/intermediate/bias"])
            ffn = tf.einsum("bti,ih->bth", inner, w["transformer/output/kernel"]) + w["transformer/output/bias"]
            x = layer_norm(x + ffn, "transformer/output_layer_norm")
            outputs[f"encoder_outputs_{i}"] = x
        pooled = tf.tanh(tf.matmul(x[:, 0], w["pooler_transform/kernel"]) + w["pooler_transform/bias"])
        outputs.update(sequence_output=x, pooled_output=pooled, default=pooled)
        return outputs

    root.serve = serve
    tf.saved_model.save(root, str(directory), signatures={"serving_default": serve})
    return directory


def test_official_module_parity(tmp_path):
    hf = make_hf_model("albert_tiny", "AlbertModel", seed=21)
    module_dir = write_official_module(tmp_path / "albert_en_tiny", hf)
    backbone = from_tfhub(module_dir)
    assert isinstance(backbone, AlbertBackbone)
    assert backbone.config.num_hidden_layers == hf.config.num_hidden_layers  # from the signature
    batch = make_batch(hf.config.vocab_size, seed=22)
    reference = hf_outputs(hf, batch)
    ours = run_albert(backbone, batch)
    compare("TF Hub official -> albert_tf vs HF", ours, reference,
            ("sequence_output", "pooled_output", "encoder_outputs"))
    # The module's own forward pass agrees too, so the names mean what the map says.
    module = tf.saved_model.load(str(module_dir)).signatures["serving_default"]
    served = module(**{k: tf.constant(v) for k, v in backbone_inputs(batch).items()})
    compare("TF Hub official module vs HF", {k: v.numpy() for k, v in served.items()},
            reference, ("sequence_output", "pooled_output"))


def test_official_module_grouped_config_is_rejected(tmp_path):
    hf = make_hf_model("albert_tiny", "AlbertModel", seed=23)
    module_dir = write_official_module(tmp_path / "m", hf)
    with pytest.raises(ConversionError, match="share one layer"):
        from_tfhub(module_dir, config="albert_tiny_grouped")


def test_albert_tf_export_round_trip(tmp_path):
    export = pytest.importorskip("albert_tf.export.hub_modules")
    from albert_tf.convert import from_huggingface

    pretrainer = from_huggingface(make_hf_model("albert_tiny_grouped", seed=24))
    export.export_encoder_module(pretrainer, tmp_path / "encoder")
    batch = make_batch(pretrainer.backbone.config.vocab_size, seed=25)
    expected = run_albert(pretrainer.backbone, batch)
    with pytest.warns(UserWarning, match="dropping head tensors"):
        backbone = from_tfhub(tmp_path / "encoder")
    compare("albert_tf export -> backbone", run_albert(backbone, batch), expected,
            ("sequence_output", "pooled_output", "encoder_outputs"))
    with pytest.raises(ConversionError, match="carries a 'pretraining' model, so it cannot be converted into task 'span_qa'"):
        from_tfhub(tmp_path / "encoder", task="span_qa")
    round_trip = from_tfhub(tmp_path / "encoder", task="pretraining")
    assert isinstance(round_trip, AlbertPretrainer)
    ours = run_albert(round_trip, batch)
    compare("albert_tf export -> pretrainer", ours, run_albert(pretrainer, batch), ("mlm_logits",))
    np.testing.assert_array_equal(ours["sop_logits"], 0.0)


def test_variables_no_albert_tf_model_holds_are_refused_unless_allowed(tmp_path):
    from albert_tf import PRESETS

    hf = make_hf_model("albert_tiny", "AlbertModel", seed=26)
    root = tf.Module()
    values = dict(official_variables(hf), **{"cls/squad/output_weights": np.zeros((2, 64), np.float32)})
    root.encoder_variables = [tf.Variable(value, name=name) for name, value in values.items()]
    tf.saved_model.save(root, str(tmp_path / "module"))
    with pytest.raises(ConversionError, match=r"no albert_tf model holds: \['cls/squad/output_weights'\]"):
        from_tfhub(tmp_path / "module", config=PRESETS["albert_tiny"])
    with pytest.warns(UserWarning, match="cls/squad/output_weights"):
        backbone = from_tfhub(tmp_path / "module", config=PRESETS["albert_tiny"], allow_unused=True)
    batch = make_batch(hf.config.vocab_size, seed=27)
    compare("TF Hub official + unused", run_albert(backbone, batch), hf_outputs(hf, batch), ("sequence_output",))


def test_droppable_mlm_head_names_are_the_pretrainers_own():
    from albert_tf import PRESETS
    from albert_tf.convert.tfhub import OWN_MLM_HEAD

    pretrainer = AlbertPretrainer(AlbertBackbone(PRESETS["albert_tiny"].replace(vocab_size=100)))
    assert set(OWN_MLM_HEAD) == {w.path for w in pretrainer.weights if w.path.startswith("mlm_head/")}

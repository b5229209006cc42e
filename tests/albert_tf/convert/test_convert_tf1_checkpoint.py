"""Original google-research/albert TF1 checkpoints -> albert_tf, against HF outputs.

The test writes checkpoints in the original format itself (exact GR variable
names via tf.raw_ops.SaveV2, plus global_step and adam_m/adam_v slots that
must be skipped, and a TF Hub TF1 `module/` variant) from the weights of a
random transformers reference, then checks the converted model against that
reference.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertBackbone, AlbertClassifier, AlbertPretrainer, AlbertSpanQA, AlbertSpanQAV2
from albert_tf.convert import ConversionError, from_tf1_checkpoint
from tests.helpers.convert import (
    CONFIG_NAMES, FIVE_LAYERS_TWO_GROUPS, compare, gr_p_mask, hf_outputs, make_batch, make_hf_model,
    run_albert, squad_v2_reference, squad_v2_tensors,
)


def gr_tensors(hf, with_slots=True, prefix=""):
    """{GR TF1 name: array} from a transformers ALBERT, written independently of albert_tf."""
    sd = {k: v.detach().numpy() for k, v in hf.state_dict().items()}
    cfg = hf.config
    out = {}

    def put(name, value):
        out[prefix + name] = np.ascontiguousarray(value, dtype=np.float32)

    a = "albert."
    put("bert/embeddings/word_embeddings", sd[a + "embeddings.word_embeddings.weight"])
    put("bert/embeddings/position_embeddings", sd[a + "embeddings.position_embeddings.weight"])
    put("bert/embeddings/token_type_embeddings", sd[a + "embeddings.token_type_embeddings.weight"])
    put("bert/embeddings/LayerNorm/gamma", sd[a + "embeddings.LayerNorm.weight"])
    put("bert/embeddings/LayerNorm/beta", sd[a + "embeddings.LayerNorm.bias"])
    if cfg.embedding_size != cfg.hidden_size:  # GR skips the mapping when E == H
        put("bert/encoder/embedding_hidden_mapping_in/kernel", sd[a + "encoder.embedding_hidden_mapping_in.weight"].T)
        put("bert/encoder/embedding_hidden_mapping_in/bias", sd[a + "encoder.embedding_hidden_mapping_in.bias"])
    for g in range(cfg.num_hidden_groups):
        for i in range(cfg.inner_group_num):
            hf_layer = f"{a}encoder.albert_layer_groups.{g}.albert_layers.{i}."
            gr = f"bert/encoder/transformer/group_{g}/inner_group_{i}/"
            pairs = {
                "attention_1/self/query": "attention.query",
                "attention_1/self/key": "attention.key",
                "attention_1/self/value": "attention.value",
                "attention_1/output/dense": "attention.dense",
                "ffn_1/intermediate/dense": "ffn",
                "ffn_1/intermediate/output/dense": "ffn_output",
            }
            for gr_name, hf_name in pairs.items():
                put(gr + gr_name + "/kernel", sd[hf_layer + hf_name + ".weight"].T)
                put(gr + gr_name + "/bias", sd[hf_layer + hf_name + ".bias"])
            put(gr + "LayerNorm/gamma", sd[hf_layer + "attention.LayerNorm.weight"])
            put(gr + "LayerNorm/beta", sd[hf_layer + "attention.LayerNorm.bias"])
            put(gr + "LayerNorm_1/gamma", sd[hf_layer + "full_layer_layer_norm.weight"])
            put(gr + "LayerNorm_1/beta", sd[hf_layer + "full_layer_layer_norm.bias"])
    if a + "pooler.weight" in sd:
        put("bert/pooler/dense/kernel", sd[a + "pooler.weight"].T)
        put("bert/pooler/dense/bias", sd[a + "pooler.bias"])
    else:  # GR always builds the pooler; HF QA models have none
        put("bert/pooler/dense/kernel", np.eye(cfg.hidden_size))
        put("bert/pooler/dense/bias", np.zeros(cfg.hidden_size))
    if "predictions.bias" in sd:
        put("cls/predictions/transform/dense/kernel", sd["predictions.dense.weight"].T)
        put("cls/predictions/transform/dense/bias", sd["predictions.dense.bias"])
        put("cls/predictions/transform/LayerNorm/gamma", sd["predictions.LayerNorm.weight"])
        put("cls/predictions/transform/LayerNorm/beta", sd["predictions.LayerNorm.bias"])
        put("cls/predictions/output_bias", sd["predictions.bias"])
        put("cls/seq_relationship/output_weights", sd["sop_classifier.classifier.weight"])
        put("cls/seq_relationship/output_bias", sd["sop_classifier.classifier.bias"])
    if "classifier.weight" in sd:  # run_classifier's head: [C, H]
        put("output_weights", sd["classifier.weight"])
        put("output_bias", sd["classifier.bias"])
    if "qa_outputs.weight" in sd:  # run_squad_v1's head: [2, H]
        put("cls/squad/output_weights", sd["qa_outputs.weight"])
        put("cls/squad/output_bias", sd["qa_outputs.bias"])
    if with_slots:
        for name in list(out):
            out[name + "/adam_m"] = np.full_like(out[name], 0.5)
            out[name + "/adam_v"] = np.full_like(out[name], 0.25)
        out[prefix + "global_step"] = np.array(125000, np.int64)
    return out


def write_checkpoint(directory, tensors, config, hidden_act="gelu"):
    """A V2 checkpoint with exactly these names + GR's albert_config.json beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    names = sorted(tensors)
    tf.raw_ops.SaveV2(
        prefix=str(directory / "model.ckpt-best"),
        tensor_names=names,
        shape_and_slices=[""] * len(names),
        tensors=[tf.constant(tensors[n]) for n in names],
    )
    gr_config = {
        "attention_probs_dropout_prob": 0, "hidden_act": hidden_act, "hidden_dropout_prob": 0,
        "embedding_size": config.embedding_size, "hidden_size": config.hidden_size,
        "initializer_range": 0.02, "intermediate_size": config.intermediate_size,
        "max_position_embeddings": config.max_position_embeddings,
        "num_attention_heads": config.num_attention_heads,
        "num_hidden_layers": config.num_hidden_layers,
        "num_hidden_groups": config.num_hidden_groups, "net_structure_type": 0,
        "layers_to_keep": [], "gap_size": 0, "num_memory_blocks": 0,
        "inner_group_num": config.inner_group_num, "down_scale_factor": 1,
        "type_vocab_size": config.type_vocab_size, "vocab_size": config.vocab_size,
    }
    (directory / "albert_config.json").write_text(json.dumps(gr_config))
    return directory / "model.ckpt-best"


def reference_model(config_name, class_name="AlbertForPreTraining", seed=11, **extra):
    import torch

    hf = make_hf_model(config_name, class_name, seed=seed, **extra)
    if hf.config.embedding_size == hf.config.hidden_size:
        # GR has no E->H mapping when E == H: make HF's an identity.
        base = hf.albert if hasattr(hf, "albert") else hf
        with torch.no_grad():
            base.encoder.embedding_hidden_mapping_in.weight.copy_(torch.eye(hf.config.hidden_size))
            base.encoder.embedding_hidden_mapping_in.bias.zero_()
    return hf


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("prefix", ["", "module/"], ids=["ckpt", "hub_module"])
def test_pretraining_checkpoint_parity(config_name, prefix, tmp_path):
    hf = reference_model(config_name)
    tensors = gr_tensors(hf, prefix=prefix)
    checkpoint = write_checkpoint(tmp_path / "albert", tensors, hf.config)
    model = from_tf1_checkpoint(checkpoint)
    assert isinstance(model, AlbertPretrainer)
    assert model.backbone.config.has_embedding_projection == (config_name != "albert_tiny_unfactorized")
    batch = make_batch(hf.config.vocab_size, seed=12)
    ours = run_albert(model, batch)
    ours.update(run_albert(model.backbone, batch))
    compare(
        f"TF1 {prefix or 'ckpt'} {config_name}", ours, hf_outputs(hf, batch),
        ("sequence_output", "pooled_output", "encoder_outputs", "mlm_logits", "sop_logits"),
    )


def test_groups_that_do_not_divide_the_layers_parity(tmp_path):
    hf = reference_model(FIVE_LAYERS_TWO_GROUPS)
    checkpoint = write_checkpoint(tmp_path / "albert", gr_tensors(hf), hf.config)
    model = from_tf1_checkpoint(checkpoint)
    assert (model.backbone.config.num_hidden_layers, model.backbone.config.num_hidden_groups) == (5, 2)
    batch = make_batch(hf.config.vocab_size, seed=12)
    ours = run_albert(model, batch)
    ours.update(run_albert(model.backbone, batch))
    compare("TF1 5 layers in 2 groups", ours, hf_outputs(hf, batch),
            ("sequence_output", "pooled_output", "encoder_outputs", "mlm_logits", "sop_logits"))


def test_directory_and_backbone_task(tmp_path):
    hf = reference_model("albert_tiny")
    write_checkpoint(tmp_path / "albert", gr_tensors(hf), hf.config)
    with pytest.warns(UserWarning, match="dropping head tensors"):
        backbone = from_tf1_checkpoint(tmp_path / "albert", task="backbone")
    assert isinstance(backbone, AlbertBackbone)
    batch = make_batch(hf.config.vocab_size, seed=13)
    compare("TF1 dir backbone", run_albert(backbone, batch), hf_outputs(hf, batch),
            ("sequence_output", "pooled_output"))


@pytest.mark.parametrize("extra", ["cls/squad/output_scale", "answer_class/dense_2/kernel", "bert/encoder/extra"])
def test_tensors_no_albert_tf_model_holds_are_refused_unless_allowed(extra, tmp_path):
    # Before, anything under a head prefix (cls/, answer_class/, ...) was dropped
    # with only a warning; now only heads an albert_tf model holds may be.
    hf = reference_model("albert_tiny")
    tensors = gr_tensors(hf)
    tensors[extra] = np.zeros((3,), np.float32)
    checkpoint = write_checkpoint(tmp_path / "albert", tensors, hf.config)
    with pytest.raises(ConversionError, match=f"1 tensor\\(s\\) that no albert_tf model holds: \\['{extra}'\\]"):
        from_tf1_checkpoint(checkpoint)
    with pytest.warns(UserWarning, match=extra):
        model = from_tf1_checkpoint(checkpoint, allow_unused=True)
    assert isinstance(model, AlbertPretrainer)


@pytest.mark.parametrize("num_labels, task", [(3, "classification"), (1, "regression")])
def test_fine_tuned_classifier_checkpoint(num_labels, task, tmp_path):
    hf = reference_model("albert_tiny_grouped", "AlbertForSequenceClassification", num_labels=num_labels)
    checkpoint = write_checkpoint(tmp_path / "glue", gr_tensors(hf), hf.config)
    model = from_tf1_checkpoint(checkpoint)
    assert isinstance(model, AlbertClassifier) and model.num_classes == num_labels
    assert model.task_name == task  # GR's run_classifier writes one output for regression (STS-B)
    batch = make_batch(hf.config.vocab_size, seed=14)
    compare(f"TF1 {task}", run_albert(model, batch), hf_outputs(hf, batch), ("logits",))


def test_fine_tuned_squad_checkpoint(tmp_path):
    hf = reference_model("albert_tiny", "AlbertForQuestionAnswering")
    checkpoint = write_checkpoint(tmp_path / "squad", gr_tensors(hf, with_slots=False), hf.config)
    model = from_tf1_checkpoint(checkpoint)
    assert isinstance(model, AlbertSpanQA)
    batch = make_batch(hf.config.vocab_size, seed=15)
    compare("TF1 squad", run_albert(model, batch), hf_outputs(hf, batch),
            ("start_logits", "end_logits"))


SQUAD_V2_KEYS = ("start_top_log_probs", "start_top_index", "end_top_log_probs", "end_top_index", "cls_logits")


@pytest.mark.parametrize("encoder_prefix", ["", "module/"], ids=["ckpt", "hub_fine_tuned"])
def test_squad_v2_checkpoint_becomes_the_original_model(encoder_prefix, tmp_path, capsys):
    import albert_tf
    from albert_tf.cli import main

    hf = reference_model("albert_tiny", "AlbertForQuestionAnswering", seed=16)
    # Fine-tuned on a TF Hub module, the encoder sits under module/ and the head at the top.
    tensors = {k: v for k, v in gr_tensors(hf, prefix=encoder_prefix).items() if "cls/squad/" not in k}
    head = squad_v2_tensors(hf.config.hidden_size, seed=17)
    checkpoint = write_checkpoint(tmp_path / "squad2", {**tensors, **head}, hf.config)
    model = from_tf1_checkpoint(checkpoint)
    assert isinstance(model, AlbertSpanQAV2) and model.task_name == "span_qa"
    assert (model.start_n_top, model.end_n_top) == (5, 5)  # run_squad_v2's defaults

    # Every row keeps more than 5 answerable positions ([CLS] + context), so
    # no kept start or end sits on a masked (-1e30) position.
    batch = make_batch(hf.config.vocab_size, batch_size=2, seq_length=16, seed=18)
    sequence_output = hf_outputs(hf, batch)["sequence_output"]
    reference = squad_v2_reference(head, sequence_output, gr_p_mask(batch), 5, 5)
    ours = run_albert(model, batch)
    with capsys.disabled():  # show the max abs errors
        compare("TF1 squad v2", ours, reference, SQUAD_V2_KEYS)
    for key in ("start_top_index", "end_top_index"):
        np.testing.assert_array_equal(ours[key], reference[key])

    # The command converts it (no bare backbone), and the directory loads back.
    out = tmp_path / "converted"
    assert main(["convert", "--from", "tf1-checkpoint", str(checkpoint), "--output-dir", str(out)]) == 0
    assert "AlbertSpanQAV2" in capsys.readouterr().out
    loaded = albert_tf.load(out)
    assert isinstance(loaded, AlbertSpanQAV2)
    compare("TF1 squad v2 saved", run_albert(loaded, batch), ours, SQUAD_V2_KEYS)

    # Keeping only the encoder is an explicit choice; the head is named as dropped.
    with pytest.warns(UserWarning, match="dropping head tensors .*'answer_class/dense_0/bias'"):
        assert isinstance(from_tf1_checkpoint(checkpoint, task="backbone"), AlbertBackbone)

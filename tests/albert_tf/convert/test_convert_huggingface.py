"""Hugging Face -> albert_tf parity: in-memory torch models and save_pretrained dirs."""

import subprocess
import sys

import numpy as np
import pytest

from albert_tf import AlbertBackbone, AlbertPretrainer
from albert_tf.convert import ConversionError, from_huggingface
from tests.helpers.convert import (
    CONFIG_NAMES, FIVE_LAYERS_TWO_GROUPS, compare, hf_outputs, make_batch, make_hf_model, run_albert,
)

ENCODER_KEYS = ("sequence_output", "pooled_output", "encoder_outputs")


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("from_directory", [False, True], ids=["object", "directory"])
def test_pretraining_parity(config_name, from_directory, hf_pretraining_models, tmp_path):
    hf = hf_pretraining_models[config_name]
    src = hf
    if from_directory:
        hf.save_pretrained(tmp_path / "hf")
        src = tmp_path / "hf"
    model = from_huggingface(src)
    assert isinstance(model, AlbertPretrainer)
    batch = make_batch(hf.config.vocab_size)
    reference = hf_outputs(hf, batch)
    ours = run_albert(model, batch)
    ours.update(run_albert(model.backbone, batch))
    compare(f"HF {config_name} {'dir' if from_directory else 'object'}", ours, reference,
            ENCODER_KEYS + ("mlm_logits", "sop_logits"))


@pytest.mark.parametrize(
    "class_name, extra, expected_type, keys",
    [
        ("AlbertForSequenceClassification", {"num_labels": 3}, "AlbertClassifier", ("logits",)),
        ("AlbertForSequenceClassification", {"num_labels": 1}, "AlbertClassifier", ("logits",)),
        ("AlbertForTokenClassification", {"num_labels": 5}, "AlbertTokenClassifier", ("logits",)),
        ("AlbertForQuestionAnswering", {}, "AlbertSpanQA", ("start_logits", "end_logits")),
        ("AlbertModel", {}, "AlbertBackbone", ENCODER_KEYS),
    ],
    ids=["sequence3", "regression", "token5", "qa", "model"],
)
def test_task_heads_parity(class_name, extra, expected_type, keys, tmp_path):
    hf = make_hf_model("albert_tiny_grouped", class_name, seed=3, **extra)
    hf.save_pretrained(tmp_path / "hf")
    batch = make_batch(hf.config.vocab_size, seed=4)
    reference = hf_outputs(hf, batch)
    for src in (hf, tmp_path / "hf"):
        model = from_huggingface(src)
        assert type(model).__name__ == expected_type
        if expected_type == "AlbertClassifier":
            assert model.task_name == ("regression" if extra["num_labels"] == 1 else "classification")
        compare(f"HF {class_name}{extra}", run_albert(model, batch), reference, keys)


def test_multiple_choice_parity():
    import torch

    hf = make_hf_model("albert_tiny", "AlbertForMultipleChoice", seed=5)
    model = from_huggingface(hf)
    batch = make_batch(hf.config.vocab_size, batch_size=4, seed=6)
    # [B=2, C=2, T]
    inputs = {k: batch[k].reshape(2, 2, -1) for k in ("input_word_ids", "input_mask", "input_type_ids")}
    with torch.no_grad():
        reference = hf(
            input_ids=torch.tensor(inputs["input_word_ids"], dtype=torch.long),
            attention_mask=torch.tensor(inputs["input_mask"], dtype=torch.long),
            token_type_ids=torch.tensor(inputs["input_type_ids"], dtype=torch.long),
        ).logits.numpy()
    compare("HF AlbertForMultipleChoice", {"logits": model(inputs)}, {"logits": reference}, ("logits",))


def test_masked_lm_gets_zero_sop_head_and_backbone_task_drops_heads():
    hf = make_hf_model("albert_tiny", "AlbertForMaskedLM", seed=7)
    with pytest.warns(UserWarning, match="dropping head tensors"):
        backbone = from_huggingface(hf, task="backbone")
    assert isinstance(backbone, AlbertBackbone)
    pretrainer = from_huggingface(hf)
    assert isinstance(pretrainer, AlbertPretrainer)
    batch = make_batch(hf.config.vocab_size, seed=8)
    ours = run_albert(pretrainer, batch)
    reference_logits = hf(
        **{k: __import__("torch").tensor(batch[v], dtype=__import__("torch").long) for k, v in (
            ("input_ids", "input_word_ids"), ("attention_mask", "input_mask"),
            ("token_type_ids", "input_type_ids"))}
    ).logits.detach().numpy()
    reference = np.take_along_axis(reference_logits, batch["masked_lm_positions"][:, :, None], axis=1)
    compare("HF AlbertForMaskedLM", ours, {"mlm_logits": reference}, ("mlm_logits",))
    np.testing.assert_array_equal(ours["sop_logits"], 0.0)
    with pytest.raises(ConversionError, match="carries a 'pretraining' model, so it cannot be converted "
                                              "into task 'classification'"):
        from_huggingface(hf, task="classification")
    with pytest.warns(FutureWarning, match="'pretrainer' is deprecated; use 'pretraining'"):
        assert isinstance(from_huggingface(hf, task="pretrainer"), AlbertPretrainer)


def test_directory_conversion_does_not_import_torch(tmp_path):
    hf = make_hf_model("albert_tiny", "AlbertModel", seed=9)
    hf.save_pretrained(tmp_path / "hf")
    script = (
        "import sys\n"
        "from albert_tf.convert import from_huggingface\n"
        f"m = from_huggingface({str(tmp_path / 'hf')!r})\n"
        "print(type(m).__name__, 'torch' in sys.modules or 'transformers' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "AlbertBackbone False"


def test_groups_that_do_not_divide_the_layers_parity(tmp_path):
    hf = make_hf_model(FIVE_LAYERS_TWO_GROUPS, "AlbertModel", seed=5)
    hf.save_pretrained(tmp_path / "hf")
    batch = make_batch(hf.config.vocab_size, seed=6)
    reference = hf_outputs(hf, batch)
    for src in (hf, tmp_path / "hf"):
        backbone = from_huggingface(src)
        assert backbone.config.num_hidden_layers == 5 and backbone.config.num_hidden_groups == 2
        compare("HF 5 layers in 2 groups", run_albert(backbone, batch), reference, ENCODER_KEYS)


def test_group_rules_that_differ_from_the_original_are_refused():
    from albert_tf.convert.huggingface import check_group_rule

    # transformers' int(l / (L / G)) puts layer 9 of 18 in group 6, the original in 7.
    config = FIVE_LAYERS_TWO_GROUPS.replace(num_hidden_layers=18, num_hidden_groups=14)
    with pytest.raises(ConversionError, match=r"\(layer, transformers group, original group\) \[\(9, 6, 7\)"):
        check_group_rule(config, "<test>")
    check_group_rule(FIVE_LAYERS_TWO_GROUPS, "<test>")  # 0, 0, 0, 1, 1 in both



def test_tensors_no_albert_tf_model_holds_are_refused_unless_allowed():
    import torch

    hf = make_hf_model("albert_tiny", "AlbertForQuestionAnswering", seed=7)
    # Under a head prefix, but no albert_tf head holds it: not a droppable head.
    hf.register_buffer("qa_outputs_extra", torch.zeros(3))
    hf.qa_outputs.register_buffer("scale", torch.ones(1))
    with pytest.raises(ConversionError, match=r"no albert_tf model holds: \['qa_outputs.scale', 'qa_outputs_extra'\]"):
        from_huggingface(hf)
    with pytest.warns(UserWarning, match="qa_outputs.scale"):
        model = from_huggingface(hf, allow_unused=True)
    assert model.task_name == "span_qa"
    # Heads another albert_tf model holds are dropped (with a warning) only
    # when the task asks for less than the source carries.
    with pytest.warns(UserWarning) as caught:
        from_huggingface(hf, task="backbone", allow_unused=True)
    messages = [str(w.message) for w in caught]
    assert any("dropping head tensors that task 'backbone' does not use: ['qa_outputs.bias', "
               "'qa_outputs.weight']" in m for m in messages), messages

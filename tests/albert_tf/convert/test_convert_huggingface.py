"""Hugging Face -> albert_tf parity: in-memory torch models and save_pretrained dirs."""

import pytest

from albert_tf import AlbertPretrainer
from albert_tf.convert import from_huggingface

CONFIG_NAMES = ("albert_tiny", "albert_tiny_grouped", "albert_tiny_unfactorized")
ENCODER_KEYS = ("sequence_output", "pooled_output", "encoder_outputs")


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("from_directory", [False, True], ids=["object", "directory"])
def test_pretraining_parity(config_name, from_directory, hf_pretraining_models, parity, tmp_path):
    hf = hf_pretraining_models[config_name]
    src = hf
    if from_directory:
        hf.save_pretrained(tmp_path / "hf")
        src = tmp_path / "hf"
    model = from_huggingface(src)
    assert isinstance(model, AlbertPretrainer)
    batch = parity.make_batch(hf.config.vocab_size)
    reference = parity.hf_outputs(hf, batch)
    ours = parity.run_albert(model, batch)
    ours.update(parity.run_albert(model.backbone, batch))
    parity.compare(f"HF {config_name} {'dir' if from_directory else 'object'}", ours, reference,
                   ENCODER_KEYS + ("mlm_logits", "sop_logits"))

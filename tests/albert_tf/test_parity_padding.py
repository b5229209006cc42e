"""Padding invariance: extra padding must not move outputs at real positions.

GR/HF add -10000 to masked attention logits; exp(-10000) is 0 in float32,
so a row's real positions see exactly the same keys however much padding
follows (transformers#3150 is the bug this guards against).
"""

import numpy as np
import pytest

from albert_tf import AlbertBackbone, AlbertPretrainer, PRESETS

CONFIG_NAMES = ("albert_tiny", "albert_tiny_grouped", "albert_tiny_unfactorized")
TOLERANCE = 1e-6


def batch_with_padding(vocab_size, lengths, seq_length, seed=0):
    rng = np.random.default_rng(seed)
    ids = np.zeros((len(lengths), seq_length), "int32")
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(5, vocab_size, size=length)
        ids[row, 0], ids[row, length - 1] = 2, 3
        mask[row, :length] = 1
        types[row, length // 2 : length] = 1
    return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": types}


def padded(batch, extra, pad_id=0):
    """The same rows with `extra` more padding columns (ids, mask and type ids 0)."""
    return {k: np.pad(v, ((0, 0), (0, extra)), constant_values=pad_id) for k, v in batch.items()}


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
def test_padding_does_not_change_real_positions(config_name):
    config = PRESETS[config_name]
    pretrainer = AlbertPretrainer(AlbertBackbone(config))
    # Redraw LayerNorm/bias weights so the check is not eased by zeros.
    rng = np.random.default_rng(1)
    for weight in pretrainer.weights:
        weight.assign(0.05 * rng.standard_normal(weight.shape).astype("float32")
                      + (1.0 if weight.path.endswith("gamma") else 0.0))
    lengths = (12, 9, 5)
    batch = batch_with_padding(config.vocab_size, lengths, seq_length=12)
    positions = np.array([[1, 4], [2, 7], [1, 3]], "int32")
    errors = {}
    base = pretrainer.backbone(batch)
    base_heads = pretrainer({**batch, "masked_lm_positions": positions})
    for extra in (1, 20):
        more = padded(batch, extra)
        out = pretrainer.backbone(more)
        heads = pretrainer({**more, "masked_lm_positions": positions})
        for row, length in enumerate(lengths):
            a = np.asarray(base["sequence_output"])[row, :length]
            b = np.asarray(out["sequence_output"])[row, :length]
            errors[f"+{extra} sequence row {row}"] = float(np.max(np.abs(a - b)))
            for layer, (x, y) in enumerate(zip(base["encoder_outputs"], out["encoder_outputs"])):
                errors[f"+{extra} layer {layer} row {row}"] = float(
                    np.max(np.abs(np.asarray(x)[row, :length] - np.asarray(y)[row, :length])))
        errors[f"+{extra} pooled"] = float(np.max(np.abs(np.asarray(base["pooled_output"]) - np.asarray(out["pooled_output"]))))
        errors[f"+{extra} mlm"] = float(np.max(np.abs(np.asarray(base_heads["mlm_logits"]) - np.asarray(heads["mlm_logits"]))))
        errors[f"+{extra} sop"] = float(np.max(np.abs(np.asarray(base_heads["sop_logits"]) - np.asarray(heads["sop_logits"]))))
    worst = max(errors, key=errors.get)
    print(f"\n{config_name}: max abs change from padding {errors[worst]:.2e} ({worst})")
    assert errors[worst] <= TOLERANCE, {k: v for k, v in errors.items() if v > TOLERANCE}


def test_padding_is_visible_without_mask():
    """The check above can fail: attending to padding (mask all ones) does move outputs."""
    config = PRESETS["albert_tiny"]
    backbone = AlbertBackbone(config)
    batch = batch_with_padding(config.vocab_size, (5,), seq_length=5)
    more = padded(batch, 4)
    more["input_mask"][:] = 1
    a = np.asarray(backbone(batch)["sequence_output"])[0]
    b = np.asarray(backbone(more)["sequence_output"])[0, :5]
    assert np.max(np.abs(a - b)) > 1e-3

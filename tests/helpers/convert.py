"""Converter test helpers: random transformers references, batches, the 1e-5 comparison.

The reference is a randomly initialized transformers ALBERT (torch, float32,
tanh GELU, eval mode, dropout 0) whose every parameter, LayerNorm gammas and
all biases included, is redrawn so that a swapped or missing tensor in a name
map shows up in the outputs.
"""

import numpy as np

from albert_tf import PRESETS

# The three shapes every converter must handle: full sharing, 2 groups x 2
# inner layers, and E == H.
CONFIG_NAMES = ("albert_tiny", "albert_tiny_grouped", "albert_tiny_unfactorized")
TOLERANCE = 1e-5


def hf_config(config, **extra):
    import transformers

    return transformers.AlbertConfig(
        vocab_size=config.vocab_size,
        embedding_size=config.embedding_size,
        hidden_size=config.hidden_size,
        num_hidden_layers=config.num_hidden_layers,
        num_hidden_groups=config.num_hidden_groups,
        inner_group_num=config.inner_group_num,
        num_attention_heads=config.num_attention_heads,
        intermediate_size=config.intermediate_size,
        hidden_act="gelu_new",
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        classifier_dropout_prob=0.0,
        max_position_embeddings=config.max_position_embeddings,
        type_vocab_size=config.type_vocab_size,
        layer_norm_eps=config.layer_norm_eps,
        **extra,
    )


def make_hf_model(config_name, class_name="AlbertForPreTraining", seed=0, **extra):
    """A random transformers ALBERT of preset `config_name`'s shape, eval mode."""
    import torch
    import transformers

    torch.manual_seed(seed)
    model = getattr(transformers, class_name)(hf_config(PRESETS[config_name], **extra))
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        # named_parameters() lists tied tensors once, so ties survive.
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if "LayerNorm" in name or "layer_norm" in name:
                parameter.copy_(1.0 + 0.1 * noise if name.endswith("weight") else 0.1 * noise)
            else:
                parameter.copy_(0.05 * noise)
    return model.eval()


def make_batch(vocab_size, batch_size=3, seq_length=11, seed=0):
    """Packed-like int32 inputs with padding: rows of different lengths, type ids 0/1."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, vocab_size, size=(batch_size, seq_length)).astype("int32")
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row in range(batch_size):
        length = max(4, seq_length - 3 * row)
        mask[row, :length] = 1
        types[row, length // 2 : length] = 1
        ids[row, length - 1] = 3
    ids[:, 0] = 2
    ids = np.where(mask == 1, ids, 0).astype("int32")
    positions = np.stack([rng.choice(np.arange(1, 4), size=2, replace=False) for _ in range(batch_size)])
    return {
        "input_word_ids": ids,
        "input_mask": mask,
        "input_type_ids": types,
        "masked_lm_positions": positions.astype("int32"),
    }


def hf_outputs(model, batch):
    """Reference outputs of a transformers ALBERT task model, as numpy."""
    import torch

    kwargs = {
        "input_ids": torch.tensor(batch["input_word_ids"], dtype=torch.long),
        "attention_mask": torch.tensor(batch["input_mask"], dtype=torch.long),
        "token_type_ids": torch.tensor(batch["input_type_ids"], dtype=torch.long),
    }
    with torch.no_grad():
        base = model.albert if hasattr(model, "albert") else model
        encoded = base(**kwargs, output_hidden_states=True)
        out = {
            "sequence_output": encoded.last_hidden_state.numpy(),
            # One state per inner layer application in HF, GR and albert_tf.
            "encoder_outputs": [h.numpy() for h in encoded.hidden_states[1:]],
        }
        if encoded.pooler_output is not None:  # token classification / QA have none
            out["pooled_output"] = encoded.pooler_output.numpy()
        if base is not model:
            result = model(**kwargs)
            if hasattr(result, "prediction_logits"):
                logits = result.prediction_logits.numpy()
                positions = batch["masked_lm_positions"]
                out["mlm_logits"] = np.take_along_axis(logits, positions[:, :, None], axis=1)
                out["sop_logits"] = result.sop_logits.numpy()
            elif hasattr(result, "start_logits"):
                out["start_logits"] = result.start_logits.numpy()
                out["end_logits"] = result.end_logits.numpy()
            else:
                out["logits"] = result.logits.numpy()
    return out


def max_abs(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)))


def compare(name, ours, reference, keys):
    """Asserts every output within TOLERANCE; prints the max abs errors."""
    errors = {}
    for key in keys:
        if key == "encoder_outputs":
            assert len(ours[key]) == len(reference[key])
            for i, (a, b) in enumerate(zip(ours[key], reference[key])):
                errors[f"encoder_outputs[{i}]"] = max_abs(a, b)
        else:
            errors[key] = max_abs(ours[key], reference[key])
    print(f"\n{name}: " + ", ".join(f"{k} {v:.2e}" for k, v in errors.items()))
    bad = {k: v for k, v in errors.items() if not v <= TOLERANCE}
    assert not bad, f"{name}: max abs errors above {TOLERANCE}: {bad}"
    return errors


def backbone_inputs(batch):
    return {k: batch[k] for k in ("input_word_ids", "input_mask", "input_type_ids")}


def run_albert(model, batch):
    """Our model's outputs as numpy (dict, or {'logits': array})."""
    inputs = dict(batch) if "masked_lm_positions" in model.input else backbone_inputs(batch)
    out = model(inputs, training=False)
    if not isinstance(out, dict):
        return {"logits": np.asarray(out)}
    return {
        k: ([np.asarray(x) for x in v] if isinstance(v, (list, tuple)) else np.asarray(v))
        for k, v in out.items()
    }

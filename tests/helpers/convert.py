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


# The original accepts groups that do not divide the layers: 5 layers in 2
# groups run groups 0, 0, 0, 1, 1 (keras-hub cannot represent it).
FIVE_LAYERS_TWO_GROUPS = PRESETS["albert_tiny"].replace(num_hidden_layers=5, num_hidden_groups=2)


def make_hf_model(config_name, class_name="AlbertForPreTraining", seed=0, **extra):
    """A random transformers ALBERT of preset `config_name`'s shape (or of an `AlbertConfig`), eval mode."""
    import torch
    import transformers

    config = PRESETS[config_name] if isinstance(config_name, str) else config_name
    torch.manual_seed(seed)
    model = getattr(transformers, class_name)(hf_config(config, **extra))
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


def squad_v2_tensors(hidden_size, seed=0):
    """Random run_squad_v2 head tensors under the original's names and shapes.

    LayerNorm gamma near 1, every bias non-zero, so that a swapped or
    missing tensor shows in the outputs.
    """
    rng = np.random.default_rng(seed)
    h = hidden_size
    shapes = {
        "start_logits/dense/kernel": (h, 1), "start_logits/dense/bias": (1,),
        "end_logits/dense_0/kernel": (2 * h, h), "end_logits/dense_0/bias": (h,),
        "end_logits/LayerNorm/gamma": (h,), "end_logits/LayerNorm/beta": (h,),
        "end_logits/dense_1/kernel": (h, 1), "end_logits/dense_1/bias": (1,),
        "answer_class/dense_0/kernel": (2 * h, h), "answer_class/dense_0/bias": (h,),
        "answer_class/dense_1/kernel": (h, 1),
    }
    tensors = {name: (0.3 * rng.standard_normal(shape)).astype(np.float32) for name, shape in shapes.items()}
    tensors["end_logits/LayerNorm/gamma"] += 1.0
    return tensors


def gr_p_mask(batch):
    """run_squad_v2's p_mask for `make_batch` rows: [CLS] + segment 1 before its closing [SEP] are 0."""
    p_mask = np.ones(batch["input_mask"].shape, np.float64)
    for row, (mask, types) in enumerate(zip(batch["input_mask"], batch["input_type_ids"])):
        length = int(mask.sum())
        p_mask[row, 0] = 0.0
        context = [t for t in range(length - 1) if types[t] == 1]
        p_mask[row, context] = 0.0
    return p_mask


def squad_v2_reference(tensors, sequence_output, p_mask, start_n_top, end_n_top):
    """NumPy (float64) port of the original `squad_utils.create_v2_model`, is_training=False.

    Follows its steps and layout literally ([T, B, H] transposes, one-hot
    einsums, tiles), reading the head's weights by their checkpoint names.
    """
    w = {k: v.astype(np.float64) for k, v in tensors.items()}
    output = np.transpose(np.asarray(sequence_output, np.float64), (1, 0, 2))  # [T, B, H]
    seq_length = output.shape[0]

    def log_softmax(x):
        shifted = x - x.max(-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))

    def top_k(x, k):  # ties: lower index first, as tf.nn.top_k
        index = np.argsort(-x, axis=-1, kind="stable")[..., :k]
        return np.take_along_axis(x, index, -1), index

    def one_hot(index):
        return (index[..., None] == np.arange(seq_length)).astype(np.float64)

    start_logits = (output @ w["start_logits/dense/kernel"] + w["start_logits/dense/bias"])[..., 0].T
    start_masked = start_logits * (1 - p_mask) - 1e30 * p_mask
    start_log_probs = log_softmax(start_masked)
    start_top_log_probs, start_top_index = top_k(start_log_probs, start_n_top)
    start_features = np.einsum("lbh,bkl->bkh", output, one_hot(start_top_index))
    end_input = np.tile(output[:, :, None], [1, 1, start_n_top, 1])
    start_features = np.tile(start_features[None], [seq_length, 1, 1, 1])
    end_input = np.concatenate([end_input, start_features], axis=-1)
    end = np.tanh(end_input @ w["end_logits/dense_0/kernel"] + w["end_logits/dense_0/bias"])
    mean = end.mean(-1, keepdims=True)
    variance = ((end - mean) ** 2).mean(-1, keepdims=True)
    end = (end - mean) / np.sqrt(variance + 1e-12) * w["end_logits/LayerNorm/gamma"] + w["end_logits/LayerNorm/beta"]
    end = end @ w["end_logits/dense_1/kernel"] + w["end_logits/dense_1/bias"]
    end = np.transpose(end.reshape(seq_length, -1, start_n_top), (1, 2, 0))  # [B, K, T]
    end_masked = end * (1 - p_mask[:, None]) - 1e30 * p_mask[:, None]
    end_top_log_probs, end_top_index = top_k(log_softmax(end_masked), end_n_top)

    cls_feature = np.einsum("lbh,bl->bh", output, one_hot(np.zeros(output.shape[1], int)))
    start_p = np.exp(log_softmax(start_masked))
    start_feature = np.einsum("lbh,bl->bh", output, start_p)
    answer = np.tanh(np.concatenate([start_feature, cls_feature], -1) @ w["answer_class/dense_0/kernel"]
                     + w["answer_class/dense_0/bias"])
    beam = start_n_top * end_n_top
    return {
        "start_top_log_probs": start_top_log_probs,
        "start_top_index": start_top_index,
        "end_top_log_probs": end_top_log_probs.reshape(-1, beam),
        "end_top_index": end_top_index.reshape(-1, beam),
        "cls_logits": (answer @ w["answer_class/dense_1/kernel"])[:, 0],
    }

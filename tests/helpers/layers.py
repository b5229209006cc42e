"""For the layer tests: NumPy references of the ALBERT layers' math (float64, written
out from the original code) and the get_config / from_config round trip.

Shapes: B batch, T sequence, E embedding width, H hidden, N heads,
D = H / N head size, V vocabulary, P predicted positions.
"""

import math

import keras
import numpy as np

# google-research/albert `modeling.py`: masked attention logits get -10000.
MASK_ADDER = -10000.0

ACTIVATIONS = {
    "gelu_new": lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))),
    "gelu_exact": lambda x: 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0))),
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "swish": lambda x: x / (1.0 + np.exp(-x)),
}


def weights_of(layer):
    """{weight path relative to `layer`: float64 array}."""
    prefix = layer.path + "/"
    return {w.path.removeprefix(prefix): np.asarray(w, dtype="float64") for w in layer.weights}


def redraw_weights(layer, seed=0, scale=0.3):
    """Replaces every weight with N(0, scale) (gammas N(1, scale)): larger than the 0.02 init,
    so that each term of the layer's math shows in its output."""
    rng = np.random.default_rng(seed)
    for weight in layer.weights:
        offset = 1.0 if weight.path.endswith("gamma") else 0.0
        weight.assign((offset + scale * rng.standard_normal(weight.shape)).astype("float32"))


def layer_norm(x, gamma, beta, epsilon):
    """LayerNorm over the last axis."""
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def embeddings(w, word_ids, type_ids, epsilon):
    """AlbertEmbeddings: LayerNorm(word[ids] + type[types] + position[:T]) -> [B, T, E]."""
    seq_length = word_ids.shape[1]
    x = (w["word_embeddings/embeddings"][word_ids] + w["token_type_embeddings/embeddings"][type_ids]
         + w["position_embeddings"][None, :seq_length])
    return layer_norm(x, w["layer_norm/gamma"], w["layer_norm/beta"], epsilon)


def transformer_layer(w, x, padding_mask, num_heads, activation, epsilon):
    """AlbertTransformerLayer (post-LN BERT layer) on x [B, T, H] with padding_mask [B, T]."""
    batch, seq_length, hidden = x.shape
    head_size = hidden // num_heads

    def heads(name):  # [B, T, H] @ [H, N, D] -> [B, T, N, D]
        return np.einsum("bth,hnd->btnd", x, w[f"{name}/kernel"]) + w[f"{name}/bias"]

    query, key, value = heads("query") / math.sqrt(head_size), heads("key"), heads("value")
    scores = np.einsum("bqnd,bknd->bnqk", query, key)
    scores = scores + (1.0 - padding_mask[:, None, None, :]) * MASK_ADDER
    context = np.einsum("bnqk,bknd->bqnd", softmax(scores), value)
    attention = np.einsum("bqnd,ndh->bqh", context, w["attention_output/kernel"]) + w["attention_output/bias"]
    x = layer_norm(x + attention, w["attention_layer_norm/gamma"], w["attention_layer_norm/beta"], epsilon)
    ffn = ACTIVATIONS[activation](x @ w["ffn/kernel"] + w["ffn/bias"]) @ w["ffn_output/kernel"] + w["ffn_output/bias"]
    return layer_norm(x + ffn, w["output_layer_norm/gamma"], w["output_layer_norm/beta"], epsilon)


def masked_lm_head(w, word_embeddings, sequence_output, masked_positions, activation, epsilon):
    """AlbertMaskedLMHead: LayerNorm(act(x[positions] W + b)) @ word_embeddings^T + bias -> [B, P, V]."""
    gathered = np.take_along_axis(sequence_output, masked_positions[:, :, None], axis=1)
    x = ACTIVATIONS[activation](gathered @ w["dense/kernel"] + w["dense/bias"])
    x = layer_norm(x, w["layer_norm/gamma"], w["layer_norm/beta"], epsilon)
    return x @ word_embeddings.T + w["output_bias"]


def check_config_round_trip(layer, *call_args, rebuild=None):
    """`from_config(get_config())` rebuilds `layer`: the same config and, given its weights, the same outputs.

    `rebuild` (config -> layer) replaces `type(layer).from_config` for layers
    whose config leaves out an object the owner passes in (a tied embedding).
    """
    config = layer.get_config()
    clone = (rebuild or type(layer).from_config)(config)
    assert clone.get_config() == config
    clone(*call_args)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone(*call_args)),
                                  keras.ops.convert_to_numpy(layer(*call_args)))

"""Model shapes for the benchmarks, taken from albert_tf's preset table (one
place), the FLOP counts that turn a throughput into a share of the machine,
and the CPU flags every report prints (ratios differ between AVX2, AVX-512
and AMX machines)."""

import os
import shutil
import tempfile
import time

from albert_tf.config import AlbertConfig

# The flags that decide which matmul kernels TensorFlow and torch can use.
VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni",
                "amx_tile", "amx_bf16", "amx_int8")


def cpu_flags():
    """The vector instruction flags of this CPU (from /proc/cpuinfo; [] where it is absent)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            line = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return []
    present = set(line.partition(":")[2].split())
    return [flag for flag in VECTOR_FLAGS if flag in present]

PRESET_OF_SIZE = {"tiny": "albert_tiny", "base": "albert_base_v2"}


def config_of(size):
    """The `AlbertConfig` a benchmark size name ("tiny" or "base") stands for."""
    return AlbertConfig.from_preset(PRESET_OF_SIZE[size])


def keras_hub_backbone(config, dtype=None):
    """keras-hub's `AlbertBackbone` with the same shape as `config` (random weights)."""
    import keras_hub

    return keras_hub.models.AlbertBackbone(
        dtype=dtype,
        vocabulary_size=config.vocab_size, num_layers=config.num_hidden_layers,
        num_heads=config.num_attention_heads, embedding_dim=config.embedding_size,
        hidden_dim=config.hidden_size, intermediate_dim=config.intermediate_size,
        num_groups=config.num_hidden_groups, num_inner_repetitions=config.inner_group_num,
        dropout=config.hidden_dropout_prob, max_sequence_length=config.max_position_embeddings,
    )


def transformers_config(config, **overrides):
    """transformers' `AlbertConfig` with the same shape as `config` (same field names)."""
    import transformers

    fields = {k: v for k, v in config.to_dict().items() if k != "always_project_embeddings"}
    return transformers.AlbertConfig(**fields, **overrides)


def encoder_flops(config, batch_size, length):
    """Matmul FLOPs of one encoder forward pass over [batch_size, length] tokens.

    Per sequence of length T: embedding projection 2*T*E*H; per layer
    application 2*T*(4*H*H + 2*H*I) + 4*T*T*H (attention scores and the
    weighted sum). Heads (MLM, pooler, classifier) are left out.
    """
    c = config
    layer = 2 * length * (4 * c.hidden_size ** 2 + 2 * c.hidden_size * c.intermediate_size)
    layer += 4 * length * length * c.hidden_size
    return batch_size * (2 * length * c.embedding_size * c.hidden_size + c.num_hidden_layers * layer)


def matmul_flops_per_second(n=2048, repeats=10):
    """FLOP/s of a float32 [n, n] @ [n, n] on this machine: the better of XLA and oneDNN."""
    import tensorflow as tf

    a = tf.random.normal([n, n])
    best = 0.0
    for jit_compile in (True, False):
        matmul = tf.function(lambda m: tf.matmul(m, m), jit_compile=jit_compile)
        matmul(a).numpy()
        start = time.perf_counter()
        for _ in range(repeats):
            result = matmul(a)
        result.numpy()
        best = max(best, 2 * n ** 3 * repeats / (time.perf_counter() - start))
    return best


def transformers_tokenizer(tokenizer_class, vocabulary, file_name):
    """A transformers tokenizer read from one vocabulary file.

    `from_pretrained` wants a directory: the file is copied into a temporary
    one under the name the class expects ("spiece.model", "vocab.txt").
    """
    with tempfile.TemporaryDirectory() as directory:
        shutil.copy(vocabulary, os.path.join(directory, file_name))
        return tokenizer_class.from_pretrained(directory)


def albert_transformers_tokenizer():
    """transformers' (fast) `AlbertTokenizer` on the shipped albert-30k-clean.model."""
    import transformers

    from albert_tf import resources

    return transformers_tokenizer(transformers.AlbertTokenizer, resources.path("albert-30k-clean.model"),
                                  "spiece.model")

"""The Chinese presets against the released configs and their parameter counts."""

import dataclasses

from albert_tf import PRESETS, AlbertBackbone

# Parameter counts of the released models (backbone with pooler): Google's
# albert_{base,large,xlarge,xxlarge}_zh are the English shapes with the
# 21,128-token vocabulary, 8,872 x 128 = 1,135,616 embedding parameters
# fewer; CLUE's tiny/small computed from their config.json by hand
# (embeddings 2,770,432 + projection + layer + pooler).
EXPECTED = {
    "albert_tiny_zh": 4_080_520,
    "albert_small_zh": 4_742_272,
    "albert_base_zh": 11_683_584 - 1_135_616,
    "albert_large_zh": 17_683_968 - 1_135_616,
    "albert_xlarge_zh": 58_724_864 - 1_135_616,
}


def test_chinese_preset_parameter_counts_match_the_releases():
    for name, count in EXPECTED.items():
        assert AlbertBackbone.from_preset(name).count_params() == count, name


def test_google_zh_presets_equal_the_released_albert_config_json():
    for size in ("base", "large", "xlarge", "xxlarge"):
        zh = PRESETS[f"albert_{size}_zh"]
        assert (zh.vocab_size, zh.hidden_act, zh.embedding_size) == (21128, "relu", 128), size
        assert zh.hidden_dropout_prob == zh.attention_probs_dropout_prob == 0.0, size
    assert PRESETS["albert_xlarge_zh"].initializer_range == 0.014
    xxlarge = PRESETS["albert_xxlarge_zh"]
    assert (xxlarge.num_attention_heads, xxlarge.initializer_range) == (16, 0.01)
    # xxlarge is not built here (220 M parameters); heads do not change the
    # count, so equal shapes to the English release give 222,595,584 - 1,135,616.
    english = dataclasses.asdict(PRESETS["albert_xxlarge_v2"])
    differing = {k for k, v in dataclasses.asdict(xxlarge).items() if english[k] != v}
    assert differing == {"vocab_size", "hidden_act", "num_attention_heads", "initializer_range"}


def test_community_tiny_and_small_zh_presets_equal_their_config_json():
    tiny, small = PRESETS["albert_tiny_zh"], PRESETS["albert_small_zh"]
    assert (tiny.hidden_size, tiny.num_hidden_layers, tiny.intermediate_size) == (312, 4, 1248)
    assert (small.hidden_size, small.num_hidden_layers, small.intermediate_size) == (384, 6, 1536)
    for config in (tiny, small):
        assert (config.vocab_size, config.embedding_size, config.num_attention_heads) == (21128, 128, 12)
        # Their config.json says "gelu", which Hugging Face runs as erf GELU.
        assert config.hidden_act == "gelu_exact"

import pytest

from albert_tf import PRESETS, AlbertBackbone, AlbertConfig


def test_published_preset_parameter_counts_match_reference():
    expected = {
        "albert_base_v2": 11_683_584,
        "albert_large_v2": 17_683_968,
        "albert_xlarge_v2": 58_724_864,
        "albert_xxlarge_v2": 222_595_584,
    }
    for name, count in expected.items():
        assert AlbertBackbone.from_preset(name).count_params() == count, name
        v1 = name.replace("_v2", "_v1")
        assert AlbertBackbone.from_preset(v1).count_params() == count, v1


def test_v1_has_dropout_and_v2_does_not():
    assert PRESETS["albert_base_v1"].hidden_dropout_prob == 0.1
    assert PRESETS["albert_base_v1"].attention_probs_dropout_prob == 0.1
    assert PRESETS["albert_base_v2"].hidden_dropout_prob == 0.0
    assert PRESETS["albert_xxlarge_v2"].num_attention_heads == 64


def test_unknown_preset_lists_known_names():
    with pytest.raises(ValueError, match="albert_base_v2") as info:
        AlbertConfig.from_preset("albert_huge")
    assert "albert_huge" in str(info.value)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"hidden_size": 100, "num_attention_heads": 12}, "hidden_size=100 is not divisible by num_attention_heads=12"),
        ({"hidden_act": "gelu_fast"}, "Unknown hidden_act 'gelu_fast'"),
        ({"vocab_size": 0}, "vocab_size must be a positive int"),
        ({"hidden_dropout_prob": 1.5}, "hidden_dropout_prob must be in"),
    ],
)
def test_invalid_config_names_the_values(changes, message):
    with pytest.raises(ValueError, match=message):
        AlbertConfig(**changes)


def test_group_index_rule_matches_original_formula():
    # G need not divide L; (22, 22) is where the original's float rounding
    # sends layer 15 to group 14, so group 15 is never created.
    for layers, groups in [(12, 1), (12, 2), (12, 3), (24, 4), (6, 6), (5, 2), (12, 5), (3, 4), (22, 22)]:
        config = AlbertConfig(num_hidden_layers=layers, num_hidden_groups=groups)
        original = [int(l / layers * groups) for l in range(layers)]
        assert [config.group_of_layer(l) for l in range(layers)] == original
        assert config.used_groups == tuple(sorted(set(original)))
    assert AlbertConfig(num_hidden_layers=5, num_hidden_groups=2).used_groups == (0, 1)
    assert 15 not in AlbertConfig(num_hidden_layers=22, num_hidden_groups=22).used_groups


def test_from_dict_reads_original_and_huggingface_configs():
    original = {"hidden_act": "gelu", "hidden_size": 64, "num_attention_heads": 4, "embedding_size": 32}
    assert AlbertConfig.from_dict(original).hidden_act == "gelu_new"
    huggingface = dict(original, model_type="albert")
    assert AlbertConfig.from_dict(huggingface).hidden_act == "gelu_exact"
    assert AlbertConfig.from_dict({"hidden_act": "gelu_new"}).hidden_act == "gelu_new"
    roundtrip = AlbertConfig.from_dict(PRESETS["albert_tiny"].to_dict())
    assert roundtrip == PRESETS["albert_tiny"]

"""AlbertBackbone through the shared harness, plus its parameter-sharing rules."""

import keras
import numpy as np

from albert_tf import AlbertBackbone, AlbertConfig, PRESETS
from tests.helpers.models import TINY_CONFIG, random_batch, run_model_test

# 2 layer applications, each running a group of 2 inner layers: 4 encoder outputs.
GROUPED = TINY_CONFIG.replace(num_hidden_groups=2, inner_group_num=2)


def test_backbone_harness(tmp_path):
    def factory(dropout):
        return AlbertBackbone(
            GROUPED.replace(hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout),
            name="my_albert",
        )

    batch, length, hidden = 4, 8, GROUPED.hidden_size
    inputs = random_batch(GROUPED, batch_size=batch, seq_length=length)
    targets = {"pooled_output": np.random.default_rng(0).uniform(-1, 1, (batch, hidden)).astype("float32")}
    run_model_test(
        factory, inputs, targets, {"pooled_output": "mse"},
        {
            "sequence_output": (batch, length, hidden),
            "pooled_output": (batch, hidden),
            "encoder_outputs": [(batch, length, hidden)] * 4,
        },
        tmp_path,
        float32_outputs=False,
    )


def test_outputs_have_documented_shapes_for_every_layer_application():
    config = PRESETS["albert_tiny_grouped"]
    backbone = AlbertBackbone(config)
    out = backbone(random_batch(config, batch_size=2, seq_length=7))
    assert tuple(out["sequence_output"].shape) == (2, 7, config.hidden_size)
    assert tuple(out["pooled_output"].shape) == (2, config.hidden_size)
    # One per transformer layer application, as the original's all_layer_outputs.
    assert len(out["encoder_outputs"]) == config.num_hidden_layers * config.inner_group_num
    np.testing.assert_array_equal(out["encoder_outputs"][-1], out["sequence_output"])


def test_groups_hold_the_only_transformer_weights():
    config = PRESETS["albert_tiny_grouped"]  # 4 layers, 2 groups x 2 inner
    backbone = AlbertBackbone(config)
    names = sorted({w.path.split("/")[0] for w in backbone.weights})
    assert names == [
        "embedding_projection", "embeddings",
        "group_0_inner_0", "group_0_inner_1", "group_1_inner_0", "group_1_inner_1",
        "pooler",
    ]
    # Sharing: the same parameter count as one layer per (group, inner) slot,
    # whatever the number of layer applications.
    deeper = AlbertBackbone(config.replace(num_hidden_layers=8))
    assert deeper.count_params() == backbone.count_params()


def _scale_group_1(config):
    """(backbone, batch, encoder outputs before, after) scaling group 1's FFN output by 3."""
    backbone = AlbertBackbone(config)
    batch = random_batch(config)
    before = backbone(batch)["encoder_outputs"]
    group_1 = backbone.groups[1][0]
    group_1.ffn_output.kernel.assign(group_1.ffn_output.kernel * 3.0)
    return backbone, batch, before, backbone(batch)["encoder_outputs"]


def test_group_rule_runs_groups_in_original_order():
    # With 2 groups of 1 layer and 4 applications, layers 0,1 use group 0 and
    # 2,3 group 1: scaling group 1's FFN output changes only the last two.
    _, _, before, after = _scale_group_1(PRESETS["albert_tiny"].replace(num_hidden_groups=2))
    for layer in (0, 1):
        np.testing.assert_array_equal(before[layer], after[layer])
    for layer in (2, 3):
        assert np.abs(np.array(before[layer]) - np.array(after[layer])).max() > 1e-3


def test_embedding_projection_follows_original_rule_and_option():
    config = PRESETS["albert_tiny_unfactorized"]
    assert AlbertBackbone(config).embedding_projection is None
    projected = AlbertBackbone(config.replace(always_project_embeddings=True))
    assert projected.embedding_projection is not None
    assert AlbertBackbone(PRESETS["albert_tiny"]).embedding_projection is not None


def test_gelu_is_the_tanh_form():
    layer = AlbertBackbone(PRESETS["albert_tiny"]).groups[0][0]
    x = np.linspace(-4, 4, 101).astype("float32")
    expected = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(layer.ffn.activation(x), expected, atol=1e-6)


def test_sequence_lengths_up_to_the_position_table():
    config = PRESETS["albert_tiny"]
    backbone = AlbertBackbone(config)
    for length in (4, 17):
        out = backbone(random_batch(config, seq_length=length))
        assert out["sequence_output"].shape[1] == length


def test_dict_config_is_accepted():
    backbone = AlbertBackbone(PRESETS["albert_tiny"].to_dict())
    assert isinstance(backbone.config, AlbertConfig)
    assert AlbertBackbone.from_config(backbone.get_config()).config == PRESETS["albert_tiny"]


def test_groups_that_do_not_divide_the_layers(tmp_path):
    # The original accepts 5 layers in 2 groups: layers 0-2 use group 0, 3-4 group 1.
    config = PRESETS["albert_tiny"].replace(num_hidden_layers=5, num_hidden_groups=2)
    backbone, batch, before, after = _scale_group_1(config)
    for layer in (0, 1, 2):
        np.testing.assert_array_equal(before[layer], after[layer])
    for layer in (3, 4):
        assert np.abs(np.array(before[layer]) - np.array(after[layer])).max() > 1e-3
    # Weights save and load.
    backbone.save(tmp_path / "five_in_two.keras")
    loaded = keras.saving.load_model(tmp_path / "five_in_two.keras")
    np.testing.assert_array_equal(loaded(batch)["sequence_output"], after[-1])


def test_groups_no_layer_uses_are_not_created():
    # G > L: the original only ever creates the groups a layer runs.
    config = PRESETS["albert_tiny"].replace(num_hidden_layers=2, num_hidden_groups=3)
    backbone = AlbertBackbone(config)
    assert sorted(backbone.groups) == [0, 1]
    assert not [w.path for w in backbone.weights if w.path.startswith("group_2")]

"""keras-hub AlbertBackbone -> albert_tf parity on the three test shapes."""

import numpy as np
import pytest

from albert_tf import PRESETS, AlbertBackbone
from albert_tf.convert import ConversionError, from_keras_hub
from tests.helpers.convert import CONFIG_NAMES, FIVE_LAYERS_TWO_GROUPS, compare, make_batch, run_albert


def make_keras_hub_backbone(config):
    import keras
    import keras_hub

    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=config.vocab_size,
        num_layers=config.num_hidden_layers,
        num_heads=config.num_attention_heads,
        num_groups=config.num_hidden_groups,
        num_inner_repetitions=config.inner_group_num,
        embedding_dim=config.embedding_size,
        hidden_dim=config.hidden_size,
        intermediate_dim=config.intermediate_size,
        dropout=0.0,
        max_sequence_length=config.max_position_embeddings,
    )
    # Redraw everything (keras-hub starts LayerNorm at 1/0 and biases at 0),
    # so a swapped gamma/beta or bias would show.
    rng = np.random.default_rng(0)
    for weight in backbone.weights:
        noise = rng.standard_normal(weight.shape).astype("float32")
        if weight.path.endswith("gamma"):
            weight.assign(1.0 + 0.1 * noise)
        else:
            weight.assign(0.05 * noise)
    keras.utils.set_random_seed(0)
    return backbone


@pytest.mark.parametrize("config_name", CONFIG_NAMES)
def test_keras_hub_parity(config_name):
    config = PRESETS[config_name]
    kh = make_keras_hub_backbone(config)
    backbone = from_keras_hub(kh)
    assert isinstance(backbone, AlbertBackbone)
    assert backbone.config.has_embedding_projection  # keras-hub always projects
    batch = make_batch(config.vocab_size, seed=1)
    reference = kh(
        {
            "token_ids": batch["input_word_ids"],
            "segment_ids": batch["input_type_ids"],
            "padding_mask": batch["input_mask"],
        }
    )
    reference = {k: np.asarray(v) for k, v in reference.items()}
    ours = run_albert(backbone, batch)
    compare(f"keras-hub {config_name}", ours, reference, ("sequence_output", "pooled_output"))


def test_keras_hub_wrong_object_and_shape():
    with pytest.raises(TypeError, match="keras_hub.models.AlbertBackbone"):
        from_keras_hub(AlbertBackbone.from_preset("albert_tiny"))
    kh = make_keras_hub_backbone(PRESETS["albert_tiny"])
    with pytest.raises(ConversionError, match=r"cannot be converted into task 'classification' \(only 'backbone'\)"):
        from_keras_hub(kh, task="classification")


def test_groups_keras_hub_cannot_represent_are_refused():
    from albert_tf.convert.keras_hub import name_map

    with pytest.raises(ConversionError, match="keras-hub cannot represent num_hidden_layers=5 with num_hidden_groups=2"):
        name_map(FIVE_LAYERS_TWO_GROUPS)
    # Divisible, but the original's float rule runs group 14 at layer 15.
    with pytest.raises(ConversionError, match=r"at layers \[15\]"):
        name_map(FIVE_LAYERS_TWO_GROUPS.replace(num_hidden_layers=22, num_hidden_groups=22))



def test_weights_no_albert_tf_model_holds_are_refused_unless_allowed():
    kh = make_keras_hub_backbone(PRESETS["albert_tiny"])
    extra = kh.add_weight(shape=(3,), name="extra", initializer="zeros")
    with pytest.raises(ConversionError, match=f"no albert_tf model holds: \\['{extra.path}'\\]"):
        from_keras_hub(kh)
    with pytest.warns(UserWarning, match=extra.path):
        backbone = from_keras_hub(kh, allow_unused=True)
    assert isinstance(backbone, AlbertBackbone)

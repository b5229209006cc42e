"""`AlbertPretrainer`: masked LM (tied to the word embeddings) + sentence order."""

import keras

from albert_tf.backbone import INPUT_NAMES
from albert_tf.layers import AlbertMaskedLMHead
from albert_tf.tasks.task import AlbertTask, head_dense


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertPretrainer(AlbertTask):
    """ALBERT with its two pretraining heads.

    Inputs (dict): the backbone's three int32 [B, T] inputs plus
        `masked_lm_positions` int32 [B, P].

    Outputs (dict, float32):
        mlm_logits: [B, P, V], LayerNorm(gelu(dense_E(x))) @ word_embeddings^T + bias.
        sop_logits: [B, 2] on the pooled output; label 1 = segments swapped.

    Example:
    >>> pretrainer = AlbertPretrainer(AlbertBackbone.from_preset("albert_tiny"))
    >>> ids = np.array([[2, 48, 4, 3]], "int32")
    >>> out = pretrainer({"input_word_ids": ids, "input_mask": np.ones_like(ids),
    ...                   "input_type_ids": np.zeros_like(ids),
    ...                   "masked_lm_positions": np.array([[2]], "int32")})
    >>> tuple(out["mlm_logits"].shape), tuple(out["sop_logits"].shape)
    ((1, 1, 30000), (1, 2))
    """

    task_names = ("pretraining",)

    def __init__(self, backbone, **kwargs):
        config = backbone.config
        # === Layers ===
        mlm_head = AlbertMaskedLMHead(
            backbone.word_embeddings,
            hidden_act=config.hidden_act,
            initializer_range=config.initializer_range,
            layer_norm_eps=config.layer_norm_eps,
            dtype=backbone.dtype_policy,
            name="mlm_head",
        )
        sop_head = head_dense(backbone, 2, "sop_head")
        # === Functional graph ===
        inputs = dict(backbone.input)
        inputs["masked_lm_positions"] = keras.Input(shape=(None,), dtype="int32", name="masked_lm_positions")
        encoded = backbone({name: inputs[name] for name in INPUT_NAMES})
        outputs = {
            "mlm_logits": mlm_head(encoded["sequence_output"], inputs["masked_lm_positions"]),
            "sop_logits": sop_head(encoded["pooled_output"]),
        }
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.backbone = backbone
        self.mlm_head = mlm_head
        self.sop_head = sop_head

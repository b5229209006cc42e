"""Extractive question answering: `AlbertSpanQA` (SQuAD start/end logits, the
`span_qa` task) and `AlbertSpanQAV2` (its "squad_v2" variant, the original
run_squad_v2 head)."""

import keras

from albert_tf.layers import AlbertSquadV2Head, squad_v2_p_mask
from albert_tf.tasks.task import AlbertTask, head_dense


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertSpanQA(AlbertTask):
    """Dense 2 on the sequence output, split into start and end logits.

    Inputs: the backbone's dict of int32 [B, T], question as segment A and
        context as segment B.
    Outputs (dict, float32): `start_logits` [B, T], `end_logits` [B, T].

    Example:
    >>> model = AlbertSpanQA(AlbertBackbone.from_preset("albert_tiny"))
    """

    task_names = ("span_qa",)

    def __init__(self, backbone, **kwargs):
        # === Layers ===
        span_dense = head_dense(backbone, 2, "span_logits")
        # === Functional graph ===
        inputs = dict(backbone.input)
        logits = span_dense(backbone(inputs)["sequence_output"])
        outputs = {"start_logits": logits[:, :, 0], "end_logits": logits[:, :, 1]}
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.backbone = backbone
        self.span_dense = span_dense


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertSpanQAV2(AlbertTask):
    """The SQuAD 2.0 model of the original run_squad_v2 (answer class + beam).

    The `span_qa` task's "squad_v2" variant: `AlbertSquadV2Head` on the
    sequence output, with the original's `p_mask` derived from the inputs
    (`squad_v2_p_mask`: answers only at [CLS] or in the context segment).
    `albert_tf.convert.from_tf1_checkpoint` builds it from checkpoints that
    hold the original's `start_logits/`, `end_logits/`, `answer_class/`
    tensors. It computes the original's prediction graph; fine-tuning it
    (ends conditioned on the gold start) is not built here.

    Inputs: the backbone's dict of int32 [B, T], `[CLS] question [SEP]
        context [SEP]`, context as segment 1; T >= both beam sizes.
    Outputs (dict): `start_top_log_probs` [B, K], `start_top_index` int32
        [B, K], `end_top_log_probs` [B, K * K'], `end_top_index` int32
        [B, K * K'], `cls_logits` [B] (see `AlbertSquadV2Head`).

    Args:
        backbone: an `AlbertBackbone`.
        start_n_top: K, kept start positions (the original's default 5).
        end_n_top: K', kept ends per start (default 5).
        dropout: dropout on the answer-class feature (0.1 in the original).

    Raises:
        ValueError: a beam size that is not a positive int.

    Example:
    >>> model = AlbertSpanQAV2(AlbertBackbone.from_preset("albert_tiny"), start_n_top=2, end_n_top=2)
    >>> ids = np.array([[2, 48, 3, 55, 66, 3, 0]], "int32")
    >>> out = model({"input_word_ids": ids, "input_mask": (ids > 0).astype("int32"),
    ...              "input_type_ids": np.array([[0, 0, 0, 1, 1, 1, 0]], "int32")})
    >>> model.task_name, tuple(out["end_top_index"].shape), tuple(out["cls_logits"].shape)
    ('span_qa', (1, 4), (1,))
    >>> sorted(set(np.asarray(out["start_top_index"]).ravel()) - {0, 3, 4})  # [CLS] or context only
    []
    """

    task_names = ("span_qa",)
    variant = "squad_v2"
    head_args = ("start_n_top", "end_n_top", "dropout")

    def __init__(self, backbone, start_n_top=5, end_n_top=5, dropout=0.1, **kwargs):
        config = backbone.config
        # === Layers ===
        head = AlbertSquadV2Head(
            hidden_size=config.hidden_size, start_n_top=start_n_top, end_n_top=end_n_top,
            dropout=dropout, initializer_range=config.initializer_range, name="squad_v2_head",
        )
        # === Functional graph ===
        inputs = dict(backbone.input)
        sequence = backbone(inputs)["sequence_output"]
        outputs = head(sequence, squad_v2_p_mask(inputs["input_mask"], inputs["input_type_ids"]))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.backbone = backbone
        self.head = head
        self.start_n_top = start_n_top
        self.end_n_top = end_n_top
        self.dropout = dropout

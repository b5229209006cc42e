"""Every task model through the shared harness, plus what is particular to one task."""

import keras
import numpy as np
import pytest

from albert_tf import (
    AlbertBackbone,
    AlbertClassifier,
    AlbertMultipleChoice,
    AlbertPretrainer,
    AlbertSpanQA,
    AlbertTokenClassifier,
)
from tests.helpers.models import TINY_CONFIG, random_batch, run_model_test

BATCH, SEQ_LENGTH, CHOICES, PREDICTIONS = 4, 8, 3, 2
SPARSE_CE = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _backbone(dropout):
    return AlbertBackbone(TINY_CONFIG.replace(hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout))


def _case(name):
    """(model_factory, inputs, targets, loss, expected output shapes) for task `name`."""
    x = random_batch(TINY_CONFIG, batch_size=BATCH, seq_length=SEQ_LENGTH)
    rng = np.random.default_rng(0)
    if name == "classification":
        return (lambda dropout: AlbertClassifier(_backbone(dropout), 3, dropout=dropout),
                x, rng.integers(0, 3, BATCH), SPARSE_CE, (BATCH, 3))
    if name == "regression":
        return (lambda dropout: AlbertClassifier(_backbone(dropout), 1, problem_type="regression", dropout=dropout),
                x, rng.normal(size=(BATCH, 1)).astype("float32"), "mse", (BATCH, 1))
    if name == "token_classification":
        return (lambda dropout: AlbertTokenClassifier(_backbone(dropout), 5, dropout=dropout),
                x, rng.integers(0, 5, (BATCH, SEQ_LENGTH)), SPARSE_CE, (BATCH, SEQ_LENGTH, 5))
    if name == "span_qa":
        y = {"start_logits": rng.integers(0, SEQ_LENGTH, BATCH), "end_logits": rng.integers(0, SEQ_LENGTH, BATCH)}
        return (lambda dropout: AlbertSpanQA(_backbone(dropout)), x, y,
                {"start_logits": SPARSE_CE, "end_logits": SPARSE_CE},
                {"start_logits": (BATCH, SEQ_LENGTH), "end_logits": (BATCH, SEQ_LENGTH)})
    if name == "multiple_choice":
        # Each choice its own random batch.
        choices = [random_batch(TINY_CONFIG, batch_size=BATCH, seq_length=SEQ_LENGTH, seed=s) for s in range(CHOICES)]
        x = {k: np.stack([choice[k] for choice in choices], axis=1) for k in x}
        return (lambda dropout: AlbertMultipleChoice(_backbone(dropout), dropout=dropout),
                x, rng.integers(0, CHOICES, BATCH), SPARSE_CE, (BATCH, CHOICES))
    if name == "pretraining":
        x = dict(x, masked_lm_positions=rng.integers(1, 3, (BATCH, PREDICTIONS)).astype("int32"))
        y = {"mlm_logits": rng.integers(5, TINY_CONFIG.vocab_size, (BATCH, PREDICTIONS)),
             "sop_logits": rng.integers(0, 2, BATCH)}
        return (lambda dropout: AlbertPretrainer(_backbone(dropout)), x, y,
                {"mlm_logits": SPARSE_CE, "sop_logits": SPARSE_CE},
                {"mlm_logits": (BATCH, PREDICTIONS, TINY_CONFIG.vocab_size), "sop_logits": (BATCH, 2)})
    raise KeyError(name)


# Heads on the sequence output never reach the pooler.
UNUSED_WEIGHTS = {"token_classification": ("pooler/",), "span_qa": ("pooler/",)}


@pytest.mark.parametrize(
    "name",
    ["classification", "regression", "token_classification", "span_qa", "multiple_choice", "pretraining"],
)
def test_task_model_harness(name, tmp_path):
    factory, x, y, loss, shapes = _case(name)
    run_model_test(
        factory, x, y, loss, shapes, tmp_path,
        unused_weights=UNUSED_WEIGHTS.get(name, ()),
        # The pretrainer is what runs under mixed precision with XLA on accelerators.
        mixed_precision_jit_compile=name == "pretraining",
    )


def test_pretrainer_mlm_output_is_tied_to_word_embeddings():
    factory, x, _, _, _ = _case("pretraining")
    model = factory(0.0)
    table = model.backbone.word_embeddings.embeddings
    before = np.array(model(x)["mlm_logits"])
    table.assign(table * 2.0)
    after = np.array(model(x)["mlm_logits"])
    assert np.abs(after - before).max() > 1e-4
    assert len([w for w in model.weights if w.path.endswith("word_embeddings/embeddings")]) == 1


def test_multiple_choice_scores_each_choice_on_its_own():
    factory, x, _, _, _ = _case("multiple_choice")
    model = factory(0.0)
    logits = np.array(model(x))
    single = {k: v[:, 1] for k, v in x.items()}
    pooled = model.backbone(single)["pooled_output"]
    np.testing.assert_allclose(logits[:, 1], np.array(model.score_dense(pooled))[:, 0], atol=1e-6)

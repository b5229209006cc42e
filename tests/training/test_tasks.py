"""The task registry (`training.tasks`) and answer sentence selection, a task
added as one module plus one registry line, fine-tuned end to end on a
tiny model with the shipped Disfl-QA data."""

import json

import numpy as np
import pytest

from training import metrics
from training.data import readers
from training.loops import evaluate as evaluation
from training.loops import finetune
from training.data.sources import read_data
from training.tasks import TASKS, Task, get_task
from training.tasks.answer_selection import AnswerSelectionTask, sentence_pairs

# What `training.loops` (finetune, evaluate) and `training.callbacks.DevEvaluation` call on a task.
LOOP_METHODS = ("build_model", "compile_args", "dataset", "score")


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_registered_task_has_what_the_loops_call(name):
    task_class = TASKS[name]
    assert issubclass(task_class, Task) and task_class.name == name
    assert isinstance(task_class.primary_metric, str) and task_class.primary_metric
    task = task_class(tokenizer=None, seq_length=32)
    for method in LOOP_METHODS:
        assert callable(getattr(task, method))
    # Implemented, not the base class's NotImplementedError stubs.
    for method in ("build_model", "compile_args", "score"):
        assert getattr(task_class, method) is not getattr(Task, method), method
    assert task_class._batches is not Task._batches or task_class.dataset is not Task.dataset
    assert "loss" in task.compile_args()


def test_registry_lists_answer_selection():
    assert TASKS["answer_selection"] is AnswerSelectionTask
    assert AnswerSelectionTask.primary_metric == "mrr"
    with pytest.raises(ValueError, match="answer_selection"):
        get_task("answer_selecton", tokenizer=None)


def test_pairs_of_a_hand_made_example_are_labelled_by_the_answer_span():
    context = "The tower is in Paris. It was built in 1889 by Eiffel. Visitors climb it daily."
    answer = "1889"
    examples = [
        readers.SquadExample("q1", "When was the tower built?", context,
                             [{"text": answer, "answer_start": context.index(answer)}]),
        readers.SquadExample("q2", "Who owns the moon?", context, [], True),
        # The answer straddles two sentences: no sentence holds it, so the question is dropped.
        readers.SquadExample("q3", "What spans?", context,
                             [{"text": "Paris. It", "answer_start": context.index("Paris. It")}]),
    ]
    built = sentence_pairs(examples)
    assert built.pairs.texts_b == ["The tower is in Paris.", "It was built in 1889 by Eiffel.",
                                   "Visitors climb it daily."]
    assert built.pairs.labels == [0, 1, 0]
    assert built.pairs.texts_a == ["When was the tower built?"] * 3
    assert built.question_ids == ["q1"] * 3
    assert [context[s:s + len(t)] for s, t in zip(built.sentence_starts, built.pairs.texts_b)] == built.pairs.texts_b
    with pytest.raises(TypeError, match="SquadExample"):
        sentence_pairs(readers.TextClassificationData(["a"], None, [0], ("x", "y")))


def test_answer_selection_finetunes_and_its_metrics_match_the_predictions(tmp_path):
    data = {"name": "disfl_qa", "max_examples": {"train": 40, "dev": 12, "test": 12}}
    config = {
        "task": "answer_selection",
        "data": {**data, "seq_length": 48},
        "model": {"preset": "albert_tiny", "dropout": 0.0},
        "train": {"batch_size": 16, "eval_batch_size": 32, "epochs": 1, "steps_per_epoch": 2,
                  "early_stopping_patience": 0, "verbose": 0},
        "optimizer": {"learning_rate": 1e-3},
        "evaluation": {"splits": ["test"]},
        "output_dir": str(tmp_path / "run"),
    }
    out = finetune.run_finetuning(config)
    test = out["metrics"]["test"]
    assert out["monitor"] == "mrr"
    assert set(test) == {"map", "mrr", "precision_at_1"}
    for value in test.values():
        assert 0.0 <= value <= 1.0
    # MRR >= P@1 always: a question right at rank 1 has reciprocal rank 1.
    assert test["mrr"] >= test["precision_at_1"]

    import albert_tf

    model = albert_tf.load(out["model_dir"])
    task = get_task("answer_selection", albert_tf.AlbertTokenizer(), 48)
    examples = read_data(data, "test")
    built, scores = task.sentence_scores(model, examples)
    logits = np.asarray(model.predict(task.dataset(examples, 32, labels=False), verbose=0))
    np.testing.assert_allclose(scores, logits[:, 1] - logits[:, 0], rtol=1e-6)
    # Recompute every metric by hand, question by question.
    average_precisions, reciprocal_ranks, top_hits = [], [], []
    for qid in dict.fromkeys(built.question_ids):
        rows = [i for i, q in enumerate(built.question_ids) if q == qid]
        order = sorted(rows, key=lambda i: -scores[i])
        relevant = [built.pairs.labels[i] for i in order]
        hits = [k + 1 for k, r in enumerate(relevant) if r]
        average_precisions.append(np.mean([(n + 1) / rank for n, rank in enumerate(hits)]))
        reciprocal_ranks.append(1.0 / hits[0])
        top_hits.append(float(relevant[0]))
    assert test["map"] == pytest.approx(np.mean(average_precisions))
    assert test["mrr"] == pytest.approx(np.mean(reciprocal_ranks))
    assert test["precision_at_1"] == pytest.approx(np.mean(top_hits))
    assert test["mrr"] == pytest.approx(metrics.mean_reciprocal_rank(built.question_ids, built.pairs.labels, scores))
    assert json.loads((tmp_path / "run" / "model" / "task.json").read_text())["task"] == "answer_selection"
    # `evaluate` rebuilds the task from task.json and gives the same numbers.
    again = evaluation.evaluate(out["model_dir"], data=data, split="test")
    assert again["task"] == "answer_selection"
    assert again["mrr"] == pytest.approx(test["mrr"]) and again["map"] == pytest.approx(test["map"])

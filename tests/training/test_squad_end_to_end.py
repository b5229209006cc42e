"""`albert-tf finetune` and `albert-tf evaluate` on SQuAD v1.1 and v2.0 JSON files.

Each file holds two long contexts (about 170 pieces) with answers past
the first 128 pieces, so the questions are read through several
document-stride windows. The tiny preset trains one short epoch; the
metrics `albert-tf evaluate` writes must be the official script's
(`tests.helpers.squad`) recomputed from the predictions written with them.
"""

import json

import pytest

from albert_tf import cli
from tests.helpers import squad as official

SEQ_LENGTH, DOC_STRIDE = 96, 32
PLACES = ["Avalon", "Brigadoon", "Camelot", "Dunwich", "Erewhon", "Gondor", "Hyrule", "Ithaca",
          "Jotunheim", "Kitezh", "Lilliput", "Mordor", "Narnia", "Oz", "Pemberley", "Quivira"]
FACTS = ["river", "mayor"]


def _fact(index, p):
    return FACTS[(index + p) % len(FACTS)]


def _article(index, version_2):
    """One long context: a fact about each of 16 places; questions on four (and two unanswerable)."""
    context = " ".join(
        f"The {_fact(index, p)} of {place} is called {_fact(index, p).title()}{index}x{p}."
        for p, place in enumerate(PLACES)
    )
    qas = []
    # Places 1, 7, 12 and 15: from the first window to the last.
    for p in (1, 7, 12, 15):
        fact = _fact(index, p)
        answer = f"{fact.title()}{index}x{p}"
        qas.append({"id": f"a{index}-{p}", "question": f"What is the {fact} of {PLACES[p]} called?",
                    "answers": [{"text": answer, "answer_start": context.index(answer)}]})
        if version_2:
            qas[-1]["is_impossible"] = False
    if version_2:
        for p in (3, 10):
            qas.append({"id": f"u{index}-{p}", "question": f"What is the harbour of {PLACES[p]} called?",
                        "answers": [], "is_impossible": True})
    return {"title": f"article {index}", "paragraphs": [{"context": context, "qas": qas}]}


def _write_squad(path, version_2):
    data = [_article(index, version_2) for index in range(2)]
    path.write_text(json.dumps({"version": "v2.0" if version_2 else "1.1", "data": data}))
    return data


def _finetune_and_evaluate(tmp_path, version_2):
    data_file = tmp_path / "squad.json"
    dataset = _write_squad(data_file, version_2)
    config = {
        "task": "span_qa",
        "data": {"format": "squad_json", "train": str(data_file), "dev": str(data_file),
                 "test": str(data_file), "seq_length": SEQ_LENGTH},
        "model": {"preset": "albert_tiny", "dropout": 0.0},
        "task_options": {"max_question_length": 16, "doc_stride": DOC_STRIDE, "version_2": version_2},
        "optimizer": {"learning_rate": 1e-3},
        "train": {"batch_size": 16, "epochs": 1, "verbose": 0},
        # `albert-tf evaluate` scores the test file below; the run itself
        # scores only the dev file, after its epoch.
        "evaluation": {"splits": []},
        "output_dir": str(tmp_path / "run"),
    }
    config_file = tmp_path / "finetune.json"
    config_file.write_text(json.dumps(config))
    assert cli.main(["finetune", "--config", str(config_file)]) == 0
    model_dir = tmp_path / "run" / "model"
    assert cli.main(["evaluate", "--model-dir", str(model_dir), "--data", str(data_file),
                     "--format", "squad_json", "--split", "test", "--output-dir", str(tmp_path)]) == 0
    run = json.loads((tmp_path / "run" / "metrics.json").read_text())
    metrics = json.loads((tmp_path / "metrics_test.json").read_text())
    # The dev file is the test file: the run's best dev F1 is the F1 evaluate finds again.
    assert metrics["f1"] == pytest.approx(run["best_dev"])
    return dataset, model_dir, metrics


def _contexts(dataset):
    return {qa["id"]: p["context"] for article in dataset for p in article["paragraphs"] for qa in p["qas"]}


@pytest.fixture(scope="module")
def squad_v2_run(tmp_path_factory):
    return _finetune_and_evaluate(tmp_path_factory.mktemp("squad_v2"), version_2=True)


@pytest.fixture(scope="module")
def squad_v1_run(tmp_path_factory):
    return _finetune_and_evaluate(tmp_path_factory.mktemp("squad_v1"), version_2=False)


def test_contexts_need_several_windows(squad_v2_run):
    import tensorflow as tf

    from albert_tf import saving
    from albert_tf.text import AlbertQAPreprocessor

    dataset, model_dir, _ = squad_v2_run
    context = dataset[0]["paragraphs"][0]["context"]
    tokenizer = saving.load_tokenizer(model_dir)
    pieces = len(tokenizer.tokenize([context])[0])
    last_answer = dataset[0]["paragraphs"][0]["qas"][3]["answers"][0]
    assert pieces > 160
    assert len(tokenizer.tokenize([context[:last_answer["answer_start"]]])[0]) > 128
    preprocessor = AlbertQAPreprocessor(tokenizer, SEQ_LENGTH, max_question_length=16, doc_stride=DOC_STRIDE)
    windows = preprocessor.num_windows(tf.constant(["What is the river of Oz called?"]), tf.constant([context]))
    assert int(windows[0]) >= 3
    assert saving.read_task_info(model_dir)["task_options"]["doc_stride"] == DOC_STRIDE


def test_squad_v2_metrics_equal_the_official_script(squad_v2_run):
    dataset, _, metrics = squad_v2_run
    assert (metrics["task"], metrics["split"], metrics["num_examples"]) == ("span_qa", "test", 12)
    scores = {k for k, v in metrics.items() if isinstance(v, float)}
    assert scores == {"exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1",
                      "best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh", "na_prob_thresh"}
    assert (metrics["total"], metrics["HasAns_total"], metrics["NoAns_total"]) == (12, 8, 4)
    # What run_squad writes for the official script: each question's best
    # span, its no-answer score, and the threshold the answers used.
    predictions, na_probs = metrics["predictions"], metrics["na_probs"]
    expected = official.official_v2(dataset, predictions, na_probs, metrics["na_prob_thresh"])
    assert {k: metrics[k] for k in expected} == expected
    contexts = _contexts(dataset)
    assert all(text in contexts[qid] for qid, text in predictions.items())


def test_squad_v1_metrics_are_exact_and_f1_of_the_official_script(squad_v1_run):
    dataset, _, metrics = squad_v1_run
    scores = {k for k, v in metrics.items() if isinstance(v, float)}
    assert scores == {"exact", "f1"} and metrics["total"] == 8 and "na_probs" not in metrics
    predictions = metrics["predictions"]
    # SQuAD 1.1: every question gets a span of its context.
    contexts = _contexts(dataset)
    assert all(text and text in contexts[qid] for qid, text in predictions.items())
    v1 = official.official_v1(dataset, predictions)
    assert (metrics["exact"], metrics["f1"]) == (v1["exact_match"], v1["f1"])

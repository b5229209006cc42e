"""End-to-end fine-tuning on a tiny model: VitaminC pairs (3 classes) and
Disfl-QA (SQuAD 2.0 style), each scored again by `evaluate` from disk."""

import json

import numpy as np
import pytest

from training.loops import evaluate as evaluation
from training.loops import finetune

TINY = {
    "model": {"preset": "albert_tiny", "dropout": 0.0},
    "optimizer": {"learning_rate": 1e-3},
    "train": {"batch_size": 8, "eval_batch_size": 32, "epochs": 1, "steps_per_epoch": 2,
              "early_stopping_patience": 0, "verbose": 0},
}


def _config(tmp_path, name, **extra):
    config = json.loads(json.dumps(TINY))
    config.update(extra, output_dir=str(tmp_path / name))
    return config


@pytest.fixture(scope="module")
def vitaminc_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("vitaminc")
    config = _config(tmp_path, "run", task="classification",
                     data={"name": "vitaminc", "seq_length": 32, "max_examples": {"train": 32, "dev": 24, "test": 24}})
    config["evaluation"] = {"splits": ["test"]}
    return finetune.run_finetuning(config)


def test_vitaminc_finetunes_and_evaluate_reproduces_its_metrics(vitaminc_run):
    out = vitaminc_run
    test = out["metrics"]["test"]
    assert out["monitor"] == "accuracy" and out["best_epoch"] == 1
    assert out["best_dev"] == max(out["history"]["dev_accuracy"])
    assert np.array(test["confusion_matrix"]).shape == (3, 3)
    assert np.array(test["confusion_matrix"]).sum() == 24
    assert test["label_names"] == ["True", "False", "Neither"]
    files = {p.name for p in __import__("pathlib").Path(out["output_dir"]).iterdir()}
    assert {"model", "metrics.json", "history.json", "training_curves.png", "confusion_matrix.png"} <= files
    # The saved best model, read back from disk, gives the same numbers.
    again = evaluation.evaluate(out["model_dir"], data={"name": "vitaminc", "max_examples": {"test": 24}})
    assert again["task"] == "classification" and again["num_examples"] == 24
    assert again["accuracy"] == pytest.approx(test["accuracy"])
    assert again["confusion_matrix"] == test["confusion_matrix"]
    saved = json.loads((__import__("pathlib").Path(out["output_dir"]) / "metrics.json").read_text())
    assert saved["metrics"]["test"]["accuracy"] == test["accuracy"]


def test_evaluate_command_writes_metrics_json(vitaminc_run, tmp_path):
    from albert_tf import cli

    assert cli.main(["evaluate", "--model-dir", vitaminc_run["model_dir"], "--data", "vitaminc",
                     "--split", "test", "--max-examples", "24", "--output-dir", str(tmp_path)]) == 0
    written = json.loads((tmp_path / "metrics_test.json").read_text())
    assert written["accuracy"] == pytest.approx(vitaminc_run["metrics"]["test"]["accuracy"])
    assert (tmp_path / "metrics_test_confusion_matrix.png").is_file()
    # The old --output FILE still writes that file; an explicit casing flag overrides the recorded one.
    assert cli.main(["evaluate", "--model-dir", vitaminc_run["model_dir"], "--data", "vitaminc", "--split", "test",
                     "--max-examples", "24", "--output", str(tmp_path / "m.json"), "--lower-case"]) == 0
    assert json.loads((tmp_path / "m.json").read_text())["accuracy"] == written["accuracy"]


def test_disfl_qa_finetunes_as_squad2_and_evaluates(tmp_path):
    config = _config(tmp_path, "qa", task="span_qa",
                     task_options={"max_question_length": 24, "max_answer_length": 10},
                     data={"name": "disfl_qa", "seq_length": 64, "max_examples": {"train": 32, "dev": 16, "test": 16}})
    config["evaluation"] = {"splits": ["test"]}
    out = finetune.run_finetuning(config)
    test = out["metrics"]["test"]
    assert out["monitor"] == "f1"
    assert test["total"] == 16 and test["HasAns_total"] + test["NoAns_total"] == 16
    for key in ("exact", "f1", "best_f1", "best_f1_thresh"):
        assert key in test
    assert 0.0 <= test["exact"] <= test["f1"] <= 100.0
    again = evaluation.evaluate(out["model_dir"], data={"name": "disfl_qa", "max_examples": {"test": 16}})
    assert again["exact"] == pytest.approx(test["exact"]) and again["f1"] == pytest.approx(test["f1"])
    assert json.loads((tmp_path / "qa" / "model" / "task.json").read_text())["task_options"]["max_answer_length"] == 10


def test_config_errors_are_named(tmp_path):
    with pytest.raises(ValueError, match="Unknown config key 'optimizer.learning_rat'"):
        finetune.resolve_config({"task": "classification", "data": {"name": "vitaminc"},
                                 "output_dir": str(tmp_path), "optimizer": {"learning_rat": 1.0}})
    with pytest.raises(ValueError, match="task is 'ner'; expected one of"):
        finetune.resolve_config({"task": "ner", "data": {"name": "vitaminc"}, "output_dir": str(tmp_path)})
    with pytest.raises(ValueError, match="data needs a source"):
        finetune.resolve_config({"task": "classification", "output_dir": str(tmp_path)})
    with pytest.raises(ValueError, match="Unknown precision 'fp8'"):
        finetune.resolve_config({"data": {"name": "vitaminc"}, "output_dir": str(tmp_path),
                                 "runtime": {"precision": "fp8"}})
    with pytest.raises(ValueError, match="optimizer.warmup_ratio must be in"):
        finetune.resolve_config({"data": {"name": "vitaminc"}, "output_dir": str(tmp_path),
                                 "optimizer": {"warmup_ratio": 1.5}})
    # The command line's --set and shorthand flags go through the same checks.
    from albert_tf import cli

    config_path = tmp_path / "finetune.yaml"
    config_path.write_text("task: classification\ndata: {name: vitaminc}\n")
    with pytest.raises(ValueError, match="output_dir is required"):
        cli.main(["finetune", "--config", str(config_path), "--quiet"])
    with pytest.raises(ValueError, match="Unknown config key 'train.epochz'"):
        cli.main(["finetune", "--config", str(config_path), "--output-dir", str(tmp_path / "x"), "--set", "train.epochz=1"])
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("keep me")
    with pytest.raises(FileExistsError, match="set overwrite: true"):
        finetune.run_finetuning(_config(tmp_path, "busy", data={"name": "vitaminc"}))
    assert (tmp_path / "busy" / "x").read_text() == "keep me"

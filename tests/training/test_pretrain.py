"""Pretraining loop: smoke run, config errors, gradient accumulation == big batch,
kill -9 then resume from the last checkpoint, two local workers with
MultiWorkerMirroredStrategy, and (slow) the tiny recipe learning."""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertBackbone, AlbertConfig, AlbertPretrainer, resources
from training.data import creation as pd
from training.optimization import create_optimizer
from training.loops.pretrain import run_pretraining
from training.tasks.pretraining import compile_pretrainer, max_logit_accuracy, max_logit_matches

REPO = pathlib.Path(__file__).resolve().parents[2]
SEQ, PRED = 64, 10
# albert_tiny with a small vocabulary: same code paths, faster XLA compiles.
SMALL = AlbertConfig.from_preset("albert_tiny").replace(vocab_size=1000)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrain_data")
    docs = []
    for doc in pd.read_documents(resources.path("sotu.txt.gz")):
        docs.append("\n".join(doc))
        if len(docs) == 6:
            break
    (root / "text.txt").write_text("\n\n".join(docs) + "\n")
    pd.create_pretraining_data([str(root / "text.txt")], root, max_seq_length=SEQ,
                               max_predictions_per_seq=PRED, holdout_every=3, seed=1)
    return root


def _config(shards, output_dir, jit_compile=True, **train):
    return {
        "data": {"tfrecords": str(shards / "train-*.tfrecord"),
                 "eval_tfrecords": str(shards / "eval-*.tfrecord"),
                 "seq_length": SEQ, "max_predictions_per_seq": PRED},
        "train": {"steps": 10, "batch_size": 8, "log_every": 5, "checkpoint_every": 5,
                  "eval_steps": 2, "verbose": 0, **train},
        "optimizer": {"learning_rate": 0.005},
        "runtime": {"jit_compile": jit_compile},
        "output_dir": str(output_dir),
    }


def test_smoke_run_writes_everything(shards, tmp_path):
    config = _config(shards, tmp_path / "run")
    config["data"]["length_buckets"] = [32]  # batches of two shapes through the XLA step
    metrics = run_pretraining(config)
    assert metrics["step"] == 10 and metrics["resumed_from_step"] == 0
    for key in ("loss", "mlm_accuracy", "sop_accuracy", "eval_mlm_accuracy",
                "eval_sop_accuracy", "mlm_unigram_baseline"):
        assert np.isfinite(metrics[key]), key
    assert metrics["eval_sequences"] == 16  # eval_steps=2 batches of 8
    # Loss = MLM + SOP: near ln(30000) + ln(2) at initialization.
    assert 9.0 < metrics["loss"] < 11.5
    run = tmp_path / "run"
    assert (run / "curves.png").stat().st_size > 1000
    assert (run / "model" / "model.keras").is_file()
    assert list((run / "logs" / "train").glob("events.out.tfevents.*"))
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-10")
    lines = (run / "logs" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [5, 10]
    # Rerunning a finished experiment trains nothing more.
    again = run_pretraining(_config(shards, run))
    assert again["resumed_from_step"] == 10 and again["step"] == 10


def test_mixed_precision_trains_and_resumes(shards, tmp_path):
    """float16 compute with dynamic loss scaling; its optimizer state checkpoints and resumes."""
    config = _config(shards, tmp_path / "run", steps=5, jit_compile=False)
    config["runtime"]["precision"] = "mixed_float16"
    first = run_pretraining(config)
    assert first["step"] == 5 and np.isfinite(first["loss"]) and np.isfinite(first["eval_mlm_accuracy"])
    config["train"]["steps"] = 10
    second = run_pretraining(config)
    assert second["resumed_from_step"] == 5 and second["step"] == 10 and np.isfinite(second["loss"])


def test_config_errors_name_the_problem(shards, tmp_path):
    with pytest.raises(ValueError, match="train.stepz"):
        run_pretraining({**_config(shards, tmp_path), "train": {"stepz": 3}})
    with pytest.raises(ValueError, match="multiples of train.log_every"):
        run_pretraining(_config(shards, tmp_path, steps=7))
    with pytest.raises(ValueError, match="Unknown precision"):
        run_pretraining({**_config(shards, tmp_path), "runtime": {"precision": "float8"}})
    bucketed = _config(shards, tmp_path)
    bucketed["data"]["length_buckets"] = [32, 65]
    with pytest.raises(ValueError, match="length_buckets must lie in"):
        run_pretraining(bucketed)
    bucketed["data"]["length_buckets"] = [32]
    with pytest.raises(ValueError, match="TPUs need one"):
        run_pretraining({**bucketed, "runtime": {"strategy": "tpu"}})


def test_command_line_overrides_go_through_the_config_checks(shards, tmp_path):
    from albert_tf import cli

    config_path = tmp_path / "pretrain.json"
    config_path.write_text(json.dumps(_config(shards, tmp_path / "run")))
    command = ["pretrain", "--config", str(config_path)]
    with pytest.raises(ValueError, match="Unknown config key 'train.stepz'"):
        cli.main(command + ["--set", "train.stepz=3"])
    with pytest.raises(ValueError, match="'train.steps' must be int, got str 'ten'"):
        cli.main(command + ["--set", "train.steps=ten"])
    # --steps is shorthand for --set train.steps=..., checked the same way.
    with pytest.raises(ValueError, match="train.steps=7 and train.checkpoint_every=5 must be multiples"):
        cli.main(command + ["--steps", "7"])
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("mode", ["tfrecord", "on_the_fly"])
def test_bad_corpus_is_a_clear_error_before_training(tmp_path, mode):
    good = "The first sentence is here. And a second one follows it.\n"
    cases = {
        "missing.txt": (None, FileNotFoundError, "No input file matches"),
        "empty.txt": ("\n\n", ValueError, "empty corpus file"),
        "short.txt": (good + "\nHello\n", ValueError, r"document 2 \('Hello'\) has 1 word"),
    }
    for name, (text, error, message) in cases.items():
        if text is not None:
            (tmp_path / name).write_text(text)
        config = {"data": {"text_files": [str(tmp_path / name)], "mode": mode, "seq_length": SEQ,
                           "max_predictions_per_seq": PRED},
                  "train": {"steps": 5, "log_every": 5, "checkpoint_every": 5, "verbose": 0},
                  "output_dir": str(tmp_path / f"run_{name}")}
        with pytest.raises(error, match=message):
            run_pretraining(config)
        run = tmp_path / f"run_{name}"
        assert not (run / "checkpoints").exists() and not list(run.glob("data/*.tfrecord"))


def test_empty_held_out_data_is_a_clear_error(shards, tmp_path):
    with tf.io.TFRecordWriter(str(tmp_path / "eval-empty.tfrecord")):
        pass
    config = _config(shards, tmp_path / "run")
    config["data"]["eval_tfrecords"] = str(tmp_path / "eval-*.tfrecord")
    with pytest.raises(ValueError, match="held-out pretraining data is empty"):
        run_pretraining(config)


def _batch(seed, batch):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 1000, (batch, 16)).astype("int32")
    ids[:, 0] = 2
    x = {"input_word_ids": ids, "input_mask": np.ones_like(ids),
         "input_type_ids": (np.arange(16) >= 8).astype("int32")[None].repeat(batch, 0),
         "masked_lm_positions": rng.integers(1, 16, (batch, 3)).astype("int32")}
    y = {"mlm_logits": rng.integers(5, 1000, (batch, 3)).astype("int32"),
         "sop_logits": rng.integers(0, 2, (batch,)).astype("int32")}
    # Every micro-batch holds the same number of real predictions, so the mean
    # of the micro-batch losses is the big batch's loss.
    w = {"mlm_logits": np.ones((batch, 3), "float32"), "sop_logits": np.ones((batch,), "float32")}
    return x, y, w


@pytest.mark.parametrize("label_shape, logits_shape", [
    ((4, 20), (4, 20, 3000)),  # MLM: [B, P] labels
    ((8,), (8, 2)),            # SOP: [B] labels
    ((8, 1), (8, 2)),          # labels with a trailing 1
])
def test_max_logit_accuracy_equals_keras_argmax_accuracy(label_shape, logits_shape):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=logits_shape).astype("float32")
    labels = rng.integers(0, logits_shape[-1], size=logits_shape[:-1])
    # About 40% of rows right: their label gets the largest logit.
    right = rng.random(labels.shape) < 0.4
    np.put_along_axis(logits, labels[..., None], np.where(right, 10.0, -10.0)[..., None], -1)
    weights = rng.integers(0, 2, size=labels.shape).astype("float32")
    ours, reference = max_logit_accuracy(), keras.metrics.SparseCategoricalAccuracy()
    for metric in (ours, reference):
        metric.update_state(labels.reshape(label_shape), logits, sample_weight=weights)
    assert 0.2 < float(reference.result()) < 0.6
    assert float(ours.result()) == pytest.approx(float(reference.result()), abs=1e-7)


def test_max_logit_matches_counts_a_tie_for_the_top_as_correct():
    logits = np.array([[1.0, 3.0, 3.0], [5.0, 0.0, 0.0]], "float32")
    np.testing.assert_array_equal(np.asarray(max_logit_matches(np.array([2, 1]), logits)), [1.0, 0.0])


def test_gradient_accumulation_equals_one_big_batch_step():
    x, y, w = _batch(0, 8)
    weights = None
    results = []
    for accumulation, micro in ((1, 8), (4, 2)):
        keras.utils.set_random_seed(0)
        model = AlbertPretrainer(AlbertBackbone(SMALL))
        if weights is None:
            weights = model.get_weights()
        model.set_weights(weights)
        # Global-norm clipping at 1.0 is on: the accumulated average must clip
        # like the big batch's gradient (the word-embedding gradient is
        # IndexedSlices, densified before the norm).
        optimizer = create_optimizer("lamb", 0.01, num_train_steps=10,
                                     gradient_accumulation_steps=accumulation)
        compile_pretrainer(model, optimizer, jit_compile=True)
        ds = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(micro)
        model.fit(ds, epochs=1, verbose=0, shuffle=False)
        assert int(optimizer.iterations) == 1
        results.append(model.get_weights())
    moved = max(np.abs(a - b).max() for a, b in zip(results[0], weights))
    assert moved > 1e-4
    diff = max(np.abs(a - b).max() for a, b in zip(*results))
    print(f"max |accumulated - big batch| = {diff:.2e}, largest update {moved:.2e}")
    assert diff < 1e-6


def _latest_step(checkpoints):
    latest = tf.train.latest_checkpoint(str(checkpoints))
    return int(latest.rsplit("-", 1)[-1]) if latest else 0


def test_kill_9_then_rerun_resumes_from_last_checkpoint(shards, tmp_path):
    every = 20
    config = _config(shards, tmp_path / "run", steps=400, log_every=every,
                     checkpoint_every=every, jit_compile=False)
    config_path = tmp_path / "pretrain.json"
    config_path.write_text(json.dumps(config))
    command = [sys.executable, "-m", "albert_tf.cli", "pretrain", "--config", str(config_path)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    checkpoints = tmp_path / "run" / "checkpoints"

    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    deadline = time.time() + 240
    while _latest_step(checkpoints) < 2 * every and process.poll() is None:
        assert time.time() < deadline, "no checkpoint appeared"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    # Every checkpoint the index lists is complete and restorable.
    state = tf.train.get_checkpoint_state(str(checkpoints))
    for path in state.all_model_checkpoint_paths:
        reader = tf.train.load_checkpoint(path)
        assert len(reader.get_variable_to_shape_map()) > 30
    killed_at = _latest_step(checkpoints)
    assert 2 * every <= killed_at < 400
    logged = [json.loads(line)["step"] for line in
              (tmp_path / "run" / "logs" / "metrics.jsonl").read_text().splitlines()]
    assert max(logged) - killed_at <= every  # at most N steps lost

    rerun = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=400)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    match = re.search(r"Resumed from \S+ at step (\d+)", rerun.stdout)
    assert match and int(match.group(1)) == killed_at
    final = json.loads((tmp_path / "run" / "final_metrics.json").read_text())
    assert final["step"] == 400 and final["resumed_from_step"] == killed_at
    assert _latest_step(checkpoints) == 400


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_multi_worker_two_local_workers(shards, tmp_path):
    """MultiWorkerMirroredStrategy, two worker processes on loopback, through the CLI."""
    config = _config(shards, tmp_path / "run", steps=6, log_every=3, checkpoint_every=3)
    config_path = tmp_path / "pretrain.json"
    config_path.write_text(json.dumps(config))
    cluster = {"worker": [f"127.0.0.1:{_free_port()}" for _ in range(2)]}
    workers = []
    for index in range(2):
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "",
               "TF_CONFIG": json.dumps(tf_config)}
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "albert_tf.cli", "pretrain", "--config", str(config_path),
             "--set", "runtime.strategy=multi_worker"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        ))
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=400)[0])
    finally:
        for worker in workers:
            worker.kill()
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output[-3000:]
    assert "runs without XLA" in outputs[0]  # CPU collectives cannot be XLA-compiled
    # `albert-tf pretrain` ends by printing its metrics as indented JSON.
    chief, other = (json.loads(re.findall(r"^\{$.*?^\}$", out, re.S | re.M)[-1]) for out in outputs)
    # Both workers ran the same synchronized 6 updates and evaluated together.
    assert chief["step"] == other["step"] == 6
    assert chief["eval_mlm_accuracy"] == other["eval_mlm_accuracy"]
    run = tmp_path / "run"
    assert _latest_step(run / "checkpoints") == 6
    assert (run / "model").is_dir() and (run / "final_metrics.json").is_file()
    assert not list(run.glob(".worker-*")), "a worker's scratch checkpoints were left behind"


@pytest.fixture(scope="module")
def tiny_recipe(tmp_path_factory):
    """One run of configs/pretrain_tiny.yaml (minutes on 2 CPU cores)."""
    from training.config import PretrainingConfig

    output_dir = str(tmp_path_factory.mktemp("tiny"))
    return run_pretraining(PretrainingConfig.load(REPO / "configs" / "pretrain_tiny.yaml",
                                                  overrides={"output_dir": output_dir}))


@pytest.mark.slow
def test_tiny_recipe_mlm_beats_unigram_baseline(tiny_recipe):
    assert tiny_recipe["eval_mlm_accuracy"] > tiny_recipe["mlm_unigram_baseline"] + 0.05


@pytest.mark.slow
def test_tiny_recipe_sop_beats_chance(tiny_recipe):
    count = tiny_recipe["eval_sequences"]
    assert count > 2000
    # Four standard errors above chance on the held-out pairs.
    assert tiny_recipe["eval_sop_accuracy"] > 0.5 + 4 * (0.25 / count) ** 0.5

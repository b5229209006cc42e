"""The README main job end to end (quick mode), its reuse of stages, Ctrl-C, and
starting over when the pretraining config changes."""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
TEXT = "a gorgeous, witty, seductive movie."
TF_LOG_LINE = re.compile(r"^([IWEF]\d{4} \d\d:\d\d:|WARNING: All log messages before absl)", re.MULTILINE)


def _demo(out):
    return [sys.executable, "-m", "albert_tf.cli", "demo", "--quick", "--output-dir", str(out), "--text", TEXT]


def _servers_of(out):
    """PIDs of development servers serving from `out` (read from /proc)."""
    pids = []
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "serving.server" in cmdline and str(out) in cmdline:
            pids.append(int(proc.name))
    return pids


def test_quick_main_job_serves_an_answer_reuses_stages_and_stops_on_ctrl_c(tmp_path):
    out = tmp_path / "out"
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    first = subprocess.run(_demo(out), cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-4000:]
    # What the user reads is the job's progress: no TensorFlow C++ log line.
    assert not TF_LOG_LINE.search(first.stdout + first.stderr), first.stderr[-4000:]

    summary = json.loads((out / "summary.json").read_text())
    answer = summary["stages"]["serve"]["result"]["answers"][0]
    assert answer["text"] == TEXT and answer["label"] in ("negative", "positive")
    assert abs(sum(answer["probabilities"]) - 1.0) < 1e-3
    assert f"{answer['label']:>8}" in first.stdout and TEXT in first.stdout
    for artifact in ("pretrain/curves.png", "pretrain/model/spiece.model", "finetune/training_curves.png",
                     "finetune/confusion_matrix.png", "export/sentiment/1/saved_model.pb", "SUMMARY.md"):
        assert (out / artifact).exists(), artifact
    assert _servers_of(out) == []

    # Rerun: finished stages are reused; Ctrl-C while serving stops the server.
    # A shell starting a job in the background (`cmd &`, as some CI runners
    # do) hands it SIGINT ignored, and Python then never raises
    # KeyboardInterrupt: give the rerun the default disposition a terminal has.
    rerun = subprocess.Popen(_demo(out), cwd=REPO, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # Read the output up to the serving stage's banner (this also keeps the
    # pipe drained), then interrupt as soon as its server process exists.
    before = []
    for line in rerun.stdout:
        before.append(line)
        if "=== [5/5] serve" in line:
            break
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _servers_of(out):
        time.sleep(0.02)
    servers = _servers_of(out)
    assert servers, "the rerun never started its server: " + "".join(before)[-3000:]
    rerun.send_signal(signal.SIGINT)
    lines = "".join(before) + rerun.communicate(timeout=120)[0]
    assert rerun.returncode != 0, lines[-3000:]  # interrupted
    assert lines.count("reusing") == 3, lines[-3000:]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _servers_of(out):
        time.sleep(0.2)
    assert _servers_of(out) == [], "a development server outlived the interrupted main job"

    # A changed recipe (here the step count) pretrains again, and the stages
    # downstream of it do not reuse results built on the old model.
    changed = subprocess.run(_demo(out) + ["--pretrain-steps", "10"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=1200)
    assert changed.returncode == 0, changed.stdout[-2000:] + changed.stderr[-4000:]
    assert "pretraining again" in changed.stdout and "reusing" not in changed.stdout
    assert json.loads((out / "pretrain" / "final_metrics.json").read_text())["step"] == 10

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import albert_tf
from albert_tf import PRESETS, AlbertBackbone, AlbertClassifier, saving
from tests.helpers.models import random_batch


def test_save_and_load_directory_round_trip(tmp_path):
    model = AlbertClassifier(AlbertBackbone(PRESETS["albert_tiny"]), num_classes=2)
    batch = random_batch(PRESETS["albert_tiny"])
    tokenizer = saving.load_tokenizer(None, do_lower_case=False, keep_accents=True)
    saving.save(model, tmp_path / "clf", tokenizer=tokenizer, task_info={"task": "classification"})
    restored = albert_tf.load(tmp_path / "clf")
    np.testing.assert_array_equal(model(batch), restored(batch))
    assert (tmp_path / "clf" / "spiece.model").read_bytes() == tokenizer.proto
    reloaded = saving.load_tokenizer(tmp_path / "clf")
    assert (reloaded.do_lower_case, reloaded.keep_accents) == (False, True)
    assert saving.read_task_info(tmp_path / "clf") == {"task": "classification"}
    with pytest.raises(FileExistsError, match="already exists"):
        saving.save(model, tmp_path / "clf")


def test_failed_save_leaves_nothing(tmp_path):
    class Unsavable(keras.Model):
        def save(self, *args, **kwargs):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        saving.save(Unsavable(), tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_load_missing_model_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nothing")):
        albert_tf.load(tmp_path / "nothing")


def test_cli_lists_every_command():
    result = subprocess.run(
        [sys.executable, "-m", "albert_tf.cli", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("vocab", "convert", "export", "create-pretraining-data", "pretrain",
                    "finetune", "evaluate", "serve", "query", "demo"):
        assert command in result.stdout


def test_cli_reports_bad_input_in_one_line_without_tensorflow_logs(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-m", "albert_tf.cli", "export", "--model-dir", str(tmp_path / "none"),
         "--output-dir", str(tmp_path / "export")],
        capture_output=True, text=True, env=env, timeout=300,
    )
    # TensorFlow is imported (the export command loads it) yet prints nothing.
    assert result.returncode == 2
    assert result.stderr == f"albert-tf: error: FileNotFoundError: No albert_tf model at {tmp_path / 'none'}\n"
    assert not (tmp_path / "export").exists()


def test_import_albert_tf_does_not_import_tensorflow():
    code = "import sys, albert_tf; assert 'tensorflow' not in sys.modules; print(albert_tf.AlbertBackbone.__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "AlbertBackbone\n"


def test_commands_restart_with_tcmalloc_where_the_system_has_it():
    import ctypes.util

    code = ("import os, sys; from albert_tf.cli import use_tcmalloc; use_tcmalloc(); "
            "maps = open('/proc/self/maps').read(); print(os.environ.get('LD_PRELOAD'), 'tcmalloc' in maps)")
    env = {key: value for key, value in os.environ.items() if key != "LD_PRELOAD"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    library = ctypes.util.find_library("tcmalloc_minimal")
    assert result.stdout == (f"{library} True\n" if library else "None False\n")
    # An LD_PRELOAD the user set (even empty) is theirs: no restart.
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(env, LD_PRELOAD=""), check=True)
    assert result.stdout == " False\n"

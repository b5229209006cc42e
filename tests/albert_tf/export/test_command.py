"""`albert-tf export`: saved model directory -> versioned SavedModel / TF Hub modules."""

import json

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertBackbone, AlbertClassifier, saving
from albert_tf.cli import main
from albert_tf.text import AlbertPreprocessor


@pytest.fixture(scope="module")
def saved_classifier(tmp_path_factory, tokenizer):
    model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=2)
    directory = tmp_path_factory.mktemp("saved") / "sentiment"
    saving.save(model, directory, tokenizer=tokenizer)
    return model, directory


def test_export_serving_model_with_labels(saved_classifier, tokenizer, tmp_path):
    model, directory = saved_classifier
    base = tmp_path / "models" / "sentiment"
    args = ["export", "--model-dir", str(directory), "--output-dir", str(base), "--labels", "negative, positive",
            "--seq-length", "32"]
    assert main(args) == 0
    assert main(args + ["--version", "7"]) == 0
    assert sorted(p.name for p in base.iterdir()) == ["1", "7"]
    metadata = json.loads((base / "1" / "assets" / "albert_export.json").read_text())
    assert metadata["labels"] == ["negative", "positive"] and metadata["seq_length"] == 32
    served = tf.saved_model.load(str(base / "7")).signatures["serving_default"]
    out = served(text=tf.constant(["what a film", "dull"]))
    packed = AlbertPreprocessor(tokenizer, 32, dynamic_padding=True)(tf.constant(["what a film", "dull"]))
    np.testing.assert_allclose(out["logits"], model(packed), atol=1e-6)
    assert set(out["labels"].numpy()) <= {b"negative", b"positive"}


def test_export_hub_modules(saved_classifier, tmp_path):
    _, directory = saved_classifier
    assert main(["export", "--model-dir", str(directory), "--output-dir", str(tmp_path / "enc"),
                 "--format", "encoder"]) == 0
    assert (tmp_path / "enc" / "assets" / "spiece.model").is_file()
    assert main(["export", "--output-dir", str(tmp_path / "pre"), "--format", "preprocess", "--seq-length", "20"]) == 0
    packed = tf.saved_model.load(str(tmp_path / "pre"))(tf.constant(["hello"]))
    assert packed["input_word_ids"].shape == (1, 20)


def test_model_is_required_for_serving(tmp_path):
    with pytest.raises(SystemExit, match="--model-dir is required"):
        main(["export", "--output-dir", str(tmp_path / "x")])


def test_casing_defaults_to_the_model_directory_and_a_flag_overrides_it(tmp_path, capsys):
    model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=2)
    saving.save(model, tmp_path / "cased", tokenizer=saving.load_tokenizer(None, do_lower_case=False))

    def exported_casing(*flags):
        base = tmp_path / "models" / "_".join(flags or ("recorded",))
        assert main(["export", "--model-dir", str(tmp_path / "cased"), "--output-dir", str(base),
                     "--seq-length", "16", *flags]) == 0
        return json.loads((base / "1" / "assets" / "albert_export.json").read_text())["tokenizer"]["do_lower_case"]

    assert exported_casing() is False
    assert exported_casing("--lower-case") is True
    # The old spellings still work, and say what to use instead.
    assert main(["export", "--model", str(tmp_path / "cased"), "--out", str(tmp_path / "old"),
                 "--format", "encoder", "--no-lower-case"]) == 0
    assert "--model is deprecated; use --model-dir" in capsys.readouterr().err

"""`albert-tf predict`: a file of texts through an export, sorted by length,
answers equal to the signature called on each text alone, resumable."""

import json

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertBackbone, AlbertClassifier, AlbertTokenClassifier, resources
from albert_tf.cli import main
from albert_tf.export import export_saved_model, predict

ROWS = 24


@pytest.fixture(scope="module")
def sentiment_export(tmp_path_factory, tokenizer):
    model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=2)
    base = tmp_path_factory.mktemp("exports") / "sentiment"
    export_saved_model(model, tokenizer, base, seq_length=64, labels=["negative", "positive"])
    return base


@pytest.fixture(scope="module")
def snippets(tmp_path_factory):
    """The first ROWS movie review snippets (9 to 50+ words) as TSV, with an id column."""
    lines = resources.path("movie_review_snippets.tsv").read_text(encoding="utf-8").splitlines()[1:ROWS + 1]
    path = tmp_path_factory.mktemp("input") / "snippets.tsv"
    path.write_text("id\ttext\n" + "".join(f"r{i}\t{line.split(chr(9))[2]}\n" for i, line in enumerate(lines)))
    return path


def test_answers_equal_each_text_served_alone_in_input_order(sentiment_export, snippets, tmp_path):
    output = tmp_path / "predictions.tsv"
    assert main(["predict", "--export-dir", str(sentiment_export), "--input-file", str(snippets),
                 "--output-file", str(output), "--batch-size", "5", "--quiet"]) == 0
    rows = predict.read_rows(output)
    inputs = predict.read_rows(snippets)
    assert [row["id"] for row in rows] == [f"r{i}" for i in range(ROWS)]
    assert [row["text"] for row in rows] == [row["text"] for row in inputs]
    served = tf.saved_model.load(str(sentiment_export / "1")).signatures["serving_default"]
    for row in rows:
        alone = served(text=tf.constant([row["text"]]))
        np.testing.assert_allclose(json.loads(row["probabilities"]), alone["probabilities"][0], atol=1e-5)
        assert row["labels"] == alone["labels"][0].numpy().decode()
    assert not (tmp_path / "predictions.tsv.partial").exists()


def test_a_crash_loses_at_most_one_batch_and_a_rerun_goes_on(sentiment_export, snippets, tmp_path, monkeypatch):
    whole = tmp_path / "whole.jsonl"
    predict.predict_file(sentiment_export, snippets, whole, batch_size=4, progress=False)

    output = tmp_path / "out.jsonl"
    written = []

    def write_then_fail(path, data):
        # The disk fills up while the third batch is written.
        if path.name.startswith("batch-"):
            if len(written) == 2:
                raise OSError(28, "No space left on device")
            written.append(path.name)
        return real_write(path, data)

    real_write = predict.atomic_write
    monkeypatch.setattr(predict, "atomic_write", write_then_fail)
    with pytest.raises(OSError, match="No space left"):
        predict.predict_file(sentiment_export, snippets, output, batch_size=4, progress=False)
    monkeypatch.undo()
    assert not output.exists()
    assert sorted(p.name for p in (tmp_path / "out.jsonl.partial").iterdir()) == [
        "batch-000000.json", "batch-000001.json", "meta.json"]

    result = predict.predict_file(sentiment_export, snippets, output, batch_size=4, progress=False)
    assert (result["batches"], result["resumed_batches"]) == (6, 2)
    assert output.read_text() == whole.read_text()
    # Another batch size computes everything again.
    predict.predict_file(sentiment_export, snippets, tmp_path / "other.jsonl", batch_size=7, progress=False)
    assert not (tmp_path / "other.jsonl.partial").exists()


def test_token_level_outputs_are_cut_to_each_rows_tokens(tokenizer, tmp_path):
    model = AlbertTokenClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=3)
    export_saved_model(model, tokenizer, tmp_path / "tagger", seq_length=32, labels=["O", "B", "I"])
    source = tmp_path / "texts.jsonl"
    texts = ["Paris", "Zoë Smith wrote it in Paris last year"]
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    predict.predict_file(tmp_path / "tagger", source, tmp_path / "tags.jsonl", progress=False)
    rows = predict.read_rows(tmp_path / "tags.jsonl")
    served = tf.saved_model.load(str(tmp_path / "tagger" / "1")).signatures["serving_default"]
    for text, row in zip(texts, rows):
        alone = served(text=tf.constant([text]))
        length = int(alone["input_mask"][0].numpy().sum())
        assert [t.decode() for t in alone["tokens"][0, :length].numpy()] == row["tokens"]
        assert len(row["labels"]) == len(row["input_mask"]) == length


def test_bad_input_is_named(sentiment_export, snippets, tmp_path):
    source = tmp_path / "reviews.csv"
    source.write_text("id,review\n1,fine\n")
    with pytest.raises(ValueError, match=r"reads columns \['text'\]; missing \['text'\] \(columns: \['id', 'review'\]\)"):
        predict.predict_file(sentiment_export, source, tmp_path / "out.csv", progress=False)
    with pytest.raises(ValueError, match=r"output .*out.parquet: unknown format '.parquet'"):
        predict.predict_file(sentiment_export, snippets, tmp_path / "out.parquet", progress=False)
    with pytest.raises(FileNotFoundError, match="No exported SavedModel at"):
        predict.predict_file(tmp_path, snippets, tmp_path / "out.csv", progress=False)
    ragged = tmp_path / "ragged.tsv"
    ragged.write_text("id\ttext\n1\tfine\textra\n")
    with pytest.raises(ValueError, match="ragged.tsv:2: 2 header fields"):
        predict.read_rows(ragged)
    assert not (tmp_path / "out.csv").exists()

"""`SpanQATask` on document-stride windows: batches of windows, labels in the
window that holds the answer, a long context learnt end to end, and the
position limit checked before any data is read."""

import keras
import numpy as np
import pytest

import albert_tf
from training.data import readers
from training.loops import finetune
from training.tasks.span_qa import SpanQATask

ANSWER = "Melville"


@pytest.fixture(scope="module")
def long_example():
    """The issue's case: a 3,274-character context whose answer starts at character 3,266."""
    text = " ".join(e.context for e in readers.disfl_qa("dev")[:40])
    context = text[:3265] + " " + ANSWER
    assert (len(context), context.index(ANSWER, 3200)) == (3274, 3266)
    return readers.SquadExample("long", "Who wrote the book?", context, [{"text": ANSWER, "answer_start": 3266}])


def _pieces(task, ids):
    return [p.decode() for p in task.tokenizer.id_to_piece(ids).numpy()]


def test_the_answer_near_the_end_is_labelled_in_the_last_window(long_example):
    task = SpanQATask(albert_tf.AlbertTokenizer(), seq_length=128, doc_stride=64)
    batches = list(task._batches([long_example], batch_size=4))
    assert [len(b[0]["input_word_ids"]) for b in batches[:-1]] == [4] * (len(batches) - 1)
    assert task.num_batches([long_example], batch_size=4) == len(batches)
    ids = np.concatenate([b[0]["input_word_ids"] for b in batches])
    start, end = (np.concatenate([b[1][head] for b in batches]) for head in ("start_logits", "end_logits"))
    example_ids = np.concatenate([b[4] for b in batches])
    assert len(ids) > 5 and (example_ids == 0).all()
    # One window (the old packing) had no answer: label (0, 0).
    assert (start[0], end[0]) == (0, 0)
    assert start[-1] > 0 and _pieces(task, ids[-1][start[-1]:end[-1] + 1]) == ["▁melville"]
    assert (start[:-2] == 0).all()


def test_a_long_context_is_learnt_and_decoded_across_its_windows(long_example):
    task = SpanQATask(albert_tf.AlbertTokenizer(), seq_length=128, doc_stride=64, version_2=False)
    model = task.build_model(albert_tf.AlbertBackbone.from_preset("albert_tiny"), [long_example])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), **task.compile_args())
    windows = task.dataset([long_example], batch_size=16).cache()
    history = model.fit(windows, epochs=25, verbose=0).history["loss"]
    assert history[-1] < 0.2 * history[0]
    decoded = task.decode(model, [long_example], batch_size=4)["long"]
    assert (decoded.text, decoded.start_char, decoded.end_char) == (ANSWER, 3266, 3274)


def test_seq_length_above_the_position_limit_fails_before_any_data_is_read(tmp_path):
    config = {
        "task": "span_qa",
        # No such files: reading data first would raise FileNotFoundError.
        "data": {"format": "squad_json", "train": str(tmp_path / "absent.json"), "dev": str(tmp_path / "absent.json"),
                 "seq_length": 1024},
        "model": {"preset": "albert_tiny"},
        "output_dir": str(tmp_path / "run"),
    }
    with pytest.raises(ValueError, match="data.seq_length: seq_length=1024 exceeds max_position_embeddings=512"):
        finetune.run_finetuning(config)
    assert not (tmp_path / "run").exists()


def test_doc_stride_is_a_task_option_and_is_checked():
    task = SpanQATask(albert_tf.AlbertTokenizer(), seq_length=64, doc_stride=16)
    assert task.preprocessor.doc_stride == 16 and task.preprocessor.max_question_length == 32
    task = SpanQATask(albert_tf.AlbertTokenizer(), seq_length=64, doc_stride=0)
    with pytest.raises(ValueError, match="doc_stride must be an int >= 1"):
        task.num_batches([readers.SquadExample("q", "Where?", "Here.", [], True)], batch_size=8)

"""Span QA export: windows made, run and merged per question inside the graph.

The reference is `training.squad.decode_span` over the same windows. The
graph searches every (start, end) pair of a window while decode_span takes
the `n_best_size` best starts and ends, so the reference is called with
`n_best_size` = T (every position): the two then rank the same candidates,
and the answers must be equal, not close. `version_2=False` because the
graph returns the best span whatever the null score (the caller thresholds
`null_score_diff`).
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertBackbone, AlbertSpanQA
from albert_tf.backbone import INPUT_NAMES
from albert_tf.export import export_saved_model
from albert_tf.export.serving_modules import _merge_answers
from albert_tf.export.warmup import read_warmup_requests
from albert_tf.text import AlbertQAPreprocessor
from tests.helpers.export import long_contexts
from training.squad import decode_span

SEQ_LENGTH, DOC_STRIDE, MAX_ANSWER_LENGTH = 64, 24, 8
# Single pieces of the 30k vocabulary that the test model is made to answer
# with: a span starts on START_WORD and ends on END_WORD.
START_WORD, END_WORD = "zebra", "violin"
# Lone "▁" pieces (before "(" and "y"): tokens whose span is one space.
SPACED = "The sum x + y = z holds (always) here, as the old rule of thumb says."


def mark(context, fraction):
    """`context` with "zebra and violin" at `fraction` of its words: the answer to find."""
    words = context.split(" ")
    at = int(fraction * (len(words) - 3))
    words[at:at + 3] = [START_WORD, "and", END_WORD]
    return " ".join(words)


def reference_answers(contexts, windows, start_logits, end_logits):
    """decode_span over each question's windows, every (start, end) pair searched."""
    example_index = windows["example_index"].numpy()
    offsets = np.stack([windows["token_start_char"].numpy(), windows["token_end_char"].numpy()], axis=-1)
    max_context = windows["token_is_max_context"].numpy() > 0
    every_position = start_logits.shape[1]
    answers = []
    for row, context in enumerate(contexts):
        rows = np.flatnonzero(example_index == row)
        answers.append(decode_span(
            context,
            [{"start_logits": start_logits[w], "end_logits": end_logits[w], "offsets": offsets[w],
              "max_context": max_context[w]} for w in rows],
            n_best_size=every_position, max_answer_length=MAX_ANSWER_LENGTH, version_2=False,
        ))
    return answers


def assert_same_answers(out, expected, score_atol):
    got = {k: np.asarray(v) for k, v in out.items()}
    assert [t.decode() for t in got["answer_text"]] == [p.text for p in expected]
    assert got["answer_start"].tolist() == [p.start_char for p in expected]
    assert got["answer_end"].tolist() == [p.end_char for p in expected]
    # The graph sums in float64, as decode_span does, then casts to float32.
    expected_diffs = np.float32([p.null_score_diff for p in expected])
    np.testing.assert_allclose(got["null_score_diff"], expected_diffs, rtol=0, atol=score_atol)
    found = got["answer_start"] >= 0
    expected_scores = np.float32([p.n_best[0]["start_logit"] + p.n_best[0]["end_logit"] for p in expected])
    np.testing.assert_allclose(got["answer_score"][found], expected_scores[found], rtol=0, atol=score_atol)
    np.testing.assert_array_equal(got["answer_score"][~found], 0.0)


@pytest.fixture(scope="module")
def preprocessor(tokenizer):
    return AlbertQAPreprocessor(tokenizer, SEQ_LENGTH, doc_stride=DOC_STRIDE, dynamic_padding=True)


def test_merge_equals_decode_span_on_random_logits(preprocessor):
    contexts = long_contexts(10) + ["Paris is in France.", SPACED, SPACED, ""]
    questions = ["What is it?"] * len(contexts)
    windows = preprocessor(tf.constant(questions), tf.constant(contexts))
    example_index = windows["example_index"].numpy()
    rng = np.random.default_rng(0)
    start_logits = rng.normal(0.0, 2.0, windows["input_word_ids"].shape).astype("float32")
    end_logits = rng.normal(0.0, 2.0, windows["input_word_ids"].shape).astype("float32")
    # The two SPACED questions: best start on a lone "▁" token (a span
    # starting on a space), then best start AND end on it (a span of only a
    # space, never an answer: the next best span wins).
    pieces = [p.decode() for p in preprocessor.tokenizer.id_to_piece(windows["input_word_ids"]).numpy().ravel()]
    pieces = np.array(pieces).reshape(windows["input_word_ids"].shape)
    for row, ends_on_space in ((11, False), (12, True)):
        (window,) = np.flatnonzero(example_index == row)
        space = list(pieces[window]).index("▁", 5)  # after [CLS] question [SEP]
        start_logits[window, space] = 30.0
        end_logits[window, space if ends_on_space else space + 1] = 30.0

    out = _merge_answers(tf.constant(contexts), windows, tf.constant(start_logits), tf.constant(end_logits),
                         MAX_ANSWER_LENGTH)
    expected = reference_answers(contexts, windows, start_logits, end_logits)
    assert_same_answers(out, expected, score_atol=0)  # same float64 sums, same float32 cast
    assert expected[11].text == "y" and expected[12].text not in ("", " ")
    assert (expected[-1].text, expected[-1].start_char, expected[-1].null_score_diff) == ("", -1, np.inf)
    assert min(np.bincount(example_index)[:10]) >= 4  # the long contexts make several windows


@pytest.fixture(scope="module")
def marked_model(preprocessor):
    """Random tiny weights, with the span head pointed at START_WORD / END_WORD.

    Their embedding rows are scaled up so that the encoder's output at
    them hardly depends on the position or the neighbours; the start and
    end kernels read the direction of those outputs. Everything else stays
    random, so spans elsewhere still compete on random logits.
    """
    keras.utils.set_random_seed(7)
    model = AlbertSpanQA(AlbertBackbone.from_preset("albert_tiny"))
    marker_ids = [int(preprocessor.tokenizer.tokenize([w])[0, 0]) for w in (START_WORD, END_WORD)]
    table = next(v for v in model.backbone.weights if "word_embeddings" in v.path)
    rows = table.numpy()
    rows[marker_ids] *= 30.0
    table.assign(rows)

    probe = [mark(c, f) for c, f in zip(long_contexts(4), (0.1, 0.4, 0.6, 0.9))]
    windows = preprocessor(tf.constant(["Where?"] * len(probe)), tf.constant(probe))
    hidden = model.backbone({n: windows[n] for n in INPUT_NAMES})["sequence_output"].numpy()
    ids = windows["input_word_ids"].numpy()
    mean = hidden[(windows["input_mask"].numpy() > 0) & ~np.isin(ids, marker_ids)].mean(axis=0)
    directions = [hidden[ids == i].mean(axis=0) - mean for i in marker_ids]
    kernel = 20.0 * np.stack([d / np.linalg.norm(d) for d in directions], axis=1)
    model.span_dense.kernel.assign(kernel)
    model.span_dense.bias.assign(-mean @ kernel)
    return model


@pytest.fixture(scope="module")
def export(marked_model, tokenizer, tmp_path_factory):
    directory = export_saved_model(
        marked_model, tokenizer, tmp_path_factory.mktemp("qa") / "squad", seq_length=SEQ_LENGTH,
        doc_stride=DOC_STRIDE, max_answer_length=MAX_ANSWER_LENGTH,
    )
    return directory, tf.saved_model.load(str(directory))


def test_exported_answers_equal_decode_span_on_long_contexts(export, marked_model, preprocessor):
    _, loaded = export
    # Answers in the first, a middle and the last window, two unmarked long
    # contexts (random spans), a one-window context and a context with no
    # token at all.
    marked = [mark(c, f) for c, f in zip(long_contexts(7)[4:], (0.0, 0.5, 1.0))]
    contexts = marked + long_contexts(9)[7:] + ["Zebra and violin lessons start in 1851.", ""]
    questions = ["What is taught?", "Which animal?", "What plays?", "Who?", "When?", "What starts?", "Why?"]
    out = loaded.signatures["serving_default"](question=tf.constant(questions), context=tf.constant(contexts))

    windows = preprocessor(tf.constant(questions), tf.constant(contexts))
    logits = marked_model({n: windows[n] for n in INPUT_NAMES})
    expected = reference_answers(
        contexts, windows, logits["start_logits"].numpy(), logits["end_logits"].numpy()
    )
    assert_same_answers(out, expected, score_atol=1e-4)

    # The marked answers came from the first, a middle and the last window.
    assert [p.text for p in expected[:3]] == [f"{START_WORD} and {END_WORD}"] * 3
    example_index = windows["example_index"].numpy()
    ids = windows["input_word_ids"].numpy()
    start_id = int(preprocessor.tokenizer.tokenize([START_WORD])[0, 0])
    picked = []
    for row in range(3):
        rows = np.flatnonzero(example_index == row)
        flags = [(windows["token_is_max_context"].numpy()[w][ids[w] == start_id] > 0).any() for w in rows]
        picked.append((flags.index(True), len(rows)))
    assert picked[0][0] == 0
    assert 0 < picked[1][0] < picked[1][1] - 1
    assert picked[2][0] == picked[2][1] - 1
    assert min(count for _, count in picked) >= 4


def test_export_records_windowing_and_its_warmup_requests_run(export):
    directory, loaded = export
    metadata = json.loads((directory / "assets" / "albert_export.json").read_text())
    assert (metadata["task"], metadata["doc_stride"], metadata["max_answer_length"], metadata["seq_length"]) == (
        "span_qa", DOC_STRIDE, MAX_ANSWER_LENGTH, SEQ_LENGTH)
    serving_default = loaded.signatures["serving_default"]
    # One row per question in every output (TF Serving's batching needs it).
    assert {k: v.shape.as_list() for k, v in serving_default.structured_outputs.items()} == {
        k: [None] for k in ("answer_text", "answer_start", "answer_end", "answer_score", "null_score_diff")}
    for log in read_warmup_requests(directory):
        inputs = {k: tf.make_ndarray(v) for k, v in log.predict_log.request.inputs.items()}
        out = serving_default(**{k: tf.constant(v) for k, v in inputs.items()})
        assert out["answer_text"].shape == inputs["question"].shape
        for text, start, end, context in zip(out["answer_text"].numpy(), out["answer_start"].numpy(),
                                             out["answer_end"].numpy(), inputs["context"]):
            assert text.decode() == context.decode()[start:end] != ""


def test_serve_token_ids_is_per_window(export, marked_model, preprocessor):
    _, loaded = export
    windows = preprocessor(tf.constant(["Who?"]), tf.constant(long_contexts(1)))
    ids = {n: windows[n] for n in INPUT_NAMES}
    out = loaded.signatures["serve_token_ids"](**ids)
    expected = marked_model(ids)
    assert out["start_logits"].shape[0] == windows["example_index"].shape[0] > 1
    for name in ("start_logits", "end_logits"):
        np.testing.assert_allclose(out[name], expected[name], rtol=0, atol=1e-4)


def test_bad_input_and_bad_options_fail_clearly(export, marked_model, tokenizer, tmp_path):
    _, loaded = export
    with pytest.raises(tf.errors.InvalidArgumentError, match="question and context must have the same batch size"):
        loaded.signatures["serving_default"](question=tf.constant(["Who?", "When?"]), context=tf.constant(["Zoe."]))
    with pytest.raises(ValueError, match="doc_stride must be an int >= 1"):
        export_saved_model(marked_model, tokenizer, tmp_path, seq_length=SEQ_LENGTH, doc_stride=0)
    assert not list(tmp_path.iterdir())

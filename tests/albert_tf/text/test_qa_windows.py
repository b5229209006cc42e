"""Document-stride windows of `AlbertQAPreprocessor` against a plain-Python
reference of the original algorithm, on the shipped Disfl-QA contexts
(real SQuAD 2.0 contexts), and the answers they make reachable."""

import time

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.config import check_seq_length
from albert_tf.text import AlbertQAPreprocessor, check_serving_ops
from albert_tf.text.qa import char_span_to_token_span
from tests.helpers import qa as reference
from training.data import readers

SETTINGS = [(128, 64), (384, 128)]
BATCH = 1000
ANSWERABLE = 5893
# Answerable questions whose answer lies whole in the first window (what
# one cut-off window reached before) and in some window, with the default
# question budget (64 at 384/128, 60 at 128/64). With the original's 64 at
# 128/64, one question (disfl_qa-1876) keeps 64 pieces, leaving 61-piece
# windows that start 61 apart, and its answer straddles two of them.
REACHABLE = {(128, 64): (4195, 5893), (384, 128): (5860, 5893)}


@pytest.fixture(scope="module")
def examples():
    return [e for split in readers.SPLITS for e in readers.disfl_qa(split)]


def _answer(example):
    if not example.answers:
        return -1, -1
    answer = example.answers[0]
    return answer["answer_start"], answer["answer_start"] + len(answer["text"])


def graph_windows(tokenizer, examples, seq_length, doc_stride):
    """The preprocessor's windows and labels of `examples`, as NumPy arrays [W, ...]."""
    pre = AlbertQAPreprocessor(tokenizer, seq_length, doc_stride=doc_stride)
    parts = []
    for begin in range(0, len(examples), BATCH):
        batch = examples[begin:begin + BATCH]
        out = pre(tf.constant([e.question for e in batch]), tf.constant([e.context for e in batch]))
        starts, ends = np.array([_answer(e) for e in batch], np.int32).T
        index = out["example_index"]
        out["label_start"], out["label_end"] = char_span_to_token_span(
            out["token_start_char"], out["token_end_char"], tf.gather(starts, index), tf.gather(ends, index)
        )
        out = {key: value.numpy() for key, value in out.items()}
        out["example_index"] += begin
        parts.append(out)
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def reference_windows(tokenizer, examples, seq_length, doc_stride):
    """`tests.helpers.qa.windows` of every example, on the tokenizer's pieces."""
    pre = AlbertQAPreprocessor(tokenizer, seq_length, doc_stride=doc_stride)
    contexts = sorted({e.context for e in examples})
    ids, starts, ends = pre.tokenize_with_char_offsets(tf.constant(contexts))
    tokens = {
        context: (row_ids, list(zip(row_starts, row_ends)))
        for context, row_ids, row_starts, row_ends in zip(contexts, ids.to_list(), starts.to_list(), ends.to_list())
    }
    questions = tokenizer.tokenize(tf.constant([e.question for e in examples])).to_list()
    out = []
    for example, question_ids in zip(examples, questions):
        context_ids, spans = tokens[example.context]
        out.append(reference.windows(
            question_ids[:pre.max_question_length], context_ids, spans, seq_length, doc_stride,
            tokenizer.cls_id, tokenizer.sep_id, *_answer(example),
        ))
    return out


def compare(graph, expected):
    """Per-window agreement counts of the graph windows with the reference."""
    rows = np.split(np.arange(len(graph["example_index"])), np.cumsum([len(w) for w in expected])[:-1])
    counts = {"examples": len(expected), "windows": 0, "ids": 0, "offsets": 0, "max_context": 0, "labels": 0}
    for example, (windows, row_ids) in enumerate(zip(expected, rows)):
        assert (graph["example_index"][row_ids] == example).all() and len(row_ids) == len(windows), example
        for window, row in zip(windows, row_ids):
            length = int(graph["input_mask"][row].sum())
            counts["windows"] += 1
            counts["ids"] += graph["input_word_ids"][row, :length].tolist() == window.input_word_ids
            counts["offsets"] += (
                graph["token_start_char"][row, :length].tolist() == window.token_start_char
                and graph["token_end_char"][row, :length].tolist() == window.token_end_char
            )
            counts["max_context"] += graph["token_is_max_context"][row, :length].tolist() == window.token_is_max_context
            counts["labels"] += (graph["label_start"][row], graph["label_end"][row]) == window.label
    return counts


def reachable_count(graph, examples, first_window_only=False):
    """(answerable questions with a non-zero label in some window (or the first), answerable questions)."""
    labelled = graph["label_start"] > 0
    if first_window_only:
        labelled &= np.concatenate([[True], graph["example_index"][1:] != graph["example_index"][:-1]])
    reached = np.zeros(len(examples), bool)
    reached[graph["example_index"][labelled]] = True
    answerable = np.array([bool(e.answers) for e in examples])
    return int(reached[answerable].sum()), int(answerable.sum())


@pytest.mark.parametrize("seq_length, doc_stride", SETTINGS)
def test_windows_equal_the_reference_and_reach_the_answers_on_all_shipped_contexts(
    tokenizer, examples, seq_length, doc_stride
):
    began = time.perf_counter()
    graph = graph_windows(tokenizer, examples, seq_length, doc_stride)
    counts = compare(graph, reference_windows(tokenizer, examples, seq_length, doc_stride))
    print(f"\n({seq_length}, {doc_stride}): {counts} in {time.perf_counter() - began:.1f}s")
    windows = counts.pop("windows")
    assert counts.pop("examples") == len(examples) and windows > len(examples)
    assert counts == {key: windows for key in counts}

    first, answerable = reachable_count(graph, examples, first_window_only=True)
    every, _ = reachable_count(graph, examples)
    print(f"({seq_length}, {doc_stride}): reachable {first / answerable:.2%} with one window, "
          f"{every / answerable:.2%} with windows, of {answerable} answerable questions")
    assert (first, every) == REACHABLE[seq_length, doc_stride] and answerable == ANSWERABLE


def test_a_context_that_fits_gives_one_window_equal_to_a_single_pack(tokenizer):
    pre = AlbertQAPreprocessor(tokenizer, seq_length=64, doc_stride=8)
    contexts = ["  Zoë   Smith  wrote ``it'' in 2010.", "", "plain text"]
    out = pre(tf.constant(["Who wrote it?", "Anything?", "What?"]), tf.constant(contexts))
    assert out["example_index"].numpy().tolist() == [0, 1, 2]
    ids = tokenizer.tokenize(tf.constant(contexts)).to_list()
    question = tokenizer.tokenize(tf.constant(["Who wrote it?"])).to_list()[0]
    assert out["input_word_ids"][0, : len(question) + len(ids[0]) + 3].numpy().tolist() == (
        [tokenizer.cls_id] + question + [tokenizer.sep_id] + ids[0] + [tokenizer.sep_id]
    )
    # With one window every context token has its max context there.
    flags, starts = out["token_is_max_context"].numpy(), out["token_start_char"].numpy()
    np.testing.assert_array_equal(flags == 1, starts >= 0)


def test_windows_run_in_tf_data_and_a_serving_graph(tokenizer):
    pre = AlbertQAPreprocessor(tokenizer, seq_length=16, doc_stride=4, dynamic_padding=True)
    questions, contexts = ["Who?", "Where?"], ["one two three four five six seven eight nine ten eleven twelve", "Paris."]
    eager = pre(tf.constant(questions), tf.constant(contexts))
    ds = tf.data.Dataset.from_tensor_slices((questions, contexts)).batch(2).map(pre)
    (batched,) = list(ds)
    for key in eager:
        np.testing.assert_array_equal(batched[key], eager[key])
    assert eager["example_index"].numpy().tolist() == [0, 0, 1]
    assert pre.num_windows(tf.constant(questions), tf.constant(contexts)).numpy().tolist() == [2, 1]
    signature = tf.function(pre, input_signature=[tf.TensorSpec([None], tf.string)] * 2)
    check_serving_ops(signature.get_concrete_function())


def test_arguments_are_checked(tokenizer):
    with pytest.raises(ValueError, match="doc_stride must be an int >= 1"):
        AlbertQAPreprocessor(tokenizer, seq_length=64, doc_stride=0)
    with pytest.raises(ValueError, match=r"max_question_length must be an int in \[1, seq_length - 4 = 12\]"):
        AlbertQAPreprocessor(tokenizer, seq_length=16, max_question_length=13)
    with pytest.raises(ValueError, match="seq_length must be an int >= 5"):
        AlbertQAPreprocessor(tokenizer, seq_length=4)
    with pytest.raises(
        ValueError, match="AlbertQAPreprocessor: seq_length=1024 exceeds max_position_embeddings=512 of the model"
    ):
        AlbertQAPreprocessor(tokenizer, seq_length=1024, max_position_embeddings=512)
    assert AlbertQAPreprocessor(tokenizer, seq_length=512, max_position_embeddings=512).seq_length == 512
    with pytest.raises(ValueError, match="finetune --seq-length: seq_length=600 exceeds max_position_embeddings=512"):
        check_seq_length(600, 512, "finetune --seq-length")


def test_an_answer_is_labelled_only_in_windows_that_hold_it_whole(tokenizer):
    pre = AlbertQAPreprocessor(tokenizer, seq_length=12, max_question_length=2, doc_stride=2)
    context = "one two three four five six seven eight nine ten eleven twelve"
    out = pre(tf.constant(["Who?"]), tf.constant([context]))
    answer_start = context.index("five six")
    windows = len(out["example_index"])
    start, end = char_span_to_token_span(
        out["token_start_char"], out["token_end_char"], [answer_start] * windows,
        [answer_start + len("five six")] * windows,
    )
    pieces = [tokenizer.id_to_piece(out["input_word_ids"][w]).numpy() for w in range(windows)]
    labelled = [w for w in range(windows) if start[w] > 0]
    assert labelled and len(labelled) < windows
    for w in labelled:
        assert [p.decode() for p in pieces[w][start[w]:end[w] + 1]] == ["▁five", "▁six"]
    # Windows that hold only "six" (or only "five") label no answer.
    for w in set(range(windows)) - set(labelled):
        assert end[w] == 0 and start[w] == 0

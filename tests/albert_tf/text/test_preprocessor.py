"""Task preprocessors: QA character offsets, multiple choice, token classification."""

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.text import (
    AlbertMultipleChoicePreprocessor,
    AlbertPreprocessor,
    AlbertQAPreprocessor,
    AlbertTokenClassificationPreprocessor,
)
from albert_tf.text.qa import char_span_to_token_span

CONTEXTS = [
    "  Zoë   Smith  wrote ``it'' in 2010, for $1,000,000.  ",
    "Cafe\u0301 cre\u0300me\tand\n\nnaïve ﬁne ΣΑΣ words",
    "",
    "plain text",
]


def test_qa_offsets_point_into_the_original_context(tokenizer):
    qa = AlbertQAPreprocessor(tokenizer, seq_length=64)
    ids, starts, ends = qa.tokenize_with_char_offsets(tf.constant(CONTEXTS))
    assert ids.to_list() == tokenizer.tokenize(CONTEXTS).to_list()
    normalized, _ = qa.normalize_with_alignment(tf.constant(CONTEXTS))
    assert normalized.numpy().tolist() == tokenizer.normalize(CONTEXTS).numpy().tolist()
    spans = [[c[s:e] for s, e in zip(srow, erow)] for c, srow, erow in zip(CONTEXTS, starts.to_list(), ends.to_list())]
    assert spans[0] == ["Zoë", "Smith", "wrote", " ", "``", "it", "''", "in", "2010", ",", "for", "$1", ",000,000", "."]
    assert spans[1][:4] == ["Cafe\u0301", "cre\u0300", "me", "and"]
    assert "naïve" in spans[1] and "ﬁne" in spans[1] and "ΣΑΣ" in spans[1]
    assert spans[2] == [] and spans[3] == ["plain", "text"]


def test_qa_offsets_reconstruct_corpus_words(tokenizer, corpus_sentences):
    """Every token's span, normalized, equals its piece text (minus ▁), on real text."""
    from albert_tf.text import normalize_text

    qa = AlbertQAPreprocessor(tokenizer, seq_length=64)
    texts = corpus_sentences[:300]
    ids, starts, ends = qa.tokenize_with_char_offsets(tf.constant(texts))
    pieces = tokenizer.id_to_piece(ids).to_list()
    checked = 0
    for text, p_row, s_row, e_row in zip(texts, pieces, starts.to_list(), ends.to_list()):
        for piece, s, e in zip(p_row, s_row, e_row):
            piece = piece.decode().replace("\u2581", "")
            if piece and piece != "<unk>":
                assert normalize_text(text[s:e]) == piece, (text, piece, text[s:e])
                checked += 1
    assert checked > 5000


def test_qa_packing_and_answer_positions(tokenizer):
    qa = AlbertQAPreprocessor(tokenizer, seq_length=32, max_question_length=4)
    context = "  Zoë   Smith  wrote it in 2010."
    out = qa(tf.constant(["Who wrote it and when did they write it?"]), tf.constant([context]))
    ids, types, starts = (out[k][0].numpy() for k in ("input_word_ids", "input_type_ids", "token_start_char"))
    assert ids[0] == tokenizer.cls_id and ids[5] == tokenizer.sep_id  # 4 question pieces kept
    assert (types[:6] == 0).all() and (types[6:][out["input_mask"][0].numpy()[6:] == 1] == 1).all()
    assert (starts[:6] == -1).all() and starts[6] == context.index("Zoë")
    answer = context.index("Zoë Smith") if "Zoë Smith" in context else context.index("Zoë")
    begin, end = char_span_to_token_span(out["token_start_char"], out["token_end_char"], [answer], [context.index("Smith") + 5])
    assert (begin.numpy()[0], end.numpy()[0]) == (6, 7)
    none = char_span_to_token_span(out["token_start_char"], out["token_end_char"], [-1], [-1])
    assert (none[0].numpy()[0], none[1].numpy()[0]) == (0, 0)


def test_multiple_choice_shapes_and_rows(tokenizer):
    mc = AlbertMultipleChoicePreprocessor(tokenizer, seq_length=12)
    out = mc(tf.constant(["The sky is", "Grass is"]), tf.constant([["blue", "green", "loud"], ["green", "red", "x"]]))
    assert out["input_word_ids"].shape == (2, 3, 12)
    pair = AlbertPreprocessor(tokenizer, seq_length=12, truncation="longest_first")(
        tf.constant(["Grass is"]), tf.constant(["red"])
    )
    np.testing.assert_array_equal(out["input_word_ids"][1, 1], pair["input_word_ids"][0])
    np.testing.assert_array_equal(out["input_type_ids"][1, 1], pair["input_type_ids"][0])
    with pytest.raises(ValueError, match="choices must be tf.string \\[B, C\\]"):
        mc(tf.constant(["a"]), tf.constant(["b"]))


def test_token_classification_word_ids(tokenizer):
    tc = AlbertTokenClassificationPreprocessor(tokenizer, seq_length=8)
    out = tc(tf.ragged.constant([["Moby", "Dick", "whale"], ["a"], ["one", "two", "three", "four", "five", "six", "seven"]]))
    words = out["word_ids"].numpy()
    np.testing.assert_array_equal(words[0][:6], [-1, 0, 0, 1, 2, -1])
    np.testing.assert_array_equal(words[1][:4], [-1, 0, -1, -1])
    assert words[2][-1] == -1 and list(words[2][1:7]) == [0, 1, 2, 3, 4, 5]
    np.testing.assert_array_equal(out["input_mask"].numpy()[0], [1, 1, 1, 1, 1, 1, 0, 0])
    ids = tokenizer.tokenize(["Moby", "Dick", "whale"]).to_list()
    assert out["input_word_ids"].numpy()[0][1:5].tolist() == sum(ids, [])


def test_preprocessor_in_tf_data_and_scalars(tokenizer):
    pre = AlbertPreprocessor(tokenizer, seq_length=10)
    texts = ["one text", "another, longer text here"]
    batch = pre(tf.constant(texts))
    ds = tf.data.Dataset.from_tensor_slices(texts).map(pre).batch(2)
    (got,) = list(ds)
    for key in batch:
        np.testing.assert_array_equal(got[key], batch[key])
    with pytest.raises(ValueError, match="same shape"):
        pre(tf.constant(["a"]), tf.constant("b"))

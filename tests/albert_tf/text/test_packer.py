"""AlbertPacker: truncation modes against transformers, NumPy and tensorflow-text."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text as tf_text

from albert_tf.text import AlbertPacker, AlbertPreprocessor


def _round_robin_reference(len_a, len_b, budget):
    """One token from each segment in turn until the budget is spent."""
    keep = [0, 0]
    lengths = [len_a, len_b]
    while sum(keep) < budget and (keep[0] < len_a or keep[1] < len_b):
        for i in (0, 1):
            if keep[i] < lengths[i] and sum(keep) < budget:
                keep[i] += 1
    return keep


def test_round_robin_matches_numpy_and_tf_text():
    rng = np.random.default_rng(0)
    a_lengths, b_lengths = rng.integers(0, 20, 300), rng.integers(0, 20, 300)
    a = tf.RaggedTensor.from_row_lengths(tf.range(int(a_lengths.sum()), dtype=tf.int32) + 10, a_lengths)
    b = tf.RaggedTensor.from_row_lengths(tf.range(int(b_lengths.sum()), dtype=tf.int32) + 1000, b_lengths)
    for seq_length in (5, 12, 17, 40):
        packer = AlbertPacker(seq_length, cls_id=2, sep_id=3, pad_id=0, truncation="round_robin")
        kept = [s.row_lengths().numpy().tolist() for s in packer.trim([a, b])]
        expected = [_round_robin_reference(x, y, seq_length - 3) for x, y in zip(a_lengths, b_lengths)]
        assert list(zip(*kept)) == [tuple(e) for e in expected]
        trimmed = tf_text.RoundRobinTrimmer(seq_length - 3).trim([a, b])
        assert [t.to_list() for t in trimmed] == [t.to_list() for t in packer.trim([a, b])]


def test_pairs_equal_transformers_longest_first(tokenizer, hf_tokenizer, corpus_sentences):
    texts_a, texts_b = corpus_sentences[0:2000], corpus_sentences[2000:4000]
    rates = {}
    for truncation in ("longest_first", "round_robin"):
        for seq_length in (16, 33, 64):
            pre = AlbertPreprocessor(tokenizer, seq_length=seq_length, truncation=truncation)
            ours = {k: [] for k in ("input_word_ids", "input_type_ids", "input_mask")}
            for i in range(0, len(texts_a), 500):
                out = pre(tf.constant(texts_a[i:i + 500]), tf.constant(texts_b[i:i + 500]))
                for k in ours:
                    ours[k].append(out[k].numpy())
            ours = {k: np.concatenate(v) for k, v in ours.items()}
            hf = hf_tokenizer(texts_a, texts_b, truncation=True, max_length=seq_length, padding="max_length",
                                return_token_type_ids=True)
            # Compare on the pairs where the two tokenizations of the text agree
            # (transformers 5.x's differences are named in test_tokenizer.py).
            same_text = [
                hf_tokenizer(a, add_special_tokens=False)["input_ids"] == x and
                hf_tokenizer(b, add_special_tokens=False)["input_ids"] == y
                for a, b, x, y in zip(texts_a[:300], texts_b[:300],
                                      tokenizer.tokenize(texts_a[:300]).to_list(),
                                      tokenizer.tokenize(texts_b[:300]).to_list())
            ]
            rows = [i for i, ok in enumerate(same_text) if ok]
            match = np.mean([
                (ours["input_word_ids"][i] == hf["input_ids"][i]).all()
                and (ours["input_type_ids"][i] == hf["token_type_ids"][i]).all()
                and (ours["input_mask"][i] == hf["attention_mask"][i]).all()
                for i in rows
            ])
            rates[truncation, seq_length] = match
    print("\npacked-pair exact-match rate vs transformers:", rates)
    assert all(rates["longest_first", n] == 1.0 for n in (16, 33, 64))
    assert rates["round_robin", 16] < 1.0  # odd budget 13: the spare token goes to A, not B


def test_layout_types_mask_and_dynamic_padding():
    a = tf.ragged.constant([[10, 11, 12], [13]])
    b = tf.ragged.constant([[20, 21, 22, 23], [24, 25]])
    out = AlbertPacker(8, cls_id=2, sep_id=3, pad_id=0)([a, b])
    # Budget 5 for lengths 3 and 4: round robin keeps 3 + 2.
    np.testing.assert_array_equal(out["input_word_ids"], [[2, 10, 11, 12, 3, 20, 21, 3], [2, 13, 3, 24, 25, 3, 0, 0]])
    np.testing.assert_array_equal(out["input_type_ids"], [[0, 0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1, 0, 0]])
    np.testing.assert_array_equal(out["input_mask"], [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 0]])
    single = AlbertPacker(6, cls_id=2, sep_id=3, pad_id=0, dynamic_padding=True)([tf.ragged.constant([[7, 8], [9]])])
    np.testing.assert_array_equal(single["input_word_ids"], [[2, 7, 8, 3], [2, 9, 3, 0]])
    long = AlbertPacker(6, cls_id=2, sep_id=3, pad_id=0, dynamic_padding=True)([tf.ragged.constant([list(range(10, 30))])])
    assert long["input_word_ids"].shape == (1, 6)
    # Waterfall keeps the first segment whole when it fits.
    water = AlbertPacker(8, 2, 3, 0, truncation="waterfall")([tf.ragged.constant([[1, 1, 1, 1]]), tf.ragged.constant([[5, 5, 5]])])
    np.testing.assert_array_equal(water["input_word_ids"], [[2, 1, 1, 1, 1, 3, 5, 3]])


def test_graph_mode_static_shape():
    packer = AlbertPacker(16, 2, 3, 0)
    fn = tf.function(lambda x: packer([x]), input_signature=[tf.RaggedTensorSpec([None, None], tf.int32)])
    out = fn.get_concrete_function().structured_outputs
    assert out["input_word_ids"].shape.as_list() == [None, 16]


def test_bad_arguments():
    with pytest.raises(ValueError, match="seq_length must be an int >= 3"):
        AlbertPacker(2, 2, 3, 0)
    with pytest.raises(ValueError, match="truncation must be one of"):
        AlbertPacker(8, 2, 3, 0, truncation="middle_out")
    packer = AlbertPacker(8, 2, 3, 0)
    with pytest.raises(ValueError, match="list of 1 or 2 segments, got 3"):
        packer([tf.ragged.constant([[1]])] * 3)
    with pytest.raises(TypeError, match="integer ids"):
        packer([tf.ragged.constant([["a"]])])
    with pytest.raises(ValueError, match="\\[B, None\\]"):
        packer([tf.constant([1, 2, 3])])

"""Pretraining data: sentence splitting, SOP pairs, n-gram masking statistics,
byte-identical shards (seeded, parallel == serial) and the two readers."""

import gzip
import hashlib
import itertools

import numpy as np
import pytest

from albert_tf import resources
from albert_tf.text import masking
from training.data import creation as pd
from training.data import pipelines

SEQ, PRED = 128, 20


def _sotu_documents(count):
    docs = []
    for doc in pd.read_documents(resources.path("sotu.txt.gz")):
        docs.append(doc)
        if len(docs) == count:
            break
    return docs


@pytest.fixture(scope="module")
def vocab():
    return pd.PretrainingVocab()


@pytest.fixture(scope="module")
def corpus(vocab):
    """Tokenized sentences of the first SOTU addresses (real text, real vocabulary)."""
    docs = [[s for line in doc for s in pd.split_sentences(line)] for doc in _sotu_documents(30)]
    flat = vocab.encode([s for doc in docs for s in doc])
    it = iter(flat)
    return [[next(it) for _ in doc] for doc in docs]


@pytest.fixture(scope="module")
def masked_corpus(vocab, corpus):
    rng = np.random.default_rng(7)
    config = vocab.masking_config(PRED)
    rows = []
    for doc in corpus:
        for a, b, label in pd.create_segment_pairs(doc, SEQ, rng, vocab.start_pieces):
            ids, mask, segments = pd.pack_pair(a, b, SEQ, vocab.cls_id, vocab.sep_id, vocab.pad_id)
            masked, positions, labels, spans = masking.mask_tokens(ids, config, rng, mask)
            rows.append((ids, mask, masked, positions, labels, spans, label))
    return rows


def test_split_sentences():
    text = ("Mr. Smith went to Washington. He met J. Doe at 3 p.m. today! Did the U.S. agree? "
            "\"Yes,\" he said. 1990 was a good year.")
    assert pd.split_sentences(text) == [
        "Mr. Smith went to Washington.",
        "He met J. Doe at 3 p.m. today!",
        "Did the U.S. agree?",
        "\"Yes,\" he said.",
        "1990 was a good year.",
    ]
    assert pd.split_sentences("no capital after. so one sentence") == [
        "no capital after. so one sentence"
    ]


def test_read_documents_blank_line_and_gzip(tmp_path):
    path = tmp_path / "docs.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write("a one.\na two.\n\n\nb one.\n")
    assert list(pd.read_documents(path)) == [["a one.", "a two."], ["b one."]]


def test_masked_fraction_is_15_percent(masked_corpus, vocab):
    special = set(vocab.special_ids)
    maskable = sum(int(((m == 1) & ~np.isin(ids, list(special))).sum())
                   for ids, m, *_ in masked_corpus)
    predicted = sum(len(row[3]) for row in masked_corpus)
    assert len(masked_corpus) > 300
    assert abs(predicted / maskable - 0.15) < 0.01, predicted / maskable


def test_ngram_lengths_follow_inverse_n(masked_corpus):
    lengths = np.array([n for row in masked_corpus for _, _, n in row[5]])
    observed = np.bincount(lengths, minlength=4)[1:] / len(lengths)
    expected = masking.ngram_probabilities(3)  # 6/11, 3/11, 2/11
    assert len(lengths) > 2000
    np.testing.assert_allclose(observed, expected, atol=0.03)


def test_never_masks_special_or_padding_and_keeps_whole_words(masked_corpus, vocab):
    special = np.array(vocab.special_ids)
    for ids, mask, masked, positions, labels, spans, _ in masked_corpus:
        assert not np.isin(ids[positions], special).any()
        assert mask[positions].all()
        np.testing.assert_array_equal(labels, ids[positions])
        # Unpredicted tokens are untouched; [CLS]/[SEP]/padding stay as they were.
        untouched = np.ones(len(ids), bool)
        untouched[positions] = False
        np.testing.assert_array_equal(masked[untouched], ids[untouched])
        for start, end, _ in spans:
            # A span starts at a word start and ends before the next word.
            assert vocab.start_pieces[ids[start]] or np.isin(ids[start - 1], special)
            assert end == len(ids) or vocab.start_pieces[ids[end]] or np.isin(ids[end], special)
        assert len(positions) <= PRED


def test_replacement_is_80_10_10(masked_corpus, vocab):
    total = kept = as_mask = 0
    for ids, _, masked, positions, *_ in masked_corpus:
        total += len(positions)
        as_mask += int((masked[positions] == vocab.mask_id).sum())
        kept += int((masked[positions] == ids[positions]).sum())
    assert abs(as_mask / total - 0.8) < 0.02
    # "Unchanged" also catches random draws that hit the original (negligible at V=30k).
    assert abs(kept / total - 0.1) < 0.02
    assert abs((total - as_mask - kept) / total - 0.1) < 0.02


def test_sop_labels_balanced_and_order_is_the_label(masked_corpus):
    labels = np.array([row[6] for row in masked_corpus])
    assert abs(labels.mean() - 0.5) < 0.07
    # Sentences with increasing ids: label 0 keeps A before B, label 1 swaps them.
    rng = np.random.default_rng(0)
    start_pieces = np.ones(1000, bool)
    doc = [np.arange(100 + 10 * i, 100 + 10 * i + 6) for i in range(30)]
    pairs = pd.create_segment_pairs(doc, 40, rng, start_pieces, short_seq_prob=0.0)
    assert pairs
    for a, b, label in pairs:
        assert len(a) + len(b) <= 37
        assert (a.max() < b.min()) == (label == 0)
        assert (a.min() > b.max()) == (label == 1)


def test_single_sentence_chunk_is_split_inside_never_another_document():
    rng = np.random.default_rng(3)
    start_pieces = np.ones(1000, bool)
    sentence = np.arange(200, 260)  # one sentence longer than the target
    pairs = pd.create_segment_pairs([sentence], 64, rng, start_pieces, short_seq_prob=0.0)
    assert len(pairs) == 1
    a, b, label = pairs[0]
    both = np.sort(np.concatenate([a, b]))
    np.testing.assert_array_equal(both, sentence)
    # A sentence of one word cannot be split: skipped, not paired with another document.
    no_boundary = np.zeros(1000, bool)
    assert pd.create_segment_pairs([sentence], 64, rng, no_boundary, short_seq_prob=0.0) == []


def test_masking_config_rejects_bad_values():
    with pytest.raises(ValueError, match="masked_lm_prob"):
        masking.MaskingConfig(np.ones(10, bool), 4, (0, 2, 3, 4), masked_lm_prob=1.5)
    with pytest.raises(ValueError, match="max_ngram"):
        masking.ngram_probabilities(0)


def _digest(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.glob("*.tfrecord"))}


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("text")
    docs = _sotu_documents(4)
    for i, chunk in enumerate((docs[:2], docs[2:])):
        (root / f"part{i}.txt").write_text("\n\n".join("\n".join(d) for d in chunk) + "\n")
    return [str(root / "part0.txt"), str(root / "part1.txt")]


def test_same_seed_identical_shards_and_parallel_equals_serial(two_files, tmp_path):
    args = dict(max_seq_length=64, max_predictions_per_seq=10, holdout_every=2)
    serial = pd.create_pretraining_data(two_files, tmp_path / "a", seed=5, **args)
    pd.create_pretraining_data(two_files, tmp_path / "b", seed=5, **args)
    pd.create_pretraining_data(two_files, tmp_path / "c", seed=5, num_workers=2, **args)
    pd.create_pretraining_data(two_files, tmp_path / "d", seed=6, **args)
    a = _digest(tmp_path / "a")
    assert sorted(a) == [
        "eval-00000-of-00002.tfrecord", "eval-00001-of-00002.tfrecord",
        "train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord",
    ]
    assert serial["train_instances"] > 0 and serial["eval_instances"] > 0
    assert a == _digest(tmp_path / "b")
    assert a == _digest(tmp_path / "c")
    assert a != _digest(tmp_path / "d")
    # Only finished shards are visible: no temporary files left behind.
    assert not list((tmp_path / "a").glob(".*"))


def test_tfrecord_dataset_reads_original_features(two_files, tmp_path):
    meta = pd.create_pretraining_data(two_files[:1], tmp_path, max_seq_length=64,
                                      max_predictions_per_seq=10, seed=1)
    ds = pipelines.tfrecord_dataset(str(tmp_path / "train-*.tfrecord"), 4, 64, 10, training=False)
    batches = list(ds)
    assert sum(int(x["input_word_ids"].shape[0]) for x, _, _ in batches) == meta["train_instances"]
    x, y, w = batches[0]
    assert x["input_word_ids"].shape == (4, 64) and x["masked_lm_positions"].shape == (4, 10)
    assert y["sop_logits"].shape == (4,) and w["mlm_logits"].dtype.name == "float32"
    ids = x["input_word_ids"].numpy()
    assert (ids[:, 0] == 2).all()
    weights = w["mlm_logits"].numpy()
    np.testing.assert_array_equal(x["masked_lm_positions"].numpy()[weights == 0], 0)


def _examples(batches):
    """Each example of (x, y, w) batches as a hashable tuple, padding stripped."""
    rows = []
    for x, y, _ in batches:
        lengths = x["input_mask"].numpy().sum(axis=1)
        for i, length in enumerate(lengths):
            rows.append((tuple(x["input_word_ids"].numpy()[i, :length]),
                         tuple(x["masked_lm_positions"].numpy()[i]), int(y["sop_logits"][i])))
    return sorted(rows)


def test_length_buckets_cut_padding_and_keep_every_example(two_files, tmp_path):
    pd.create_pretraining_data(two_files[:1], tmp_path, max_seq_length=64,
                               max_predictions_per_seq=10, short_seq_prob=0.5, seed=1)
    files = str(tmp_path / "train-*.tfrecord")
    padded = list(pipelines.tfrecord_dataset(files, 4, 64, 10, training=False))
    bucketed = list(pipelines.tfrecord_dataset(files, 4, 64, 10, training=False, length_buckets=[16, 32]))
    lengths = [int(x["input_word_ids"].shape[1]) for x, _, _ in bucketed]
    assert set(lengths) <= {16, 32, 64} and min(lengths) < 64  # short batches were cut
    for x, _, w in bucketed:
        length = x["input_word_ids"].shape[1]
        real = x["input_mask"].numpy().sum(axis=1)
        assert length == min(b for b in (16, 32, 64) if b >= real.max())  # smallest bucket that fits
        assert x["input_mask"].shape[1] == x["input_type_ids"].shape[1] == length
        assert x["masked_lm_positions"].numpy()[w["mlm_logits"].numpy() > 0].max() < length
    assert _examples(bucketed) == _examples(padded)  # same examples, nothing lost

    # Resuming skips exactly the batches already consumed.
    train = pipelines.tfrecord_dataset(files, 4, 64, 10, seed=3, length_buckets=[16, 32])
    resumed = pipelines.tfrecord_dataset(files, 4, 64, 10, seed=3, length_buckets=[16, 32], skip_batches=5)
    for (x1, _, _), (x2, _, _) in zip(list(train.take(8))[5:], resumed.take(3)):
        np.testing.assert_array_equal(x1["input_word_ids"], x2["input_word_ids"])

    with pytest.raises(ValueError, match="length_buckets"):
        pipelines.tfrecord_dataset(files, 4, 64, 10, length_buckets=[16, 128])


def test_text_dataset_on_the_fly(two_files):
    def first(n, seed):
        ds = pipelines.text_dataset(two_files[:1], batch_size=4, seq_length=64,
                             max_predictions_per_seq=10, seed=seed)
        return list(itertools.islice(iter(ds), n))

    run1, run2 = first(3, 0), first(3, 0)
    for (x1, y1, w1), (x2, y2, w2) in zip(run1, run2):  # reproducible
        np.testing.assert_array_equal(x1["input_word_ids"], x2["input_word_ids"])
        np.testing.assert_array_equal(x1["masked_lm_positions"], x2["masked_lm_positions"])
    x, y, w = run1[0]
    weights = w["mlm_logits"].numpy()
    assert x["input_word_ids"].shape == (4, 64) and weights.shape == (4, 10)
    assert (weights.sum(axis=1) > 0).all()
    ids = x["input_word_ids"].numpy()
    positions = x["masked_lm_positions"].numpy()
    # Predicted positions are never [CLS]/[SEP]/padding in the packed input.
    assert not np.isin(np.take_along_axis(ids, positions, 1)[weights > 0], [0, 2, 3]).any()
    assert set(np.unique(y["sop_logits"].numpy())) <= {0, 1}
    other = first(1, 1)[0][0]["input_word_ids"].numpy()
    assert not np.array_equal(other, ids)

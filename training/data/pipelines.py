"""Input pipelines for pretraining: shards or raw text -> batches for `model.fit`.

`tfrecord_dataset` reads the shards `training.data.creation` writes;
`text_dataset` builds the same examples on the fly (tokenizes, pairs,
packs and masks afresh each epoch, for users who skip TFRecords). Both
can batch by length (`length_buckets`): each batch is cut to its bucket,
so short sequences do not pay for padding and an XLA step compiles at
most once per bucket.
"""

import numpy as np

from training.data.creation import (
    PretrainingVocab,
    check_documents,
    create_segment_pairs,
    expand_files,
    pack_pair,
    read_documents,
    split_sentences,
)

def _to_model_inputs(features):
    """Feature dict -> (x, y, sample_weight) for `AlbertPretrainer` + `model.fit`."""
    import tensorflow as tf

    x = {
        "input_word_ids": features["input_ids"],
        "input_mask": features["input_mask"],
        "input_type_ids": features["segment_ids"],
        "masked_lm_positions": features["masked_lm_positions"],
    }
    y = {"mlm_logits": features["masked_lm_ids"], "sop_logits": features["next_sentence_labels"]}
    weights = {
        "mlm_logits": features["masked_lm_weights"],
        "sop_logits": tf.ones_like(features["next_sentence_labels"], tf.float32),
    }
    return x, y, weights


def check_length_buckets(length_buckets, seq_length):
    """Validates `length_buckets` and returns them sorted, ending at `seq_length`.

    Raises:
        ValueError: a bucket below 2 or above `seq_length`.

    Example:
    >>> check_length_buckets([64, 32], seq_length=128)
    [32, 64, 128]
    """
    if not length_buckets:
        return None
    buckets = sorted({int(b) for b in length_buckets} | {int(seq_length)})
    if buckets[0] < 2 or buckets[-1] > seq_length:
        raise ValueError(
            f"length_buckets must lie in [2, seq_length={seq_length}], got {list(length_buckets)}"
        )
    return buckets


def _bucket_index(boundaries, length):
    """Index of the first bucket boundary >= `length` (int32 scalar tensors)."""
    import tensorflow as tf

    return tf.searchsorted(boundaries, length[None], side="left")[0]


def _batch(ds, batch_size, drop_remainder, buckets):
    """Batches padded single examples, grouping similar lengths when `buckets` is set.

    With buckets, each example goes to the first bucket that holds its real
    length (sum of `input_mask`) and batches are formed per bucket, so a
    batch can later be cut to its bucket's length by `_trim_to_bucket`.
    """
    import tensorflow as tf

    if not buckets:
        return ds.batch(batch_size, drop_remainder=drop_remainder)
    boundaries = tf.constant(buckets, tf.int32)

    def bucket_of(example):
        length = tf.reduce_sum(tf.cast(example["input_mask"], tf.int32))
        return tf.cast(_bucket_index(boundaries, length), tf.int64)

    return ds.group_by_window(
        key_func=bucket_of,
        reduce_func=lambda _, window: window.batch(batch_size, drop_remainder=drop_remainder),
        window_size=batch_size,
    )


def _trim_to_bucket(buckets):
    """Returns a map fn cutting a (x, y, w) batch's [B, T] inputs to their bucket length.

    Only len(buckets) distinct shapes reach the model, so an XLA-compiled
    step compiles at most once per bucket and never computes the padding
    beyond it.
    """
    import tensorflow as tf

    boundaries = tf.constant(buckets, tf.int32)

    def trim(x, y, w):
        longest = tf.reduce_max(tf.reduce_sum(x["input_mask"], axis=1))
        length = tf.gather(boundaries, _bucket_index(boundaries, longest))
        x = dict(x)
        for key in ("input_word_ids", "input_mask", "input_type_ids"):
            x[key] = x[key][:, :length]
        return x, y, w

    return trim


def tfrecord_dataset(
    file_pattern, batch_size, seq_length, max_predictions_per_seq, seed=0,
    training=True, skip_batches=0, length_buckets=None,
):
    """Reads shards written by `create_pretraining_data` for `model.fit`.

    Args:
        file_pattern: glob, list of globs or list of paths.
        batch_size: B (per step, before any distribution split).
        seq_length: T the shards were written with.
        max_predictions_per_seq: P the shards were written with.
        seed: shuffling seed (files and records); same seed, same order.
        training: shuffle and repeat forever; else one ordered pass.
        skip_batches: batches to skip (resuming where a run stopped).
        length_buckets: optional sequence lengths, e.g. [32, 64, 96]:
            examples are batched with others of the same bucket and each
            batch is cut to its bucket's length (T is then that length), so
            no step computes padding beyond it. Off by default.

    Returns:
        `tf.data.Dataset` of (x, y, sample_weight): x holds the
        `AlbertPretrainer` inputs int32 [B, T] / [B, P]; y `mlm_logits`
        [B, P] and `sop_logits` [B]; sample_weight `mlm_logits` [B, P]
        (masked_lm_weights) and `sop_logits` [B] (ones).
    """
    import tensorflow as tf

    files = expand_files(file_pattern)
    buckets = check_length_buckets(length_buckets, seq_length)
    spec = {
        "input_ids": tf.io.FixedLenFeature([seq_length], tf.int64),
        "input_mask": tf.io.FixedLenFeature([seq_length], tf.int64),
        "segment_ids": tf.io.FixedLenFeature([seq_length], tf.int64),
        "masked_lm_positions": tf.io.FixedLenFeature([max_predictions_per_seq], tf.int64),
        "masked_lm_ids": tf.io.FixedLenFeature([max_predictions_per_seq], tf.int64),
        "masked_lm_weights": tf.io.FixedLenFeature([max_predictions_per_seq], tf.float32),
        "next_sentence_labels": tf.io.FixedLenFeature([1], tf.int64),
    }

    def parse_features(records):
        features = tf.io.parse_example(records, spec)
        out = {k: (tf.cast(v, tf.int32) if v.dtype == tf.int64 else v) for k, v in features.items()}
        out["next_sentence_labels"] = out["next_sentence_labels"][:, 0]
        return out

    ds = tf.data.Dataset.from_tensor_slices(files)
    if training:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.interleave(
        tf.data.TFRecordDataset, cycle_length=min(4, len(files)), deterministic=True,
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    if training:
        ds = ds.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
    if buckets:
        # Parse in large vectorized batches, then regroup by length.
        ds = ds.batch(1024).map(parse_features, num_parallel_calls=tf.data.AUTOTUNE).unbatch()
        ds = _batch(ds, batch_size, training, buckets).map(_to_model_inputs)
    else:
        ds = ds.batch(batch_size, drop_remainder=training)
        ds = ds.map(lambda records: _to_model_inputs(parse_features(records)),
                    num_parallel_calls=tf.data.AUTOTUNE)
    if skip_batches:
        ds = ds.skip(skip_batches)
    if buckets:
        ds = ds.map(_trim_to_bucket(buckets))
    return ds.prefetch(tf.data.AUTOTUNE)


def text_dataset(
    input_files, batch_size, seq_length, max_predictions_per_seq, spm_model=None,
    masked_lm_prob=0.15, max_ngram=3, short_seq_prob=0.1, seed=0, skip_batches=0,
    holdout_every=0, split="train", length_buckets=None,
):
    """On-the-fly pretraining data: raw text in, masked batches out, new masks each epoch.

    Documents are read once; each epoch the tf.data pipeline tokenizes them
    with `AlbertTokenizer` (TF ops), builds fresh SOP pairs, packs them and
    applies fresh n-gram masking (NumPy via `tf.numpy_function`, the same
    code as the TFRecord writer). Per-element seeds come from
    `tf.data.Dataset.random(seed, rerandomize_each_iteration=True)`, so a
    run is reproducible and `skip_batches` resumes it. Repeats forever.

    Args:
        input_files: paths, globs or `resource:NAME`.
        batch_size, seq_length, max_predictions_per_seq: B, T, P.
        holdout_every, split: keep only the "train" or the "eval" documents
            of the same document-level split as `create_pretraining_data`.
        length_buckets: as in `tfrecord_dataset`.

    Returns:
        `tf.data.Dataset` of (x, y, sample_weight) as `tfrecord_dataset`.
    """
    import tensorflow as tf

    from albert_tf.text.masking import tf_mask_batch

    if split not in ("train", "eval"):
        raise ValueError(f"split must be 'train' or 'eval', got {split!r}")
    buckets = check_length_buckets(length_buckets, seq_length)
    vocab = PretrainingVocab(spm_model)
    masking = vocab.masking_config(max_predictions_per_seq, masked_lm_prob, max_ngram)
    documents = []
    for path in expand_files(input_files):
        for doc_index, doc in enumerate(check_documents(list(read_documents(path)), path)):
            is_eval = holdout_every and doc_index % holdout_every == holdout_every - 1
            if (split == "eval") == bool(is_eval):
                documents.append([s for line in doc for s in split_sentences(line)])
    if not documents:
        raise ValueError(f"No {split} documents in {input_files!r}")
    flat = tf.ragged.constant(documents, dtype=tf.string)

    def pairs_numpy(values, splits, element_seed):
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, int(element_seed) & 0xFFFFFFFFFFFF])
        sentences = [values[splits[i]:splits[i + 1]].astype(np.int64) for i in range(len(splits) - 1)]
        rows = [pack_pair(a, b, seq_length, vocab.cls_id, vocab.sep_id, vocab.pad_id) + (label,)
                for a, b, label in create_segment_pairs(
                    sentences, seq_length, rng, vocab.start_pieces, short_seq_prob)]
        if not rows:
            empty = np.zeros((0, seq_length), np.int32)
            return empty, empty, empty, np.zeros((0,), np.int32)
        ids, mask, segments, labels = (np.stack(col).astype(np.int32) for col in zip(*rows))
        return ids, mask, segments, labels

    def make_pairs(sentences, element_seed):
        tokens = vocab.tokenizer.tokenize(sentences)
        ids, mask, segments, labels = tf.numpy_function(
            pairs_numpy, [tokens.flat_values, tokens.row_splits, element_seed],
            [tf.int32] * 4, stateful=False,
        )
        for t in (ids, mask, segments):
            t.set_shape([None, seq_length])
        labels.set_shape([None])
        return tf.data.Dataset.from_tensor_slices(
            {"input_word_ids": ids, "input_mask": mask, "input_type_ids": segments,
             "next_sentence_labels": labels}
        )

    doc_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    mask_seeds = tf.data.Dataset.random(seed=seed + 1, rerandomize_each_iteration=True)
    ds = tf.data.Dataset.from_tensor_slices(flat).shuffle(
        len(documents), seed=seed, reshuffle_each_iteration=True
    )
    ds = tf.data.Dataset.zip(ds, doc_seeds).flat_map(make_pairs)
    ds = ds.shuffle(2048, seed=seed, reshuffle_each_iteration=True).repeat()
    ds = _batch(ds, batch_size, True, buckets)
    if skip_batches:
        ds = ds.skip(skip_batches)
    ds = tf.data.Dataset.zip(ds, mask_seeds).map(tf_mask_batch(masking, seed))

    def to_inputs(features):
        return _to_model_inputs({
            "input_ids": features["input_word_ids"],
            "input_mask": features["input_mask"],
            "segment_ids": features["input_type_ids"],
            "masked_lm_positions": features["masked_lm_positions"],
            "masked_lm_ids": features["masked_lm_ids"],
            "masked_lm_weights": features["masked_lm_weights"],
            "next_sentence_labels": features["next_sentence_labels"],
        })

    ds = ds.map(to_inputs)
    if buckets:
        ds = ds.map(_trim_to_bucket(buckets))
    return ds.prefetch(tf.data.AUTOTUNE)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

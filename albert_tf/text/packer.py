"""`AlbertPacker`: ragged segments -> `[CLS] A [SEP] (B [SEP])` model inputs.

Truncation is computed in closed form with core TensorFlow ops rather
than with tensorflow-text's `RoundRobinTrimmer`: the result is the same
(tests check it against both that trimmer and a NumPy reference), and the
exported graph then carries no `TFText>RoundRobinTrim` op, which TF
Serving 2.12-2.19 do not link.
"""

import tensorflow as tf

TRUNCATIONS = ("round_robin", "longest_first", "waterfall")


def trimmed_lengths(lengths, budget, truncation):
    """How many tokens of each segment to keep.

    Args:
        lengths: list of 1 or 2 int32 tensors [B], the segment lengths.
        budget: int, tokens available for the segments (seq_length minus
            the special tokens).
        truncation: "round_robin": take one token from each segment in
            turn (tensorflow-text `RoundRobinTrimmer`, google-research/albert
            `_truncate_seq_pair` up to ties); "longest_first": Hugging Face
            tokenizers' `LongestFirst` (the shorter keeps
            `max(len, budget - longer)`, an odd token left goes to the second
            segment unless the first is longer); "waterfall": the first
            segment keeps all it can, the second gets the rest.

    Returns:
        List of int32 tensors [B], the kept lengths.
    """
    if len(lengths) == 1:
        return [tf.minimum(lengths[0], budget)]
    a, b = lengths
    if truncation == "waterfall":
        keep_a = tf.minimum(a, budget)
        return [keep_a, tf.minimum(b, budget - keep_a)]
    half_up = (budget + 1) // 2
    half_down = budget // 2
    if truncation == "round_robin":
        # The first segment gets the odd token (it is served first).
        keep_a = tf.minimum(a, tf.maximum(budget - b, half_up))
        return [keep_a, tf.minimum(b, budget - keep_a)]
    # longest_first, as tokenizers' TruncationStrategy::LongestFirst.
    short = tf.minimum(a, b)
    fits = a + b <= budget
    short_keep = tf.where(short <= half_down, short, half_down)
    long_keep = tf.where(short <= half_down, budget - short, half_down + budget % 2)
    a_longer = a > b
    keep_a = tf.where(fits, a, tf.where(a_longer, long_keep, short_keep))
    keep_b = tf.where(fits, b, tf.where(a_longer, short_keep, long_keep))
    return [tf.minimum(keep_a, a), tf.minimum(keep_b, b)]


def _head(segment, keep):
    """First `keep[i]` items of each row of a ragged [B, None] tensor."""
    positions = tf.ragged.range(segment.row_lengths())
    return tf.ragged.boolean_mask(segment, positions < tf.cast(keep, positions.dtype)[:, None])


def _to_ragged(segment, name):
    if isinstance(segment, tf.RaggedTensor):
        pass
    else:
        segment = tf.convert_to_tensor(segment)
        if segment.shape.rank != 2:
            raise ValueError(f"{name}: each segment must be [B, None] (ragged or dense), got shape {segment.shape}")
        segment = tf.RaggedTensor.from_tensor(segment)
    if segment.shape.rank != 2:
        raise ValueError(f"{name}: each segment must be [B, None] (ragged), got rank {segment.shape.rank}")
    if not segment.dtype.is_integer:
        raise TypeError(f"{name}: segments must hold integer ids, got dtype {segment.dtype.name}")
    return tf.cast(segment, tf.int32).with_row_splits_dtype(tf.int64)


def assemble(segments, first, separator, pad, seq_length, dynamic_padding):
    """`first A separator (B separator)` padded to [B, T] with `pad`.

    `segments` are already trimmed ragged [B, None] tensors of any dtype;
    `first`/`separator`/`pad` are scalars of that dtype. Also returns the
    type ids and the mask (int32 [B, T]).
    """
    batch = segments[0].nrows()
    dtype = segments[0].dtype

    def column(value, column_dtype):
        return tf.RaggedTensor.from_tensor(tf.fill([batch, 1], tf.cast(value, column_dtype)))

    pieces = [column(first, dtype)]
    type_pieces = [column(0, tf.int32)]
    for index, segment in enumerate(segments):
        type_value = min(index, 1)
        pieces += [segment, column(separator, dtype)]
        type_pieces += [
            segment.with_flat_values(tf.fill(tf.shape(segment.flat_values), type_value)),
            column(type_value, tf.int32),
        ]
    combined = tf.concat(pieces, axis=1)
    type_ids = tf.concat(type_pieces, axis=1)
    shape = [None, None if dynamic_padding else seq_length]
    values = combined.to_tensor(default_value=tf.cast(pad, dtype), shape=shape)
    type_ids = type_ids.to_tensor(default_value=0, shape=shape)
    mask = combined.with_flat_values(tf.ones_like(combined.flat_values, tf.int32))
    mask = mask.to_tensor(default_value=0, shape=shape)
    return values, type_ids, mask


class AlbertPacker(tf.Module):
    """Packs 1 or 2 ragged id segments into ALBERT's three int32 inputs.

    `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`; type ids are 0 on
    `[CLS] A [SEP]` and 1 on `B [SEP]`; the mask is 1 on real tokens; the
    rest is padded with `pad_id`. Works eagerly, in tf.data and in
    SavedModel signatures (core TensorFlow ops only).

    Args:
        seq_length: int, T (the packed length, specials included).
        cls_id, sep_id, pad_id: int ids (take them from the tokenizer).
        truncation: "round_robin" (default, the original ALBERT and TF Hub
            preprocessors), "longest_first" (Hugging Face's default for
            pairs: ids equal `tokenizer(a, b, truncation=True)`), or
            "waterfall" (keep the first segment whole when possible).
        dynamic_padding: pad only to the longest packed row of the batch
            (at most `seq_length`): the fast path for inference.

    Call args:
        segments: list of 1 or 2 int `tf.RaggedTensor` [B, None] (a dense
            [B, L] tensor counts as full rows).

    Returns:
        dict of int32 [B, T] tensors `input_word_ids`, `input_mask`,
        `input_type_ids`.

    Example:
    >>> packer = AlbertPacker(8, cls_id=2, sep_id=3, pad_id=0)
    >>> first, second = tf.ragged.constant([[10, 11, 12], [10]]), tf.ragged.constant([[20, 21, 22, 23], [20]])
    >>> packed = packer([first, second])
    >>> packed["input_word_ids"]  # row 0: 3 + 4 pieces cut round robin to 3 + 2
    <tf.Tensor: shape=(2, 8), dtype=int32, numpy=
    array([[ 2, 10, 11, 12,  3, 20, 21,  3],
           [ 2, 10,  3, 20,  3,  0,  0,  0]], dtype=int32)>
    >>> packed["input_type_ids"].numpy().tolist(), packed["input_mask"].numpy().tolist()[1]
    ([[0, 0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0, 0]], [1, 1, 1, 1, 1, 0, 0, 0])
    """

    def __init__(self, seq_length, cls_id, sep_id, pad_id, truncation="round_robin", dynamic_padding=False, name=None):
        super().__init__(name=name or "albert_packer")
        if not isinstance(seq_length, int) or isinstance(seq_length, bool) or seq_length < 3:
            raise ValueError(f"seq_length must be an int >= 3 ([CLS] x [SEP] at least), got {seq_length!r}")
        if truncation not in TRUNCATIONS:
            raise ValueError(f"truncation must be one of {TRUNCATIONS}, got {truncation!r}")
        for key, value in (("cls_id", cls_id), ("sep_id", sep_id), ("pad_id", pad_id)):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{key} must be a non-negative int, got {value!r}")
        self.seq_length = seq_length
        self.cls_id, self.sep_id, self.pad_id = cls_id, sep_id, pad_id
        self.truncation = truncation
        self.dynamic_padding = bool(dynamic_padding)

    @classmethod
    def for_tokenizer(cls, tokenizer, seq_length, **kwargs):
        """A packer with `tokenizer`'s [CLS], [SEP] and padding ids."""
        return cls(seq_length, cls_id=tokenizer.cls_id, sep_id=tokenizer.sep_id, pad_id=tokenizer.pad_id, **kwargs)

    def trim(self, segments):
        """Checks and truncates the segments; returns the kept ragged heads."""
        if not isinstance(segments, (list, tuple)) or len(segments) not in (1, 2):
            got = len(segments) if isinstance(segments, (list, tuple)) else type(segments).__name__
            raise ValueError(f"AlbertPacker expects a list of 1 or 2 segments, got {got}")
        segments = [_to_ragged(s, "AlbertPacker") for s in segments]
        budget = self.seq_length - 1 - len(segments)
        if len(segments) == 2 and budget < 2:
            raise ValueError(f"seq_length {self.seq_length} leaves no room for two segments")
        lengths = [tf.cast(s.row_lengths(), tf.int32) for s in segments]
        keep = trimmed_lengths(lengths, budget, self.truncation)
        return [_head(s, k) for s, k in zip(segments, keep)]

    def __call__(self, segments):
        trimmed = self.trim(segments)
        ids, type_ids, mask = assemble(
            trimmed, self.cls_id, self.sep_id, self.pad_id, self.seq_length, self.dynamic_padding
        )
        return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": type_ids}

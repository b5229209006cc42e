"""Question + context -> packed inputs with token -> character offsets.

ALBERT's normalization changes the context string (whitespace runs
collapse, `` becomes ", accents are dropped, "ﬁ" becomes "fi"), so
SentencePiece's byte offsets point into a different string than the one
the user gave. Here the normalization is done one original character at
a time, which keeps an exact alignment: every byte of the normalized
string is owned by one original character, and token offsets are mapped
back through it to code-point offsets into the ORIGINAL context, so
`context[start:end]` in Python is the text of the token.

The per-character normalization equals the whole-string one (NFKD only
reorders combining marks, which are all dropped; lowercasing changes no
byte length except through the final-sigma rule, which keeps it), so the
ids equal `AlbertTokenizer.tokenize(context)`.
"""

import tensorflow as tf
import tensorflow_text as tf_text

from albert_tf.text import normalization
from albert_tf.text.packer import AlbertPacker, _head, assemble
from albert_tf.text.preprocessor import _check_tokenizer
from albert_tf.text.tokenizer import _check_strings, _check_utf8

_BIG = 2**30


def _previous(flags, row_start):
    """flags shifted right by one inside each row (False at row starts)."""
    shifted = tf.concat([[False], flags[:-1]], axis=0)
    return shifted & ~row_start


def _next(flags, row_start):
    """flags shifted left by one inside each row (False at row ends)."""
    return tf.concat([flags[1:] & ~row_start[1:], [False]], axis=0)


def _pair_marks(is_char, row_start):
    """For runs of one character, marks (first, second) of each left-to-right pair.

    Python's `s.replace("``", '"')` replaces non-overlapping pairs from
    the left: in a run of k backticks, positions 0-1, 2-3, ... pair up.
    """
    index = tf.range(tf.size(is_char, out_type=tf.int64))
    run_start = is_char & ~_previous(is_char, row_start)
    run_id = tf.cumsum(tf.cast(run_start, tf.int64))
    start_positions = tf.concat([tf.boolean_mask(index, run_start), [0]], axis=0)
    offset_in_run = index - tf.gather(start_positions, tf.maximum(run_id - 1, 0))
    even = tf.equal(offset_in_run % 2, 0)
    first = is_char & even & _next(is_char, row_start)
    second = is_char & ~even
    return first, second


class AlbertQAPreprocessor(tf.Module):
    """(question, context) -> `[CLS] question [SEP] context [SEP]` with offsets.

    The question keeps at most `max_question_length` pieces; the context
    fills the rest of T (no document stride: a context longer than the
    window is cut, and an answer outside it maps to position 0, [CLS], as
    for unanswerable SQuAD 2.0 questions).

    Args:
        tokenizer: `AlbertTokenizer`.
        seq_length: int T.
        max_question_length: int, the most pieces kept from a question
            (default: 64, or T // 2 when that is smaller).
        dynamic_padding: pad to the batch's longest row.

    Call args:
        questions: `tf.string` [B].
        contexts: `tf.string` [B].

    Returns:
        dict of int32 [B, T] tensors: `input_word_ids`, `input_mask`,
        `input_type_ids`, and `token_start_char`, `token_end_char`: the
        code-point span [start, end) of each context token in the original
        context (-1 on the question, [CLS], [SEP] and padding).

    Example:
    >>> pre = AlbertQAPreprocessor(AlbertTokenizer(), seq_length=32)
    >>> out = pre(tf.constant(["Who?"]), tf.constant(["  Zoë   Smith  wrote it."]))
    >>> s, e = out["token_start_char"][0, 4], out["token_end_char"][0, 4]
    >>> "  Zoë   Smith  wrote it."[s:e]
    'Zoë'
    """

    def __init__(self, tokenizer, seq_length=384, max_question_length=None, dynamic_padding=False, name=None):
        super().__init__(name=name or "albert_qa_preprocessor")
        self.tokenizer = _check_tokenizer(tokenizer)
        if max_question_length is None:
            max_question_length = min(64, seq_length // 2)
        if not isinstance(max_question_length, int) or not 1 <= max_question_length <= seq_length - 4:
            raise ValueError(
                f"max_question_length must be an int in [1, seq_length - 4 = {seq_length - 4}], "
                f"got {max_question_length!r}"
            )
        self.seq_length = seq_length
        self.max_question_length = max_question_length
        self.packer = AlbertPacker.for_tokenizer(tokenizer, seq_length, truncation="waterfall", dynamic_padding=dynamic_padding)

    def normalize_with_alignment(self, texts):
        """Normalizes like `AlbertTokenizer.normalize`, keeping the alignment.

        Args:
            texts: `tf.string` [B], valid UTF-8.

        Returns:
            `(normalized, byte_ends)`: `tf.string` [B], and ragged int32
            [B, C] (C = code points of each original text): the end byte,
            in `normalized`, of what original character c became.
        """
        texts = _check_utf8(_check_strings(texts, "AlbertQAPreprocessor"), "AlbertQAPreprocessor")
        normalized, byte_ends, _ = self._aligned(texts)
        return normalized, byte_ends

    def _aligned(self, texts):
        """(normalized [B], byte_ends ragged [B, C], boundaries ragged bool [B, C])."""
        tokenizer = self.tokenizer
        chars = tf.strings.unicode_split(texts, "UTF-8")
        flat = chars.flat_values
        row = chars.value_rowids()
        position = tf.range(tf.size(flat, out_type=tf.int64)) - tf.gather(chars.row_splits, row)
        row_start = tf.equal(position, 0)
        nrows = chars.nrows()

        is_space = tf.strings.regex_full_match(flat, normalization.whitespace_class())
        # int64 constants: in graph mode (tf.data) a Python int becomes int32.
        big, none = tf.constant(_BIG, tf.int64), tf.constant(-1, tf.int64)
        first_word = tf.math.unsorted_segment_min(tf.where(is_space, big, position), row, nrows)
        last_word = tf.math.unsorted_segment_max(tf.where(is_space, none, position), row, nrows)
        keep_space = (
            is_space
            & ~_previous(is_space, row_start)
            & (position > tf.gather(first_word, row))
            & (position < tf.gather(last_word, row))
        )
        out = tf.where(is_space, tf.where(keep_space, " ", ""), flat)
        for quote in ("`", "'"):
            first, second = _pair_marks(tf.equal(flat, quote), row_start)
            out = tf.where(first, '"', tf.where(second, "", out))
        if not tokenizer.keep_accents:
            out = tf_text.normalize_utf8(out, "NFKD")
            out = tf.strings.regex_replace(out, normalization.combining_class(), "")
        lengths = tf.strings.length(normalization.lower(out) if tokenizer.do_lower_case else out)
        normalized = tf.strings.reduce_join(chars.with_flat_values(out), axis=1)
        if tokenizer.do_lower_case:
            # Whole-string lowercasing keeps Python's final-sigma rule.
            normalized = normalization.lower(normalized)
        inclusive = tf.cumsum(lengths)
        row_base = tf.gather(tf.concat([[0], inclusive], axis=0), chars.row_splits[:-1])
        byte_ends = chars.with_flat_values(inclusive - tf.gather(row_base, row))
        # Characters that vanish but belong to the one before them (the
        # second ` of a pair, combining accents) must stay inside a token's
        # span; vanished whitespace must not.
        boundaries = chars.with_flat_values((lengths > 0) | is_space)
        return normalized, byte_ends, boundaries

    def tokenize_with_char_offsets(self, texts):
        """Tokenizes texts and maps every token to a span of the original text.

        Args:
            texts: `tf.string` [B], valid UTF-8.

        Returns:
            `(ids, start_char, end_char)`, ragged int32 [B, None] each; the
            ids equal `tokenizer.tokenize(texts)`; `[start_char, end_char)`
            are code-point offsets into `texts`, leading whitespace of a
            piece excluded.
        """
        texts = _check_strings(texts, "AlbertQAPreprocessor")
        texts = _check_utf8(texts, "AlbertQAPreprocessor")
        normalized, byte_ends, boundaries = self._aligned(texts)
        ids, starts, ends = self.tokenizer.tokenize_with_offsets(normalized)

        # A piece starting with ▁ covers the space before it: skip it.
        token_text = tf.gather(normalized, ids.value_rowids())
        first_byte = tf.strings.substr(token_text, starts.flat_values, tf.ones_like(starts.flat_values))
        skip = tf.equal(first_byte, " ") & (starts.flat_values + 1 < ends.flat_values)
        starts = starts.with_flat_values(starts.flat_values + tf.cast(skip, tf.int32))

        # Character c owns bytes [byte_ends[c-1], byte_ends[c]); the char
        # holding byte x is the number of chars ending at or before x.
        dense_ends = byte_ends.to_tensor(default_value=_BIG)
        token_lengths = ids.row_lengths()
        start_char = tf.searchsorted(dense_ends, starts.to_tensor(), side="right", out_type=tf.int32)
        last_char = tf.searchsorted(dense_ends, (ends - 1).to_tensor(), side="right", out_type=tf.int32)
        # The span ends at the next character that starts something new.
        positions = tf.ragged.range(tf.cast(boundaries.row_lengths(), tf.int32))
        next_starts = tf.concat(
            [
                tf.ragged.boolean_mask(positions, boundaries),
                tf.cast(boundaries.row_lengths(), tf.int32)[:, None],
            ],
            axis=1,
        ).to_tensor(default_value=_BIG)
        follow = tf.searchsorted(next_starts, last_char, side="right", out_type=tf.int32)
        end_char = tf.gather(next_starts, follow, batch_dims=1)
        start_char = tf.RaggedTensor.from_tensor(start_char, lengths=token_lengths)
        end_char = tf.RaggedTensor.from_tensor(end_char, lengths=token_lengths)
        end_char = tf.maximum(end_char, start_char)
        return ids, start_char, end_char

    def __call__(self, questions, contexts):
        questions = _check_strings(questions, "AlbertQAPreprocessor questions")
        contexts = _check_strings(contexts, "AlbertQAPreprocessor contexts")
        if questions.shape.rank != 1 or contexts.shape.rank != 1:
            raise ValueError(
                f"questions and contexts must be tf.string [B], got shapes {questions.shape} and {contexts.shape}"
            )
        question_ids = self.tokenizer.tokenize(questions)
        question_ids = _head(question_ids, tf.fill([question_ids.nrows()], self.max_question_length))
        context_ids, start_char, end_char = self.tokenize_with_char_offsets(contexts)
        question_trimmed, context_trimmed = self.packer.trim([question_ids, context_ids])
        kept = tf.cast(context_trimmed.row_lengths(), tf.int32)
        start_char, end_char = _head(start_char, kept), _head(end_char, kept)
        none = question_trimmed.with_flat_values(tf.fill(tf.shape(question_trimmed.flat_values), -1))

        dynamic = self.packer.dynamic_padding
        ids, type_ids, mask = assemble(
            [question_trimmed, context_trimmed],
            self.tokenizer.cls_id,
            self.tokenizer.sep_id,
            self.tokenizer.pad_id,
            self.seq_length,
            dynamic,
        )
        starts, _, _ = assemble([none, start_char], -1, -1, -1, self.seq_length, dynamic)
        ends, _, _ = assemble([none, end_char], -1, -1, -1, self.seq_length, dynamic)
        return {
            "input_word_ids": ids,
            "input_mask": mask,
            "input_type_ids": type_ids,
            "token_start_char": starts,
            "token_end_char": ends,
        }


def char_span_to_token_span(token_start_char, token_end_char, answer_start, answer_end):
    """Answer character span -> start/end token positions (training labels).

    Args:
        token_start_char, token_end_char: int32 [B, T] from
            `AlbertQAPreprocessor` (-1 outside the context).
        answer_start, answer_end: int [B], code-point span [start, end)
            of the answer in the original context; a negative start means
            no answer.

    Returns:
        `(start_positions, end_positions)` int32 [B]: the first and last
        token overlapping the answer; 0 ([CLS]) for both when there is no
        answer or it lies outside the packed window.

    Example:
    >>> pre = AlbertQAPreprocessor(AlbertTokenizer(), seq_length=32)
    >>> context = "Moby-Dick was written by Herman Melville in 1851."
    >>> out = pre(tf.constant(["Who wrote Moby-Dick?"]), tf.constant([context]))
    >>> answer_start = context.index("Herman Melville")
    >>> start, end = char_span_to_token_span(out["token_start_char"], out["token_end_char"],
    ...                                      [answer_start], [answer_start + len("Herman Melville")])
    >>> start.numpy(), end.numpy()
    (array([16], dtype=int32), array([17], dtype=int32))
    >>> [p.decode() for p in pre.tokenizer.id_to_piece(out["input_word_ids"][0, 16:18]).numpy()]
    ['▁herman', '▁melville']
    """
    answer_start = tf.cast(tf.convert_to_tensor(answer_start), tf.int32)[:, None]
    answer_end = tf.cast(tf.convert_to_tensor(answer_end), tf.int32)[:, None]
    is_context = token_start_char >= 0
    overlaps = is_context & (token_start_char < answer_end) & (token_end_char > answer_start)
    positions = tf.range(tf.shape(token_start_char)[1], dtype=tf.int32)[None, :]
    first = tf.reduce_min(tf.where(overlaps, positions, _BIG), axis=1)
    last = tf.reduce_max(tf.where(overlaps, positions, -1), axis=1)
    # The answer counts only when it fits whole in the window.
    context_end = tf.reduce_max(tf.where(is_context, token_end_char, -1), axis=1)
    found = (first < _BIG) & (answer_start[:, 0] >= 0) & (answer_end[:, 0] <= context_end)
    return tf.where(found, first, 0), tf.where(found, last, 0)

"""Question + context -> document-stride windows with token -> character offsets.

Long contexts are cut into overlapping windows with the original
`run_squad` semantics (`doc_stride`, the max-context flag of each token,
an answer labelled only in a window that holds it whole), with TensorFlow
ops only, so the same code runs in tf.data for training and inside the
exported SavedModel that TF Serving runs.

ALBERT's normalization changes the context string (whitespace runs
collapse, `` becomes ", accents are dropped, "ﬁ" becomes "fi"), so
SentencePiece's byte offsets point into a different string than the one
the user gave. Here the normalization is done one original character at
a time, which keeps an exact alignment: every byte of the normalized
string is owned by one original character, and token offsets are mapped
back through it to code-point offsets into the ORIGINAL context, so
`context[start:end]` in Python is the text of the token.

With `AlbertWordPieceTokenizer` (the Chinese models) the same mapping
runs on BERT's basic tokenization, which rewrites each character on its
own (dropped control characters belong to the character before them).

The per-character normalization equals the whole-string one (NFKD only
reorders combining marks, which are all dropped; lowercasing changes no
byte length except through the final-sigma rule, which keeps it), so the
ids equal `AlbertTokenizer.tokenize(context)`.
"""

import tensorflow as tf
import tensorflow_text as tf_text

from albert_tf.config import check_seq_length
from albert_tf.text import normalization
from albert_tf.text.packer import _head, assemble
from albert_tf.text.preprocessor import _check_tokenizer
from albert_tf.text.tokenizer import _check_strings, _check_utf8
from albert_tf.text.wordpiece import AlbertWordPieceTokenizer

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


def default_max_question_length(seq_length, doc_stride):
    """The question budget that keeps consecutive windows overlapping.

    The original `run_squad` keeps 64 question pieces; a window then holds
    `seq_length - 64 - 3` context pieces, and when that is not more than
    `doc_stride` consecutive windows only touch. This returns 64 lowered to
    `seq_length // 2` and to `seq_length - doc_stride - 4` (one piece of
    overlap after the longest question) where those are smaller, and
    `seq_length // 2` capped at 64 when no budget can make windows overlap.

    Example:
    >>> default_max_question_length(384, 128), default_max_question_length(128, 64)
    (64, 60)
    """
    budget = min(64, seq_length // 2)
    overlapping = seq_length - doc_stride - 4
    return min(budget, overlapping) if overlapping >= 1 else budget


class AlbertQAPreprocessor(tf.Module):
    """(question, context) -> document-stride windows `[CLS] question [SEP] window [SEP]`.

    The question keeps at most `max_question_length` pieces. The context is
    cut into windows as in the original `run_squad`: starting at its first
    piece, each window takes up to `seq_length - len(question) - 3` context
    pieces, the next starts `min(window length, doc_stride)` pieces later,
    and the window that reaches the end is the last. A context that fits
    gives one window (an empty context too). Each window carries the
    code-point span of each context token in the ORIGINAL context and
    whether the window is the token's "max context" window: the one where
    `min(tokens left of it, tokens right of it) + 0.01 * window length` is
    highest (the earliest on a tie), the window an answer start is read
    from when decoding.

    Args:
        tokenizer: `AlbertTokenizer` or `AlbertWordPieceTokenizer` (its
            basic tokenization is aligned character by character).
        seq_length: int T.
        max_question_length: int, the most pieces kept from a question
            (default: the original's 64, lowered to T // 2 and to
            T - doc_stride - 4 where those are smaller, so that windows
            after the longest question still overlap: at T = 128 with
            doc_stride 64, 64 question pieces leave 61-piece windows that
            start 61 apart and an answer across their border is in none).
        doc_stride: int >= 1, context pieces between the starts of
            consecutive windows (windows shorter than that step by their
            length, so no piece is skipped).
        dynamic_padding: pad to the longest window of the batch.
        max_position_embeddings: optional int, the model's position limit:
            a `seq_length` above it fails here.

    Call args:
        questions: `tf.string` [B].
        contexts: `tf.string` [B].

    Returns:
        dict of W >= B windows, the windows of one example consecutive and
        in order: int32 [W, T] `input_word_ids`, `input_mask`,
        `input_type_ids`; int32 [W, T] `token_start_char`, `token_end_char`
        (the code-point span [start, end) of each context token in the
        original context, -1 on the question, [CLS], [SEP] and padding);
        int32 [W, T] `token_is_max_context` (1 where this window is the
        token's max-context window, 0 elsewhere and off the context); int32
        [W] `example_index`, the row of `questions` / `contexts` of each
        window.

    Raises:
        ValueError: `seq_length` < 5 or above `max_position_embeddings`,
            `doc_stride` < 1, or `max_question_length` leaves no room for
            the context.

    Example:
    >>> pre = AlbertQAPreprocessor(AlbertTokenizer(), seq_length=32)
    >>> out = pre(tf.constant(["Who?"]), tf.constant(["  Zoë   Smith  wrote it."]))
    >>> s, e = out["token_start_char"][0, 4], out["token_end_char"][0, 4]
    >>> "  Zoë   Smith  wrote it."[s:e]
    'Zoë'
    >>> pre = AlbertQAPreprocessor(AlbertTokenizer(), seq_length=10, doc_stride=2)
    >>> out = pre(tf.constant(["Who?"]), tf.constant(["one two three four five six seven"]))
    >>> out["example_index"].numpy().tolist()  # 5 of the 7 context pieces per window
    [0, 0]
    >>> [" ".join(p.decode() for p in pre.tokenizer.id_to_piece(row[4:9]).numpy()) for row in out["input_word_ids"]]
    ['▁one ▁two ▁three ▁four ▁five', '▁three ▁four ▁five ▁six ▁seven']
    >>> out["token_is_max_context"][:, 4:9].numpy().tolist()
    [[1, 1, 1, 1, 0], [0, 0, 1, 1, 1]]
    """

    def __init__(self, tokenizer, seq_length=384, max_question_length=None, doc_stride=128,
                 dynamic_padding=False, max_position_embeddings=None, name=None):
        super().__init__(name=name or "albert_qa_preprocessor")
        self.tokenizer = _check_tokenizer(tokenizer)
        if isinstance(seq_length, bool) or not isinstance(seq_length, int) or seq_length < 5:
            raise ValueError(
                f"seq_length must be an int >= 5 ([CLS] question [SEP] context [SEP]), got {seq_length!r}"
            )
        if max_position_embeddings is not None:
            check_seq_length(seq_length, max_position_embeddings, "AlbertQAPreprocessor")
        if max_question_length is None:
            max_question_length = default_max_question_length(seq_length, doc_stride)
        if not isinstance(max_question_length, int) or not 1 <= max_question_length <= seq_length - 4:
            raise ValueError(
                f"max_question_length must be an int in [1, seq_length - 4 = {seq_length - 4}] "
                f"(seq_length={seq_length} holds [CLS], [SEP], [SEP] and at least one context piece), "
                f"got {max_question_length!r}"
            )
        if isinstance(doc_stride, bool) or not isinstance(doc_stride, int) or doc_stride < 1:
            raise ValueError(f"doc_stride must be an int >= 1 (context pieces between windows), got {doc_stride!r}")
        self.seq_length = seq_length
        self.max_question_length = max_question_length
        self.doc_stride = doc_stride
        self.dynamic_padding = bool(dynamic_padding)

    def normalize_with_alignment(self, texts):
        """Normalizes like the tokenizer's `normalize`, keeping the alignment.

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
        if isinstance(tokenizer, AlbertWordPieceTokenizer):
            # BERT's basic tokenization rewrites each character on its own
            # (dropped ones belong to the character before them), and the
            # whole-string result has the same bytes (final sigma aside,
            # which keeps the length).
            lengths = tf.strings.length(tokenizer.normalize_characters(chars.flat_values))
            return tokenizer.normalize(texts), _byte_ends(chars, lengths), chars.with_flat_values(lengths > 0)
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
        byte_ends = _byte_ends(chars, lengths)
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

    def _question_ids(self, questions):
        question_ids = self.tokenizer.tokenize(questions)
        return _head(question_ids, tf.fill([question_ids.nrows()], self.max_question_length))

    def _check_pairs(self, questions, contexts):
        questions = _check_strings(questions, "AlbertQAPreprocessor questions")
        contexts = _check_strings(contexts, "AlbertQAPreprocessor contexts")
        if questions.shape.rank != 1 or contexts.shape.rank != 1:
            raise ValueError(
                f"questions and contexts must be tf.string [B], got shapes {questions.shape} and {contexts.shape}"
            )
        return questions, contexts

    def num_windows(self, questions, contexts):
        """How many windows each (question, context) makes, without packing them.

        Args:
            questions: `tf.string` [B].
            contexts: `tf.string` [B].

        Returns:
            int32 [B], each >= 1; their sum is W of `__call__`.

        Example:
        >>> pre = AlbertQAPreprocessor(AlbertTokenizer(), seq_length=12, doc_stride=3)
        >>> pre.num_windows(tf.constant(["Who?", "Who?"]), tf.constant(["one two three four five six seven eight", "short"]))
        <tf.Tensor: shape=(2,), dtype=int32, numpy=array([2, 1], dtype=int32)>
        """
        questions, contexts = self._check_pairs(questions, contexts)
        question_lengths = tf.cast(self._question_ids(questions).row_lengths(), tf.int32)
        context_lengths = tf.cast(self.tokenizer.tokenize(contexts).row_lengths(), tf.int32)
        count, _, _ = _window_layout(question_lengths, context_lengths, self.seq_length, self.doc_stride)
        return count

    def __call__(self, questions, contexts):
        questions, contexts = self._check_pairs(questions, contexts)
        question_ids = self._question_ids(questions)
        context_ids, start_char, end_char = self.tokenize_with_char_offsets(contexts)
        context_lengths = tf.cast(context_ids.row_lengths(), tf.int32)
        count, capacity, step = _window_layout(
            tf.cast(question_ids.row_lengths(), tf.int32), context_lengths, self.seq_length, self.doc_stride
        )

        # Window w of example b starts `k * step[b]` pieces into the context.
        example_index = tf.repeat(tf.range(tf.size(count)), count)  # [W]
        window_number = tf.ragged.range(count).flat_values  # [W], k
        window_start = window_number * tf.gather(step, example_index)
        window_length = tf.minimum(
            tf.gather(context_lengths, example_index) - window_start, tf.gather(capacity, example_index)
        )
        positions = tf.ragged.range(window_start, window_start + window_length)  # [W, None]
        # Index of each window token among all context tokens of the batch.
        context_row_starts = tf.cast(context_ids.row_splits[:-1], tf.int32)
        token = positions + tf.gather(context_row_starts, example_index)[:, None]

        def window_values(values):
            return token.with_flat_values(tf.gather(values.flat_values, token.flat_values))

        window_ids = window_values(context_ids)
        is_max_context = _max_context(positions, token, window_start, window_length, tf.size(context_ids.flat_values))
        question_windows = tf.gather(question_ids, example_index)
        question_none = question_windows.with_flat_values(tf.fill(tf.shape(question_windows.flat_values), -1))

        def packed(segments, first, separator, pad):
            return assemble(segments, first, separator, pad, self.seq_length, self.dynamic_padding)

        tokenizer = self.tokenizer
        ids, type_ids, mask = packed([question_windows, window_ids], tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id)
        starts, _, _ = packed([question_none, window_values(start_char)], -1, -1, -1)
        ends, _, _ = packed([question_none, window_values(end_char)], -1, -1, -1)
        question_zeros = question_windows.with_flat_values(tf.zeros_like(question_windows.flat_values))
        max_context, _, _ = packed([question_zeros, tf.cast(is_max_context, tf.int32)], 0, 0, 0)
        return {
            "input_word_ids": ids,
            "input_mask": mask,
            "input_type_ids": type_ids,
            "token_start_char": starts,
            "token_end_char": ends,
            "token_is_max_context": max_context,
            "example_index": example_index,
        }


def _byte_ends(chars, lengths):
    """Ragged int32 [B, C]: end byte of each character's output, from its byte `lengths` [N]."""
    inclusive = tf.cumsum(lengths)
    row_base = tf.gather(tf.concat([[0], inclusive], axis=0), chars.row_splits[:-1])
    return chars.with_flat_values(inclusive - tf.gather(row_base, chars.value_rowids()))


def _window_layout(question_lengths, context_lengths, seq_length, doc_stride):
    """The window plan of each example: (count, capacity, step), int32 [B] each.

    Every window but the last holds `capacity` pieces, so consecutive
    windows start `step = min(capacity, doc_stride)` apart and the windows
    needed are the fewest with `(count - 1) * step + capacity >= N`.
    """
    capacity = seq_length - 3 - question_lengths
    step = tf.minimum(capacity, doc_stride)
    beyond_first = tf.maximum(context_lengths - capacity, 0)
    count = 1 + (beyond_first + step - 1) // step
    return count, capacity, step


def _max_context(positions, token, window_start, window_length, num_tokens):
    """bool ragged [W, None]: whether each window is its token's max-context window.

    The score `min(left, right) + 0.01 * length` is compared as the
    integer `100 * min(left, right) + length` (same order, no rounding); on
    a tie the earliest window wins, as in the original.
    """
    left = positions - window_start[:, None]
    right = (window_start + window_length - 1)[:, None] - positions
    score = (100 * tf.minimum(left, right) + window_length[:, None]).flat_values
    window = tf.cast(positions.value_rowids(), tf.int32)
    tokens = token.flat_values
    best = tf.math.unsorted_segment_max(score, tokens, num_tokens)
    best_window = tf.math.unsorted_segment_min(
        tf.where(tf.equal(score, tf.gather(best, tokens)), window, _BIG), tokens, num_tokens
    )
    return positions.with_flat_values(tf.equal(window, tf.gather(best_window, tokens)))


def char_span_to_token_span(token_start_char, token_end_char, answer_start, answer_end):
    """Answer character span -> start/end token positions in each window (training labels).

    Args:
        token_start_char, token_end_char: int32 [W, T] from
            `AlbertQAPreprocessor` (-1 outside the context).
        answer_start, answer_end: int [W], code-point span [start, end)
            of each window's answer in the original context (gather an
            example's answer by the windows' `example_index`); a negative
            start means no answer.

    Returns:
        `(start_positions, end_positions)` int32 [W]: the first and last
        token overlapping the answer; 0 ([CLS]) for both when there is no
        answer or the window does not hold it whole (the answer's
        characters must lie between the start of the window's first context
        token and the end of its last).

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
    # The answer counts only when it lies whole in the window: a token
    # before or after the window may hold part of it.
    context_start = tf.reduce_min(tf.where(is_context, token_start_char, _BIG), axis=1)
    context_end = tf.reduce_max(tf.where(is_context, token_end_char, -1), axis=1)
    found = (
        (first < _BIG)
        & (answer_start[:, 0] >= 0)
        & (answer_start[:, 0] >= context_start)
        & (answer_end[:, 0] <= context_end)
    )
    return tf.where(found, first, 0), tf.where(found, last, 0)

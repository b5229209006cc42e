"""ALBERT's text normalization, in pure Python and in TensorFlow ops.

Before SentencePiece, ALBERT (google-research/albert `preprocess_text`, the
Hugging Face slow tokenizer's copy of it) rewrites the text:

1. collapse whitespace: `" ".join(text.strip().split())` (Python's idea of
   whitespace, which includes U+0085, U+00A0, U+2000-U+200A, U+3000...);
2. turn the LaTeX quotes `` and '' into `"`;
3. unless `keep_accents`: NFKD, then drop every character whose canonical
   combining class is non zero (`unicodedata.combining`);
4. lowercase when `do_lower_case`.

`normalize_text` is that rule in Python (the reference, and what the
vocabulary trainer feeds SentencePiece); `normalize` is the same rule in
TensorFlow ops, so it runs in tf.data and inside SavedModel signatures.
The character classes of steps 1 and 3 are generated from Python's
`unicodedata`, so both versions agree character for character.

This module imports only TensorFlow and tensorflow-text; nothing in
albert_tf.text may import the models.
"""

import functools
import sys
import unicodedata

import tensorflow as tf
import tensorflow_text as tf_text


def normalize_text(text, do_lower_case=True, keep_accents=False):
    """ALBERT normalization of one Python string (the original semantics).

    Args:
        text: `str`.
        do_lower_case: lowercase the result (True for the English models).
        keep_accents: skip NFKD and the removal of combining marks.

    Returns:
        The normalized `str`.

    Example:
    >>> normalize_text("  Café ``Naïve''  ")
    'cafe "naive"'
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize_text expects a str, got {type(text).__name__}: {text!r:.80}")
    text = " ".join(text.strip().split())
    text = text.replace("``", '"').replace("''", '"')
    if not keep_accents:
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    if do_lower_case:
        text = text.lower()
    return text


def _ranges_to_class(codepoints):
    """Sorted code points -> an RE2 character class `[...]` of ranges."""
    parts = []
    start = prev = None
    for cp in codepoints:
        if prev is not None and cp == prev + 1:
            prev = cp
            continue
        if start is not None:
            parts.append((start, prev))
        start = prev = cp
    if start is not None:
        parts.append((start, prev))
    body = "".join(
        f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in parts
    )
    return f"[{body}]"


@functools.lru_cache(maxsize=None)
def whitespace_class():
    """RE2 class of the characters Python's `str.split()` splits on."""
    return _ranges_to_class([cp for cp in range(sys.maxunicode + 1) if chr(cp).isspace()])


@functools.lru_cache(maxsize=None)
def combining_class():
    """RE2 class of the characters with a non-zero canonical combining class.

    That is exactly what `unicodedata.combining(c) != 0` drops in the
    original code; the Unicode general category Mn (what Hugging Face's
    fast `StripAccents` uses) is a slightly different set.
    """
    return _ranges_to_class(
        [cp for cp in range(sys.maxunicode + 1) if unicodedata.combining(chr(cp))]
    )


def normalize(strings, do_lower_case=True, keep_accents=False):
    """ALBERT normalization in TensorFlow ops (graph-safe, not XLA-safe).

    Args:
        strings: `tf.string` tensor of any shape, valid UTF-8.
        do_lower_case: lowercase (Unicode-aware, like `str.lower`).
        keep_accents: skip NFKD and the removal of combining marks.

    Returns:
        `tf.string` tensor of the same shape, equal to `normalize_text`
        applied element-wise.

    Example:
    >>> normalize(tf.constant(["  Café ``Naïve''  "])).numpy()
    array([b'cafe "naive"'], dtype=object)
    """
    x = tf.strings.regex_replace(strings, whitespace_class() + "+", " ")
    # After the collapse at most one space is left at either end.
    x = tf.strings.regex_replace(x, "^ | $", "")
    x = tf.strings.regex_replace(x, "``|''", '"')
    if not keep_accents:
        x = tf_text.normalize_utf8(x, "NFKD")
        x = tf.strings.regex_replace(x, combining_class(), "")
    if do_lower_case:
        x = lower(x)
    return x


def lower(strings):
    """Unicode lowercasing like `str.lower` (final sigma included), NUL-safe.

    `tf.strings.lower(..., encoding="utf-8")` stops at the first NUL byte
    (TensorFlow 2.21); strings holding a NUL are lowercased piece by piece
    between their NULs (a rare, slower path).
    """
    strings = tf.convert_to_tensor(strings)

    def with_nul():
        # Split each string into runs of non-NUL characters and single
        # NULs (string ops that take a pattern stop at NUL too), lowercase
        # the runs, join back.
        flat = tf.reshape(strings, [-1])
        chars = tf.strings.unicode_split(flat, "UTF-8")
        values = chars.flat_values
        row = chars.value_rowids()
        row_start = tf.equal(tf.range(tf.size(values, out_type=tf.int64)), tf.gather(chars.row_splits, row))
        is_nul = tf.equal(values, "\x00")
        after_nul = tf.concat([[False], is_nul[:-1]], axis=0)
        segment = tf.cumsum(tf.cast(row_start | is_nul | after_nul, tf.int64)) - 1
        num_segments = tf.reduce_max(segment) + 1
        runs = tf.strings.unsorted_segment_join(values, segment, num_segments)
        runs = tf.where(tf.equal(runs, "\x00"), runs, tf.strings.lower(runs, encoding="utf-8"))
        run_row = tf.math.unsorted_segment_max(row, segment, num_segments)
        joined = tf.strings.unsorted_segment_join(runs, run_row, tf.size(flat, out_type=tf.int64))
        return tf.reshape(joined, tf.shape(strings))

    no_nul = tf.reduce_all(tf.strings.regex_full_match(strings, "[^\\x00]*"))
    return tf.cond(no_nul, lambda: tf.strings.lower(strings, encoding="utf-8"), with_nul)

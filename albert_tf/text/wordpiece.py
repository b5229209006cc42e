"""`AlbertWordPieceTokenizer`: BERT's FullTokenizer for the Chinese ALBERT models, in TF ops.

Google's Chinese ALBERT releases (and the community tiny/small ones) ship
no SentencePiece model but BERT's WordPiece vocabulary (`vocab.txt`,
21,128 entries for Chinese), tokenized as google-research/albert's
`FullTokenizer` does without a SentencePiece model: BERT's BasicTokenizer
then its WordpieceTokenizer (ALBERT_REFERENCE.md section 9):

1. clean: drop U+0000, U+FFFD and every control character (Unicode
   category C*, except tab, newline and carriage return); whitespace
   (those three and category Zs) becomes a space;
2. put spaces around every CJK ideograph (the CJK Unified Ideographs
   blocks and extensions A-E, the compatibility ideographs);
3. split on whitespace; with `do_lower_case`, lowercase each word and strip
   accents (NFD, drop category Mn);
4. split off every punctuation character (category P*, and all ASCII
   symbols such as "$", "^", "`");
5. WordPiece each word: greedy longest match first, continuations marked
   "##"; a word of more than 100 characters, or with a part that matches
   nothing, becomes `[UNK]`.

Steps 1-4 are regular expressions whose character classes are generated
from Python's `unicodedata` (as the original's `unicodedata.category`
calls decide them); step 5 is tensorflow-text's `FastWordpieceTokenizer`
(op `FastWordpieceTokenizeWithOffsets`, linked by TF Serving). So it runs
eagerly, in tf.data and in exported SavedModels, never under XLA.

Measured 2026-11-30 against a plain-Python FullTokenizer
(tests/helpers/wordpiece.py) on the 21,128-token vocabulary: the same ids
on all 46,847 texts of the shipped Chinese sets and on an adversarial set
(full-width forms, kana, Korean, emoji, control characters, 600-character
strings). transformers' `BertTokenizer` differs from both only on
word-final Σ, special tokens written in the text and unassigned code points
(tests/albert_tf/text/test_wordpiece.py names each).
"""

import functools
import os
import pathlib
import sys
import unicodedata

import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from albert_tf.text import masking, normalization
from albert_tf.text.tokenizer import _check_strings, _check_utf8, check_ids

SUFFIX_INDICATOR = "##"
MAX_INPUT_CHARS_PER_WORD = 100
# Ids come from the vocabulary; these are the tokens ALBERT needs.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
UNK_TOKEN = "[UNK]"

# BERT's `_is_chinese_char` blocks.
CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


@functools.lru_cache(maxsize=None)
def character_classes():
    """RE2 classes of BasicTokenizer's character kinds, from Python's `unicodedata`.

    Returns:
        dict with "drop" (NUL, U+FFFD, control characters), "space" (what
        becomes a space: tab, newline, carriage return, category Zs, and
        the line/paragraph separators that Python's `str.split` splits on),
        "cjk", "mark" (category Mn, removed with the accents) and
        "punctuation" (category P* and the ASCII symbols).
    """
    codepoints = np.arange(sys.maxunicode + 1)
    category = np.array(list(map(unicodedata.category, map(chr, codepoints.tolist()))))
    major = category.astype("<U1")
    tab_newline_return = np.isin(codepoints, [0x09, 0x0A, 0x0D])
    drop = ((major == "C") & ~tab_newline_return) | np.isin(codepoints, [0x00, 0xFFFD])
    python_space = np.array([chr(cp).isspace() for cp in codepoints.tolist()])
    space = ~drop & (tab_newline_return | (category == "Zs") | python_space)
    mark = category == "Mn"
    ascii_symbol = np.zeros(len(codepoints), bool)
    for low, high in ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)):
        ascii_symbol[low:high + 1] = True
    punctuation = (major == "P") | ascii_symbol
    cjk = np.zeros(len(codepoints), bool)
    for low, high in CJK_RANGES:
        cjk[low:high + 1] = True

    def to_class(mask):
        return normalization._ranges_to_class(np.flatnonzero(mask).tolist())

    return {
        "drop": to_class(drop),
        "space": to_class(space),
        "cjk": to_class(cjk),
        "mark": to_class(mark),
        "punctuation": to_class(punctuation),
    }


def read_vocabulary(vocab):
    """A WordPiece vocabulary as a list of tokens, id = position.

    Args:
        vocab: path of a `vocab.txt` (one token a line, as BERT's
            `load_vocab` reads it: each line stripped of surrounding
            whitespace) or a list of token strings.

    Returns:
        list of str.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: an empty vocabulary, or one missing a token of
            `SPECIAL_TOKENS`.
    """
    if isinstance(vocab, (str, os.PathLike)):
        path = pathlib.Path(vocab)
        if not path.is_file():
            raise FileNotFoundError(f"WordPiece vocabulary {str(path)!r} does not exist")
        # Lines end at "\n" only: U+2028 inside a token is no line break.
        lines = path.read_text(encoding="utf-8").split("\n")
        if lines[-1] == "":
            lines.pop()  # what follows the last newline
        tokens = [line.strip() for line in lines]
    elif isinstance(vocab, (list, tuple)) and all(isinstance(t, str) for t in vocab):
        tokens = list(vocab)
    else:
        raise TypeError(f"vocab must be the path of a vocab.txt or a list of str, got {type(vocab).__name__}")
    if not tokens:
        raise ValueError("The WordPiece vocabulary is empty")
    missing = [t for t in SPECIAL_TOKENS if t not in tokens]
    if missing:
        raise ValueError(f"The WordPiece vocabulary has no {missing}; ALBERT needs {list(SPECIAL_TOKENS)}")
    return tokens


def _matchable(tokens):
    """The vocabulary FastWordpiece builds from: unmatchable lines made explicit.

    A line that strips to "" or to the bare "##" (bert-base-chinese has
    both, from U+2028 lines) keeps its id but can never be matched;
    FastWordpiece warns on such entries, so they become tokens holding
    "[", which the punctuation split keeps out of every word.
    """
    return [
        f"[albert_tf unmatchable {i}]" if token in ("", SUFFIX_INDICATOR) else token
        for i, token in enumerate(tokens)
    ]


class AlbertWordPieceTokenizer(tf.Module):
    """BERT's FullTokenizer (BasicTokenizer + WordPiece), as Chinese ALBERT uses it, in TF ops.

    The same interface as `AlbertTokenizer` where the packer, the task
    preprocessors, the masker and the export code use it: `tokenize`,
    `tokenize_with_offsets`, `normalize`, `id_to_piece`, `piece_to_id`,
    `detokenize`, `cls_id`/`sep_id`/`pad_id`/`mask_id`/`unk_id`,
    `vocab_size`, `do_lower_case`, `word_start_table()`,
    `special_tokens_dict()`; `vocabulary` lists the tokens (write them one
    a line to get a `vocab.txt` with the same ids). The ids equal
    google-research/albert's `FullTokenizer(vocab_file, do_lower_case)`
    (see the module docstring for the steps). It must not run inside
    XLA-compiled functions: tokenize in the input pipeline or the serving
    signature.

    Args:
        vocab: path of a WordPiece `vocab.txt` (one token a line) or a list
            of tokens; `None` means the Chinese vocabulary of Google's
            Chinese ALBERT releases (bert-base-chinese, 21,128 tokens),
            shipped in `albert_tf.resources`.
        do_lower_case: lowercase and strip accents (True for every Chinese
            ALBERT release).

    Raises:
        ValueError: the vocabulary lacks `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`
            or `[MASK]`.

    Example:
    >>> tokenizer = AlbertWordPieceTokenizer()
    >>> ids = tokenizer.tokenize(tf.constant(["ALBERT 模型很好用！"]))
    >>> [p.decode() for p in tokenizer.id_to_piece(ids[0]).numpy()]
    ['al', '##bert', '模', '型', '很', '好', '用', '！']
    >>> tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id, tokenizer.mask_id, tokenizer.vocab_size
    (101, 102, 0, 103, 21128)
    """

    def __init__(self, vocab=None, do_lower_case=True, name=None):
        super().__init__(name=name or "albert_wordpiece_tokenizer")
        if vocab is None:
            from albert_tf import resources

            vocab = resources.path(resources.WORDPIECE_VOCAB)
        # Only tensors hold the vocabulary: a Python list attribute would be
        # tracked entry by entry, which makes saving a SavedModel slow.
        tokens = read_vocabulary(vocab)
        self.do_lower_case = bool(do_lower_case)
        self.vocab_size = len(tokens)
        # A token listed twice maps to its last line, as in BERT's `load_vocab`.
        index = {token: i for i, token in enumerate(tokens)}
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (index[t] for t in SPECIAL_TOKENS)
        self._wordpiece = tf_text.FastWordpieceTokenizer(
            vocab=_matchable(tokens),
            suffix_indicator=SUFFIX_INDICATOR,
            # Bytes, while the original limit counts characters: no word of
            # at most 100 characters reaches it; longer words get [UNK] in
            # `tokenize_with_offsets`.
            max_bytes_per_word=4 * MAX_INPUT_CHARS_PER_WORD,
            token_out_type=tf.int32,
            unknown_token=UNK_TOKEN,
            no_pretokenization=True,
            support_detokenization=True,
        )
        self._pieces = tf.constant(tokens)
        self._piece_ids = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                list(index), tf.constant(list(index.values()), tf.int32)
            ),
            default_value=self.unk_id,
        )

    @property
    def vocabulary(self):
        """The tokens, id = position (list of str)."""
        return [token.decode("utf-8") for token in self._pieces.numpy()]

    def normalize(self, strings):
        """BasicTokenizer steps 1-4: `tf.string` [B] -> the words, separated by spaces.

        Splitting the result on " " gives exactly the words that go into
        WordPiece (leading, trailing and repeated spaces aside).

        Example:
        >>> AlbertWordPieceTokenizer().normalize(tf.constant(["Ｃafé，中文\\x00!"])).numpy()[0].decode().split()
        ['ｃafe', '，', '中', '文', '!']
        """
        strings = _check_strings(strings, "AlbertWordPieceTokenizer.normalize")
        return self._basic_normalize(strings)

    def _basic_normalize(self, x):
        classes = character_classes()
        x = tf.strings.regex_replace(x, classes["drop"], "")
        x = tf.strings.regex_replace(x, classes["space"], " ")
        x = tf.strings.regex_replace(x, f"({classes['cjk']})", r" \1 ")
        if self.do_lower_case:
            # Like str.lower, final sigma included; the NULs it would stop
            # at are gone with the control characters.
            x = tf.strings.lower(x, encoding="utf-8")
            x = tf_text.normalize_utf8(x, "NFD")
            x = tf.strings.regex_replace(x, classes["mark"], "")
        return tf.strings.regex_replace(x, f"({classes['punctuation']})", r" \1 ")

    def normalize_characters(self, characters):
        """Steps 1-4 on each character alone: `tf.string` [N] characters -> [N] strings.

        Every step acts on one character at a time except lowercasing's
        final-sigma rule (σ or ς) and NFD's canonical order of combining
        marks, which both keep the byte length; so the outputs of a text's
        characters add up to the byte length of `normalize(text)`, each
        character owning its bytes. `AlbertQAPreprocessor` maps token
        offsets back to the original characters through it.
        """
        return self._basic_normalize(characters)

    def tokenize(self, strings):
        """Raw strings -> WordPiece ids.

        Args:
            strings: `tf.string` [B] (or a scalar, or a Python list of
                str), valid UTF-8.

        Returns:
            `tf.RaggedTensor` int32 [B, None] of token ids (no [CLS]/[SEP]);
            an int32 [None] tensor for a scalar input.

        Raises:
            ValueError / TypeError: not strings of rank 0 or 1, or invalid
                UTF-8.
        """
        strings = _check_strings(strings, "AlbertWordPieceTokenizer.tokenize")
        strings = _check_utf8(strings, "AlbertWordPieceTokenizer.tokenize")
        scalar = strings.shape.rank == 0
        if scalar:
            strings = tf.reshape(strings, [1])
        ids, _, _ = self.tokenize_with_offsets(self._basic_normalize(strings))
        return ids[0] if scalar else ids

    def tokenize_with_offsets(self, normalized):
        """WordPiece on ALREADY normalized strings, with byte offsets.

        Args:
            normalized: `tf.string` [B], the output of `normalize`.

        Returns:
            `(ids, starts, ends)`, ragged int32 [B, None] each; `starts` and
            `ends` are byte offsets into `normalized` (end exclusive); a
            "##" piece spans only its own bytes.
        """
        words, word_starts, _ = tf_text.WhitespaceTokenizer().tokenize_with_offsets(normalized)
        flat_words = words.flat_values
        # The original's limit counts characters, FastWordpiece's bytes: a
        # longer word goes in as the token "[UNK]" itself, one unk_id.
        too_long = tf.strings.length(flat_words, unit="UTF8_CHAR") > MAX_INPUT_CHARS_PER_WORD
        ids, starts, ends = self._wordpiece.tokenize_with_offsets(tf.where(too_long, UNK_TOKEN, flat_words))
        # Piece offsets are relative to their word: shift them by the word's
        # start; the [UNK] of an over-long word spans the whole word.
        piece_word = ids.value_rowids()
        word_start = tf.gather(tf.cast(word_starts.flat_values, tf.int32), piece_word)
        word_end = word_start + tf.gather(tf.strings.length(flat_words), piece_word)
        starts = word_start + tf.cast(starts.flat_values, tf.int32)
        ends = tf.where(tf.gather(too_long, piece_word), word_end, word_start + tf.cast(ends.flat_values, tf.int32))
        row_splits = tf.gather(ids.row_splits, words.row_splits)
        return tuple(
            tf.RaggedTensor.from_row_splits(values, row_splits, validate=False)
            for values in (ids.flat_values, starts, ends)
        )

    def detokenize(self, ids):
        """Ids -> text: words joined by spaces, "##" pieces glued to their word.

        [PAD], [CLS], [SEP] and [MASK] decode to nothing. WordPiece loses
        the original spacing, so Chinese comes back one character a word.

        Args:
            ids: int ragged or dense [B, T] (or [T]).

        Returns:
            `tf.string` [B] (or a scalar).
        """
        ids = check_ids(ids, self.vocab_size, "AlbertWordPieceTokenizer.detokenize")
        scalar = ids.shape.rank == 1
        if scalar:
            ids = ids[tf.newaxis]
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(ids)
        special = tf.constant([self.pad_id, self.cls_id, self.sep_id, self.mask_id], tf.int32)
        kept = tf.reduce_all(tf.not_equal(ids.flat_values[:, None], special[None, :]), axis=1)
        ids = tf.ragged.boolean_mask(ids, ids.with_flat_values(kept))
        text = self._wordpiece.detokenize(ids)
        return text[0] if scalar else text

    def id_to_piece(self, ids):
        """Ids (any shape, ragged or dense) -> tokens as `tf.string`."""
        ids = check_ids(ids, self.vocab_size, "AlbertWordPieceTokenizer.id_to_piece")
        if isinstance(ids, tf.RaggedTensor):
            return ids.with_flat_values(tf.gather(self._pieces, ids.flat_values))
        return tf.gather(self._pieces, ids)

    def piece_to_id(self, pieces):
        """Tokens (`tf.string`, any shape) -> int32 ids; unknown tokens give `unk_id`."""
        if isinstance(pieces, (str, bytes, list, tuple)):
            pieces = tf.constant(pieces, dtype=tf.string)
        if pieces.dtype != tf.string:
            raise TypeError(f"piece_to_id expects tf.string pieces, got dtype {pieces.dtype.name}")
        if isinstance(pieces, tf.RaggedTensor):
            return pieces.with_flat_values(self._piece_ids.lookup(pieces.flat_values))
        return self._piece_ids.lookup(pieces)

    def word_start_table(self):
        """Boolean NumPy [V]: whether each token begins a whole word (for MLM masking).

        Every token but the "##" continuations (`masking.wordpiece_start_table`).
        """
        return masking.wordpiece_start_table(self.vocabulary)

    def special_tokens_dict(self):
        """Python ints of the special ids and the vocabulary size (TF Hub style)."""
        return {
            "vocab_size": self.vocab_size,
            "padding_id": self.pad_id,
            "unk_id": self.unk_id,
            "start_of_sequence_id": self.cls_id,
            "end_of_segment_id": self.sep_id,
            "mask_id": self.mask_id,
        }

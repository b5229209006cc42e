"""The WordPiece tests' reference: BERT's `FullTokenizer` written out in plain Python.

Google's Chinese ALBERT release tokenizes with google-research/albert's
`tokenization.FullTokenizer(vocab_file, do_lower_case=True)`, which (with
no SentencePiece model) is BERT's BasicTokenizer followed by its
WordpieceTokenizer. This is that algorithm, written from its description
(ALBERT_REFERENCE.md section 9), one character at a time with Python's
`unicodedata`, so the graph version in `albert_tf.text.wordpiece` is
checked against an independent implementation.
"""

import unicodedata

MAX_INPUT_CHARS_PER_WORD = 100

# The blocks BERT counts as CJK ideographs: CJK Unified Ideographs and
# extensions A-E, the compatibility ideographs and their supplement.
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


def load_vocab(path):
    """vocab.txt -> {token: id}: one token a line, stripped, id = line number."""
    vocab = {}
    with open(path, encoding="utf-8", newline="\n") as reader:
        for index, line in enumerate(reader):
            vocab[line.strip()] = index
    return vocab


def is_whitespace(char):
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def is_control(char):
    if char in "\t\n\r":
        return False
    return unicodedata.category(char).startswith("C")


def is_punctuation(char):
    cp = ord(char)
    # Every non-alphanumeric ASCII symbol counts, "$" and "^" included.
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def is_cjk(char):
    cp = ord(char)
    return any(low <= cp <= high for low, high in CJK_RANGES)


def clean_text(text):
    out = []
    for char in text:
        if ord(char) in (0, 0xFFFD) or is_control(char):
            continue
        out.append(" " if is_whitespace(char) else char)
    return "".join(out)


def space_cjk(text):
    return "".join(f" {c} " if is_cjk(c) else c for c in text)


def strip_accents(text):
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def split_punctuation(word):
    pieces, current = [], []
    for char in word:
        if is_punctuation(char):
            if current:
                pieces.append("".join(current))
                current = []
            pieces.append(char)
        else:
            current.append(char)
    if current:
        pieces.append("".join(current))
    return pieces


def basic_tokenize(text, do_lower_case=True):
    """BasicTokenizer: clean, space CJK, split on whitespace, lowercase + strip accents, split punctuation."""
    words = []
    for word in space_cjk(clean_text(text)).split():
        if do_lower_case:
            word = strip_accents(word.lower())
        words.extend(split_punctuation(word))
    return words


def wordpiece(word, vocab, unk="[UNK]"):
    """Greedy longest-match-first; the whole word is `unk` when a part has no match."""
    if len(word) > MAX_INPUT_CHARS_PER_WORD:
        return [unk]
    pieces = []
    start = 0
    while start < len(word):
        end = len(word)
        match = None
        while start < end:
            candidate = word[start:end] if start == 0 else "##" + word[start:end]
            if candidate in vocab:
                match = candidate
                break
            end -= 1
        if match is None:
            return [unk]
        pieces.append(match)
        start = end
    return pieces


def full_tokenize_ids(text, vocab, do_lower_case=True):
    """FullTokenizer ids of one text."""
    return [vocab[p] for word in basic_tokenize(text, do_lower_case) for p in wordpiece(word, vocab)]

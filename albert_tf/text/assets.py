"""`tokenizer_from_assets`: the tokenizer a checkpoint's files call for.

ALBERT checkpoints ship one of two vocabularies: the English releases a
SentencePiece model (`spiece.model`, `30k-clean.model`), the Chinese ones
BERT's WordPiece vocabulary (`vocab.txt`, `vocab_chinese.txt`). The kind
of tokenizer follows from which file is there, so a user never chooses.
"""

import json
import pathlib

from albert_tf.text.tokenizer import AlbertTokenizer
from albert_tf.text.wordpiece import AlbertWordPieceTokenizer

# Looked for in this order in a directory; the first one present decides.
SENTENCEPIECE_FILES = ("spiece.model", "30k-clean.model")
WORDPIECE_FILES = ("vocab.txt", "vocab_chinese.txt")
# Hugging Face's tokenizer settings, beside its vocab.txt.
HF_TOKENIZER_CONFIG = "tokenizer_config.json"


def _hf_wordpiece_settings(directory):
    """`do_lower_case` from a Hugging Face `tokenizer_config.json`, if the directory has one.

    Raises:
        ValueError: settings `AlbertWordPieceTokenizer` cannot follow: no
            spaces around CJK characters, or accent stripping apart from
            lowercasing.
    """
    path = directory / HF_TOKENIZER_CONFIG
    if not path.is_file():
        return {}
    config = json.loads(path.read_text(encoding="utf-8"))
    do_lower_case = bool(config.get("do_lower_case", True))
    if config.get("tokenize_chinese_chars", True) is False:
        raise ValueError(f"{path}: tokenize_chinese_chars=false is not supported (BERT's FullTokenizer splits CJK)")
    strip_accents = config.get("strip_accents")
    if strip_accents is not None and bool(strip_accents) != do_lower_case:
        raise ValueError(
            f"{path}: strip_accents={strip_accents} with do_lower_case={do_lower_case} is not supported "
            "(BERT's FullTokenizer strips accents exactly when it lowercases)"
        )
    return {"do_lower_case": do_lower_case}


def tokenizer_from_assets(path, **kwargs):
    """Builds the tokenizer for a vocabulary file or a directory holding one.

    Args:
        path: a SentencePiece model (`*.model`), a WordPiece vocabulary
            (`*.txt`, one token a line), or a directory holding one of
            `SENTENCEPIECE_FILES` or `WORDPIECE_FILES` (a converted
            checkpoint, a Hugging Face snapshot, an unpacked Google tarball).
        **kwargs: passed to the tokenizer (e.g. `do_lower_case`); for a
            WordPiece directory they override the `do_lower_case` of a
            Hugging Face `tokenizer_config.json` found beside the vocabulary.

    Returns:
        `AlbertTokenizer` for a SentencePiece model,
        `AlbertWordPieceTokenizer` for a WordPiece vocabulary.

    Raises:
        FileNotFoundError: `path` does not exist, or a directory holds
            none of the known vocabulary files.
        ValueError: a file that is neither `*.model` nor `*.txt`, or a
            `tokenizer_config.json` asking for what BERT's FullTokenizer
            does not do.

    Example:
    >>> (pathlib.Path("zh") / "vocab.txt").parent.mkdir()
    >>> _ = (pathlib.Path("zh") / "vocab.txt").write_bytes(resources.path("bert-chinese-vocab.txt").read_bytes())
    >>> type(tokenizer_from_assets("zh")).__name__
    'AlbertWordPieceTokenizer'
    >>> type(tokenizer_from_assets(resources.path("albert-30k-clean.model"))).__name__
    'AlbertTokenizer'
    """
    path = pathlib.Path(path)
    if path.is_dir():
        for name in SENTENCEPIECE_FILES:
            if (path / name).is_file():
                return AlbertTokenizer(path / name, **kwargs)
        for name in WORDPIECE_FILES:
            if (path / name).is_file():
                return AlbertWordPieceTokenizer(path / name, **{**_hf_wordpiece_settings(path), **kwargs})
        raise FileNotFoundError(
            f"{str(path)!r} holds no vocabulary: expected one of {SENTENCEPIECE_FILES} (SentencePiece) "
            f"or {WORDPIECE_FILES} (WordPiece)"
        )
    if not path.is_file():
        raise FileNotFoundError(f"Vocabulary {str(path)!r} does not exist")
    if path.suffix == ".model":
        return AlbertTokenizer(path, **kwargs)
    if path.suffix == ".txt":
        return AlbertWordPieceTokenizer(path, **kwargs)
    raise ValueError(
        f"{str(path)!r} is neither a SentencePiece model (*.model) nor a WordPiece vocabulary (*.txt)"
    )

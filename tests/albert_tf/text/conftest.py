"""Shared fixtures for the text tests: the real model, corpora and references."""

import gzip
import os
import re
import shutil

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from albert_tf import resources  # noqa: E402


def _sentences(text, limit):
    out = []
    for line in text.splitlines():
        for sentence in re.split(r"(?<=[.!?])\s+", line):
            if sentence.strip():
                out.append(sentence)
                if len(out) >= limit:
                    return out
    return out


@pytest.fixture(scope="session")
def corpus_sentences():
    """~12k real sentences: movie review snippets, State of the Union, Moby Dick."""
    lines = resources.path("movie_review_snippets.tsv").read_text(encoding="utf-8").splitlines()[1:]
    reviews = [line.split("\t", 2)[2] for line in lines][:8000]
    sotu = _sentences(gzip.open(resources.path("sotu.txt.gz"), "rt", encoding="utf-8").read(), 2000)
    moby = _sentences(gzip.open(resources.path("moby_dick.txt.gz"), "rt", encoding="utf-8").read(), 2000)
    return reviews + sotu + moby


ADVERSARIAL = [
    "",
    " ",
    "\t\n\r ",
    "Hello World",
    "1,000,000 dollars and 3, maybe 12,5 or 2010, and x1, y2,z 3,,",
    "In 1,000, 2,000, and 3,000,000, numbers 0, 9, ",
    "Café crème brûlée, naïve façade, Zoë, Ångström, São Paulo, Dvořák",
    "e\u0301 a\u0300\u0327 combining marks \u034f grapheme joiner",
    "``quoted'' and ```triple''' and ` single ' ones",
    "日本語のテキスト 中文字符 한국어",
    "emoji 😀🎉👍🏽 and ZWJ 👨\u200d👩\u200d👧",
    "control \x00\x01\x07\x1b chars \x7f and \x1c\x1d\x1e\x1f separators",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp\u2003em\u3000ideographic\u2028line",
    "ﬁ ﬂ ½ ① ™ ＡＢＣ１２３，fullwidth",
    "İstanbul ΣΑΣ ΟΔΟΣ Straße ǅ",
    "Ελληνικά русский עברית العربية हिन्दी ไทย",
    "   leading and trailing   ",
    "word " * 600,
    "a" * 3000,
    "1," * 50,
    "$1,000.50 vs. €2,5 and £3,",
    "[CLS] [SEP] [MASK] <pad> <unk> pieces as text",
    "\ufeffBOM and \u200b zero width \u200c \u200d",
    "mixed CASE WORDS And Digits 2019, 2020,",
]


@pytest.fixture(scope="session")
def adversarial():
    return list(ADVERSARIAL)


@pytest.fixture(scope="session")
def tokenizer():
    from albert_tf.text import AlbertTokenizer

    return AlbertTokenizer(resources.path("albert-30k-clean.model"))


@pytest.fixture(scope="session")
def spm_processor():
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_file=str(resources.path("albert-30k-clean.model")))


@pytest.fixture(scope="session")
def hf_tokenizer(tmp_path_factory):
    """transformers 5.x AlbertTokenizer (tokenizers backend) from spiece.model."""
    transformers = pytest.importorskip("transformers")
    directory = tmp_path_factory.mktemp("hf_albert")
    shutil.copy(resources.path("albert-30k-clean.model"), directory / "spiece.model")
    return transformers.AlbertTokenizer.from_pretrained(str(directory))

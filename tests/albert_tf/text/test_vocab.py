"""`albert-tf vocab`: an ALBERT-style SentencePiece model from shipped text."""

import gzip

import pytest
import sentencepiece as spm
import tensorflow as tf

from albert_tf import resources
from albert_tf.cli import main
from albert_tf.text import AlbertTokenizer
from albert_tf.text.vocab import train_vocab


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "moby.txt.gz"
    lines = gzip.open(resources.path("moby_dick.txt.gz"), "rt", encoding="utf-8").read().splitlines()[:600]
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("\n".join(lines))
    return path


def test_trained_model_has_albert_layout_and_tokenizes(corpus, tmp_path):
    model_path = train_vocab([corpus], tmp_path / "out" / "tiny", vocab_size=800)
    assert model_path.is_file() and model_path.with_suffix(".vocab").is_file()
    processor = spm.SentencePieceProcessor(model_file=str(model_path))
    assert [processor.id_to_piece(i) for i in range(5)] == ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
    assert processor.pad_id() == 0 and processor.unk_id() == 1
    assert processor.bos_id() == -1 and processor.eos_id() == -1
    assert all(processor.is_control(i) for i in (0, 2, 3, 4)) and processor.is_unknown(1)
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    assert not any(p != p.lower() for p in pieces[5:]), "training text is lowercased"
    tokenizer = AlbertTokenizer(model_path)
    assert (tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id, tokenizer.vocab_size) == (2, 3, 4, 800)
    ids = tokenizer.tokenize(tf.constant(["Call me Ishmael. Some years ago"]))
    assert tokenizer.unk_id not in ids.flat_values.numpy()
    assert tokenizer.detokenize(ids).numpy()[0] == b"call me ishmael. some years ago"


def test_cli_and_errors(corpus, tmp_path):
    assert main(["vocab", str(corpus), "--output-dir", str(tmp_path / "cli"), "--vocab-size", "500", "--max-lines", "300"]) == 0
    assert (tmp_path / "cli" / "spiece.model").is_file() and (tmp_path / "cli" / "spiece.vocab").is_file()
    with pytest.raises(ValueError, match="SentencePiece training failed"):
        train_vocab([corpus], tmp_path / "huge", vocab_size=200000, max_lines=50)
    assert not (tmp_path / "huge.model").exists()  # nothing half-written
    with pytest.raises(FileNotFoundError, match="missing"):
        train_vocab([tmp_path / "nope.txt"], tmp_path / "x", vocab_size=100)
    with pytest.raises(ValueError, match="vocab_size must be an int larger than"):
        train_vocab([corpus], tmp_path / "x", vocab_size=10)

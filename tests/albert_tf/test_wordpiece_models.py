"""A WordPiece (Chinese ALBERT) model saves, exports and serves like a SentencePiece one.

Model directories hold `vocab.txt` instead of `spiece.model` and load back
the same tokenizer; raw-text exports carry `assets/vocab.txt`, pass TF
Serving's op check, reload in a process that imports only tensorflow and
tensorflow_text, and answer over gRPC from the development server exactly
as in-process; the TF Hub-style modules carry the vocabulary as TF Hub's
BERT modules do (`vocab_file`).
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig, saving
from albert_tf.cli import main
from albert_tf.export import check_serving_ops, export_encoder_module, export_preprocess_module, export_saved_model
from albert_tf.text import AlbertPreprocessor, AlbertTokenizer, AlbertWordPieceTokenizer
from albert_tf.text.wordpiece import read_vocabulary
from tests.helpers.export import assert_close, run_fresh
from tests.helpers.serving import ServerProcess

# The full Chinese vocabulary, tiny elsewhere: the graph tokenizes with the
# real 21,128 entries while the encoder stays cheap.
ZH_CONFIG = AlbertConfig(
    vocab_size=21128, embedding_size=16, hidden_size=32, num_hidden_layers=1,
    num_attention_heads=2, intermediate_size=64, max_position_embeddings=64,
)
LABELS = ["负面", "正面"]
TEXTS = [
    "这部电影真好看，演员的表演非常出色！",
    "服务太差了，再也不来了。",
    "ALBERT模型在CLUE上的成绩是78.5分",
    "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ１２３ 和 café",
    "",
]


@pytest.fixture(scope="module")
def tokenizer():
    return AlbertWordPieceTokenizer()


@pytest.fixture(scope="module")
def classifier():
    return AlbertClassifier(AlbertBackbone(ZH_CONFIG), num_classes=2)


def _ids(tokenizer, texts):
    return tokenizer.tokenize(tf.constant(texts)).to_list()


# --- model directories -------------------------------------------------------

def test_model_directory_round_trip_keeps_vocabulary_and_casing(classifier, tmp_path):
    cased = AlbertWordPieceTokenizer(do_lower_case=False)
    directory = saving.save(classifier, tmp_path / "zh", tokenizer=cased)
    assert sorted(p.name for p in directory.iterdir()) == ["model.keras", "tokenizer.json", "vocab.txt"]
    assert json.loads((directory / "tokenizer.json").read_text()) == {"do_lower_case": False}
    assert saving.tokenizer_kind(directory) == "wordpiece"
    reloaded = saving.load_tokenizer(directory)
    assert isinstance(reloaded, AlbertWordPieceTokenizer)
    assert reloaded.do_lower_case is False and reloaded.vocabulary == cased.vocabulary
    assert _ids(reloaded, TEXTS) == _ids(cased, TEXTS)
    # The recorded casing matters: "ALBERT" is [UNK] cased, "al ##bert" lowercased.
    assert _ids(reloaded, TEXTS) != _ids(AlbertWordPieceTokenizer(), TEXTS)
    assert saving.load_tokenizer(directory, do_lower_case=True).do_lower_case is True


def test_wordpiece_directory_refuses_keep_accents(classifier, tmp_path):
    directory = saving.save(classifier, tmp_path / "zh", tokenizer=AlbertWordPieceTokenizer())
    assert saving.load_tokenizer(directory, keep_accents=False).do_lower_case is True
    with pytest.raises(ValueError, match="keep_accents=True is not supported"):
        saving.load_tokenizer(directory, keep_accents=True)


def test_sentencepiece_directories_are_unchanged(tmp_path):
    backbone = AlbertBackbone.from_preset("albert_tiny")
    directory = saving.save(backbone, tmp_path / "en", tokenizer=AlbertTokenizer(keep_accents=True))
    assert sorted(p.name for p in directory.iterdir()) == ["model.keras", "spiece.model", "tokenizer.json"]
    assert saving.tokenizer_kind(directory) == "sentencepiece"
    assert saving.tokenizer_settings(directory) == {"do_lower_case": True, "keep_accents": True}
    assert isinstance(saving.load_tokenizer(directory), AlbertTokenizer)


def test_save_refuses_what_is_no_tokenizer(classifier, tmp_path):
    with pytest.raises(TypeError, match="AlbertTokenizer or AlbertWordPieceTokenizer, got list"):
        saving.save(classifier, tmp_path / "x", tokenizer=["[PAD]"])
    assert not (tmp_path / "x").exists()


# --- raw-text export, fresh process, gRPC -------------------------------------

@pytest.fixture(scope="module")
def exported(classifier, tokenizer, tmp_path_factory):
    base = tmp_path_factory.mktemp("models") / "zh_sentiment"
    version_dir = export_saved_model(classifier, tokenizer, base, seq_length=32, labels=LABELS)
    packed = AlbertPreprocessor(tokenizer, 32, dynamic_padding=True)(tf.constant(TEXTS))
    logits = classifier(packed).numpy()
    return {"base": base, "dir": version_dir, "logits": logits, "ids": packed["input_word_ids"].numpy()}


def test_export_writes_vocab_and_records_kind(exported, tokenizer):
    assets = exported["dir"] / "assets"
    assert sorted(p.name for p in assets.iterdir()) == ["albert_export.json", "vocab.txt"]
    assert (assets / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1] == tokenizer.vocabulary
    metadata = json.loads((assets / "albert_export.json").read_text())
    assert metadata["tokenizer"] == {"kind": "wordpiece", "do_lower_case": True}
    assert metadata["albert_config"]["vocab_size"] == 21128
    check_serving_ops(exported["dir"])


RELOAD = """
import sys
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the tf-text kernels, as TF Serving links them)

loaded = tf.saved_model.load(PAYLOAD["dir"])
out = loaded.signatures["serving_default"](text=tf.constant(PAYLOAD["texts"]))
RESULT = {
    "outputs": {k: v.numpy() for k, v in out.items()},
    "vocab_file": loaded.vocab_file.asset_path.numpy().decode(),
    "modules": sorted(m for m in sys.modules if m.split(".")[0] == "albert_tf"),
}
"""


def test_fresh_process_with_only_tensorflow_text_answers_as_keras(exported, tmp_path):
    result = run_fresh(RELOAD, {"dir": str(exported["dir"]), "texts": TEXTS}, tmp_path)
    assert result["modules"] == []
    assert result["vocab_file"].endswith("vocab.txt")
    out = result["outputs"]
    assert_close(out["logits"], exported["logits"], what="logits")
    np.testing.assert_array_equal(out["label_ids"], exported["logits"].argmax(-1))
    assert [x.decode() for x in out["labels"]] == [LABELS[i] for i in exported["logits"].argmax(-1)]


def test_development_server_answers_over_grpc_as_in_process(exported):
    from serving.client import AlbertClient

    expected = tf.saved_model.load(str(exported["dir"])).signatures["serving_default"](text=tf.constant(TEXTS))
    server = ServerProcess("dev", ["--model_name=zh", f"--model_base_path={exported['base']}"], "zh")
    try:
        with AlbertClient(server.grpc_target, "zh") as client:
            result = client.predict(TEXTS)
    finally:
        server.stop()
    np.testing.assert_array_equal(result["logits"], expected["logits"].numpy())
    np.testing.assert_array_equal(result["label_ids"], expected["label_ids"].numpy())
    assert [p.label for p in result.predictions] == [x.decode() for x in expected["labels"].numpy()]


def test_export_command_reads_kind_and_casing_from_the_model_directory(classifier, tmp_path):
    directory = saving.save(classifier, tmp_path / "zh", tokenizer=AlbertWordPieceTokenizer(do_lower_case=False))
    base = tmp_path / "models" / "zh"
    assert main(["export", "--model-dir", str(directory), "--output-dir", str(base), "--seq-length", "16"]) == 0
    metadata = json.loads((base / "1" / "assets" / "albert_export.json").read_text())
    assert metadata["tokenizer"] == {"kind": "wordpiece", "do_lower_case": False}
    served = tf.saved_model.load(str(base / "1")).signatures["serve_token_ids"]
    assert "logits" in served.structured_outputs


# --- TF Hub-style modules -------------------------------------------------------

def test_hub_modules_carry_the_vocabulary_as_bert_modules_do(classifier, tokenizer, tmp_path):
    export_encoder_module(classifier, tmp_path / "encoder", tokenizer=tokenizer)
    encoder = tf.saved_model.load(str(tmp_path / "encoder"))
    assert encoder.vocab_file.asset_path.numpy().decode().endswith("vocab.txt")
    assert not hasattr(encoder, "sp_model_file") and bool(encoder.do_lower_case.numpy())

    export_preprocess_module(tokenizer, tmp_path / "preprocess", seq_length=32)
    preprocess = tf.saved_model.load(str(tmp_path / "preprocess"))
    assert (tmp_path / "preprocess" / "assets" / "vocab.txt").is_file()
    packed = preprocess(tf.constant(TEXTS))["input_word_ids"].numpy()
    expected = AlbertPreprocessor(tokenizer, 32)(tf.constant(TEXTS))["input_word_ids"].numpy()
    np.testing.assert_array_equal(packed, expected)
    special = {k: int(v) for k, v in preprocess.tokenize.get_special_tokens_dict().items()}
    assert special == {"vocab_size": 21128, "start_of_sequence_id": 101, "end_of_segment_id": 102,
                       "padding_id": 0, "mask_id": 103, "unk_id": 100}


# --- conversion -----------------------------------------------------------------

def _convert(*args):
    return main(["convert", *map(str, args)])


@pytest.fixture(scope="module")
def hf_chinese_dir(tmp_path_factory):
    """A random-weight transformers `AlbertModel` saved as the community Chinese ALBERTs ship:
    config.json + weights + BERT's vocab.txt and tokenizer_config.json."""
    import shutil

    import torch
    import transformers

    from albert_tf import resources

    torch.manual_seed(0)
    config = transformers.AlbertConfig(
        vocab_size=21128, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64, hidden_act="gelu",
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-12,
    )
    directory = tmp_path_factory.mktemp("hf") / "albert_chinese_tiny"
    transformers.AlbertModel(config).eval().save_pretrained(directory)
    shutil.copy(resources.path("bert-chinese-vocab.txt"), directory / "vocab.txt")
    (directory / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 64}))
    return directory


def test_huggingface_chinese_albert_converts_with_wordpiece_end_to_end(hf_chinese_dir, tmp_path):
    import torch
    import transformers

    out = tmp_path / "converted"
    assert _convert("--from", "huggingface", hf_chinese_dir, "--output-dir", out) == 0
    # Same tokens line by line (lines are stored stripped, as BERT's load_vocab reads them).
    assert read_vocabulary(out / "vocab.txt") == read_vocabulary(hf_chinese_dir / "vocab.txt")
    tokenizer = saving.load_tokenizer(out)
    assert isinstance(tokenizer, AlbertWordPieceTokenizer) and tokenizer.do_lower_case
    model = saving.load(out)

    # The empty text aside (transformers packs it as [CLS] [SEP] too).
    texts = TEXTS[:3] + ["深度学习让机器读懂中文：ALBERT、BERT和Transformer。"]
    packed = {k: v.numpy() for k, v in AlbertPreprocessor(tokenizer, 48)(tf.constant(texts)).items()}
    reference_tokenizer = transformers.BertTokenizer(str(hf_chinese_dir / "vocab.txt"), do_lower_case=True)
    encoded = reference_tokenizer(texts, padding="max_length", max_length=48, truncation=True, return_tensors="np")
    np.testing.assert_array_equal(packed["input_word_ids"], encoded["input_ids"])
    np.testing.assert_array_equal(packed["input_mask"], encoded["attention_mask"])
    np.testing.assert_array_equal(packed["input_type_ids"], encoded["token_type_ids"])

    ours = model(packed)
    reference_model = transformers.AlbertModel.from_pretrained(hf_chinese_dir).eval()
    with torch.no_grad():
        reference = reference_model(**{k: torch.tensor(v, dtype=torch.long) for k, v in encoded.items()})
    mask = packed["input_mask"][..., None].astype(bool)
    sequence_diff = np.abs(ours["sequence_output"].numpy() - reference.last_hidden_state.numpy()) * mask
    pooled_diff = np.abs(ours["pooled_output"].numpy() - reference.pooler_output.numpy())
    print(f"\nHF Chinese ALBERT end to end: max |diff| sequence {sequence_diff.max():.2e}, "
          f"pooled {pooled_diff.max():.2e}")
    assert sequence_diff.max() <= 1e-5 and pooled_diff.max() <= 1e-5


def test_huggingface_tokenizer_config_casing_is_kept(hf_chinese_dir, tmp_path):
    import shutil

    source = tmp_path / "cased"
    shutil.copytree(hf_chinese_dir, source)
    (source / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False}))
    assert _convert("--from", "huggingface", source, "--output-dir", tmp_path / "out") == 0
    assert saving.tokenizer_settings(tmp_path / "out") == {"do_lower_case": False}
    assert saving.load_tokenizer(tmp_path / "out").do_lower_case is False

    (source / "tokenizer_config.json").write_text(json.dumps({"tokenize_chinese_chars": False}))
    assert _convert("--from", "huggingface", source, "--output-dir", tmp_path / "never") == 1
    assert not (tmp_path / "never").exists()


def test_google_chinese_tarball_layout_converts_with_vocab_chinese(tmp_path):
    """albert_base_zh.tar.gz holds albert_config.json, albert_model.ckpt.* and vocab_chinese.txt."""
    import shutil

    from albert_tf import resources
    from albert_tf.convert import tf1_checkpoint

    tarball = tmp_path / "albert_tiny_zh"
    tarball.mkdir()
    (tarball / "albert_config.json").write_text(json.dumps(ZH_CONFIG.to_dict()))
    shutil.copy(resources.path("bert-chinese-vocab.txt"), tarball / "vocab_chinese.txt")
    rng = np.random.default_rng(0)
    tensors = {entry.source: rng.standard_normal(entry.shape).astype(np.float32)
               for entry in tf1_checkpoint.name_map(ZH_CONFIG, "backbone")}
    names = sorted(tensors)
    tf.raw_ops.SaveV2(prefix=str(tarball / "albert_model.ckpt"), tensor_names=names,
                      shape_and_slices=[""] * len(names), tensors=[tf.constant(tensors[n]) for n in names])

    out = tmp_path / "converted"
    assert _convert("--from", "tf1-checkpoint", tarball / "albert_model.ckpt", "--output-dir", out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["model.keras", "tokenizer.json", "vocab.txt"]
    tokenizer = saving.load_tokenizer(out)
    assert isinstance(tokenizer, AlbertWordPieceTokenizer) and tokenizer.do_lower_case
    assert tokenizer.vocabulary == AlbertWordPieceTokenizer().vocabulary
    variables = {variable.path: variable.numpy() for variable in saving.load(out).variables}
    np.testing.assert_array_equal(variables["embeddings/word_embeddings/embeddings"],
                                  tensors["bert/embeddings/word_embeddings"])


# --- pretraining data from Chinese text --------------------------------------------

CHINESE_DOCUMENT = [
    "ALBERT是一种轻量的BERT模型。它在GLUE、SQuAD和RACE上取得了很好的成绩！参数共享让模型更小。",
    "中文版本使用WordPiece词表，共有21128个词。全词掩码把一个英文单词的所有##片段一起遮住。",
    "我们用人民日报的语料做预训练。句子顺序预测要求模型判断两段文字的先后？这很有意思。",
]


def test_pretraining_data_from_chinese_text_masks_whole_words(tmp_path):
    from albert_tf.text import masking
    from training.data import creation

    vocab = creation.PretrainingVocab("resource:bert-chinese-vocab.txt")
    assert isinstance(vocab.tokenizer, AlbertWordPieceTokenizer) and vocab.vocab_size == 21128
    assert (vocab.pad_id, vocab.cls_id, vocab.sep_id, vocab.mask_id) == (0, 101, 102, 103)
    sentences = [s for line in CHINESE_DOCUMENT for s in creation.split_sentences(line)]
    assert len(sentences) == 8 and sentences[1] == "它在GLUE、SQuAD和RACE上取得了很好的成绩！"
    document = vocab.encode(sentences)
    pieces = [p.decode() for p in vocab.tokenizer.id_to_piece(np.concatenate(document)).numpy()]
    continuations = {i for i, p in enumerate(np.concatenate(document)) if pieces[i].startswith("##")}
    assert continuations and not vocab.start_pieces[np.concatenate(document)[sorted(continuations)]].any()

    rng = np.random.default_rng(0)
    config = vocab.masking_config(max_predictions_per_seq=10, masked_lm_prob=0.3)
    spans_over_pieces = 0
    for _ in range(20):
        for a, b, _label in creation.create_segment_pairs(document, 64, rng, vocab.start_pieces):
            ids, mask, _ = creation.pack_pair(a, b, 64, vocab.cls_id, vocab.sep_id, vocab.pad_id)
            _, positions, labels, spans = masking.mask_tokens(ids, config, rng, mask)
            np.testing.assert_array_equal(labels, ids[positions])
            for start, end, _n in spans:
                # Whole words: a span starts at a word (or where truncation cut a
                # segment) and stops before the next one.
                assert vocab.start_pieces[ids[start]] or ids[start - 1] in vocab.special_ids
                assert end == len(ids) or vocab.start_pieces[ids[end]] or ids[end] in vocab.special_ids
                spans_over_pieces += int(not vocab.start_pieces[ids[start:end]].all())
    assert spans_over_pieces > 0  # some spans did hold a word with its ## pieces

    corpus = tmp_path / "zh.txt"
    corpus.write_text("\n".join(CHINESE_DOCUMENT) + "\n\n中文预训练。只有一行的文档。\n", encoding="utf-8")
    metadata = creation.create_pretraining_data(
        [corpus], tmp_path / "data", spm_model="resource:bert-chinese-vocab.txt",
        max_seq_length=32, max_predictions_per_seq=5,
    )
    assert metadata["train_instances"] > 0 and metadata["params"]["spm_model"].endswith("bert-chinese-vocab.txt")
    record = next(iter(tf.data.TFRecordDataset(str(tmp_path / "data" / metadata["train_shards"][0]))))
    example = tf.train.Example.FromString(record.numpy())
    ids = list(example.features.feature["input_ids"].int64_list.value)
    assert ids[0] == 101 and 102 in ids and max(ids) < 21128

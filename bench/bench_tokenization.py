"""Tokenization throughput: albert_tf vs transformers vs keras-hub, side by side.

Sentences per second on the movie review snippets in batches of 256
(ids only, no packing), one run, printed as a table with ratios to
albert_tf's eager tokenizer. `run(quick=False) -> dict` returns the
figures for bench/run.py.

- albert_tf eager: `AlbertTokenizer.tokenize` called batch by batch.
- albert_tf tf.function: the same inside one traced function (what
  tf.data and serving signatures run).
- transformers: 5.x `AlbertTokenizer` (Rust tokenizers backend, i.e. the
  "fast" tokenizer) built offline from the same spiece.model.
- keras-hub: `keras_hub.tokenizers.AlbertTokenizer(proto=...)` (no
  lowercasing, no ALBERT normalization: less work, different ids).
"""

import os
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

BATCH = 256


def _texts():
    from albert_tf import resources

    lines = resources.path("movie_review_snippets.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t", 2)[2] for line in lines]


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

    texts = _texts()
    if quick:
        texts = texts[: BATCH * 8]
    batches = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
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

        directory = tempfile.mkdtemp()
        try:
            shutil.copy(model, os.path.join(directory, "spiece.model"))
            hf = HFAlbertTokenizer.from_pretrained(directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
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

    best = results["albert_tf tf.function"]
    return {
        "title": f"Tokenization throughput (sentences/s, batch {BATCH}, {len(texts)} movie review snippets)",
        "rows": [{"tokenizer": name, "sentences/s": value} for name, value in results.items()],
        "ratios": {f"albert_tf tf.function vs {name}": best / value
                   for name, value in results.items() if not name.startswith("albert_tf")},
        "notes": [
            "albert_tf applies ALBERT's normalization (whitespace, quotes, accents, lowercasing) and the "
            "digit-comma re-split in the graph; keras-hub's tokenizer does none of these (different ids).",
            *(f"{name}: {note}" for name, note in notes.items()),
        ],
    }


def _print(report):
    print(report["title"])
    for row in report["rows"]:
        print(f"  {row['tokenizer']:<28}{row['sentences/s']:>14,.0f}")
    for name, ratio in report["ratios"].items():
        print(f"  {name}: {ratio:.2f}x")
    for note in report["notes"]:
        print(f"  {note}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    _print(run(quick=parser.parse_args().quick))

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

    base = results["albert_tf eager"]
    report = {
        "batch_size": BATCH,
        "sentences": len(texts),
        "sentences_per_s": results,
        "ratio_to_albert_tf_eager": {k: v / base for k, v in results.items()},
        "notes": notes,
    }
    return report


def _print(report):
    print(f"tokenization, {report['sentences']} movie review snippets, batch {report['batch_size']}")
    print(f"{'tokenizer':<28}{'sentences/s':>14}{'ratio':>9}")
    for name, value in report["sentences_per_s"].items():
        print(f"{name:<28}{value:>14,.0f}{report['ratio_to_albert_tf_eager'][name]:>9.2f}")
    for name, note in report["notes"].items():
        print(f"{name:<28}{note}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    _print(run(quick=parser.parse_args().quick))

"""Raw-text classification throughput on CPU: albert_tf's SavedModel vs keras-hub vs transformers.

Same texts (the movie review snippets, file order, never sorted by length),
same model shape (ALBERT-base with random weights, or `--size tiny`), same
batch sizes (1 and 32), one process, side by side:

1. albert_tf: `export_saved_model` raw-text SavedModel, reloaded with
   `tf.saved_model.load`, `signatures["serving_default"](text=...)`
   (tokenization + packing with dynamic padding + encoder, one graph).
2. keras-hub default: `AlbertTextClassifier` with its
   `AlbertTextClassifierPreprocessor` at its default sequence_length 512,
   called as users do: one `classifier.predict(texts, batch_size=B)`.
3. keras-hub tuned: the same with sequence_length 128.
4. transformers: `AlbertTokenizer` + `AlbertForSequenceClassification`
   (torch, eval, no_grad), `padding=True` (pads to the batch's longest),
   with torch's default threads and with 1 thread; the ratio takes the
   faster of the two.

Prints texts/s and the ratios albert_tf / other. Run:

    .venv/bin/python bench/bench_inference.py [--size base|tiny] [--quick]
"""

import argparse
import csv
import json
import os
import pathlib
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.shapes import PRESET_OF_SIZE, config_of, keras_hub_backbone, transformers_config  # noqa: E402



def _texts():
    from albert_tf import resources

    with open(resources.path("movie_review_snippets.tsv"), newline="") as f:
        return [row["text"] for row in csv.DictReader(f, delimiter="\t")]


def _batched(predict):
    """Runs a per-batch `predict(list of texts)` over all texts, batch after batch."""

    def predict_all(texts, batch_size):
        for i in range(0, len(texts), batch_size):
            predict(texts[i:i + batch_size])

    return predict_all


def _throughput(predict_all, texts, batch_size):
    """texts/s of `predict_all(texts, batch_size)` (file order), after a one-batch warm-up."""
    predict_all(texts[:batch_size], batch_size)
    start = time.perf_counter()
    predict_all(texts, batch_size)
    return len(texts) / (time.perf_counter() - start)


def _albert_tf(config, workdir):
    import tensorflow as tf

    from albert_tf import AlbertBackbone, AlbertClassifier
    from albert_tf.export import export_saved_model
    from albert_tf.text import AlbertTokenizer

    model = AlbertClassifier(AlbertBackbone(config), num_classes=2)
    directory = export_saved_model(model, AlbertTokenizer(), pathlib.Path(workdir) / "albert_tf", seq_length=512)
    serve = tf.saved_model.load(str(directory)).signatures["serving_default"]
    return _batched(lambda batch: serve(text=tf.constant(batch))["probabilities"].numpy())


def _keras_hub(config, sequence_length):
    import keras_hub

    from albert_tf import resources

    backbone = keras_hub_backbone(config)
    tokenizer = keras_hub.models.AlbertTokenizer(proto=str(resources.path("albert-30k-clean.model")))
    preprocessor = keras_hub.models.AlbertTextClassifierPreprocessor(tokenizer, sequence_length=sequence_length)
    classifier = keras_hub.models.AlbertTextClassifier(backbone, num_classes=2, preprocessor=preprocessor)
    # One predict() over all texts: keras-hub's bulk path (its per-call
    # overhead is paid once, which favours keras-hub at batch 1).
    return lambda texts, batch_size: classifier.predict(texts, batch_size=batch_size, verbose=0)


def _transformers(config, workdir, threads=None):
    import shutil

    import torch
    import transformers

    from albert_tf import resources

    vocab_dir = pathlib.Path(workdir) / f"hf_tokenizer_{threads}"
    vocab_dir.mkdir()
    shutil.copy(resources.path("albert-30k-clean.model"), vocab_dir / "spiece.model")
    tokenizer = transformers.AlbertTokenizer.from_pretrained(str(vocab_dir))
    model = transformers.AlbertForSequenceClassification(transformers_config(config, num_labels=2)).eval()

    def predict(batch):
        encoded = tokenizer(batch, padding=True, truncation=True, max_length=512, return_tensors="pt")
        with torch.no_grad():
            return torch.softmax(model(**encoded).logits, -1).numpy()

    def predict_all(texts, batch_size):
        previous = torch.get_num_threads()
        torch.set_num_threads(threads or previous)
        try:
            _batched(predict)(texts, batch_size)
        finally:
            torch.set_num_threads(previous)

    return predict_all


def run(quick=False, size=None):
    """Measures texts/s of each system at batch 1 and 32; returns the report dict.

    Args:
        quick: tiny shapes and few texts (checks the machinery).
        size: "base" or "tiny" (default: tiny when quick, else base).
    """
    import torch

    size = size or ("tiny" if quick else "base")
    config = config_of(size)
    texts = _texts()
    # Texts per batch size: enough batches to average, few enough for 2 CPU cores.
    counts = {1: 16, 32: 64} if quick else {1: 32, 32: 64}
    rows, ratios = [], {}
    with tempfile.TemporaryDirectory() as workdir:
        systems = {
            "albert_tf SavedModel (dynamic padding)": _albert_tf(config, workdir),
            "keras-hub default (seq 512)": _keras_hub(config, 512),
            "keras-hub tuned (seq 128)": _keras_hub(config, 128),
            "transformers torch (pad longest)": _transformers(config, workdir),
            # OpenMP barriers suffer on a busy machine; one thread can be faster:
            # the ratio uses the better of the two torch settings.
            "transformers torch, 1 thread": _transformers(config, workdir, threads=1),
        }
        for batch_size, count in counts.items():
            row = {"batch size": batch_size, "texts": count}
            for name, predict in systems.items():
                row[name] = _throughput(predict, texts[:count], batch_size)
                print(f"batch {batch_size:>2} {name:<42} {row[name]:9.1f} texts/s", flush=True)
            ours = row["albert_tf SavedModel (dynamic padding)"]
            for name in list(systems)[1:3]:
                ratios[f"albert_tf / {name}, batch {batch_size}"] = ours / row[name]
            best_torch = max(row["transformers torch (pad longest)"], row["transformers torch, 1 thread"])
            ratios[f"albert_tf / transformers (best thread setting), batch {batch_size}"] = ours / best_torch
            rows.append(row)
    for name, value in ratios.items():
        print(f"{name:<72} {value:6.2f}x")
    import tensorflow as tf

    return {
        "title": f"Raw-text classification throughput on CPU (texts/s, ALBERT-{size} shape, random weights)",
        "rows": rows,
        "ratios": ratios,
        "notes": [
            "Movie review snippets in file order (not sorted by length); one warm-up batch per system.",
            f"Threads: TensorFlow default (intra-op {tf.config.threading.get_intra_op_parallelism_threads()} "
            f"= all cores), torch {torch.get_num_threads()}; {os.cpu_count()} CPUs visible.",
            "Targets: albert_tf >= 1.5x keras-hub default and >= 1.2x transformers at batch 1 and 32.",
        ],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(PRESET_OF_SIZE), default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", default=None, help="also write the result dict here")
    args = parser.parse_args()
    result = run(quick=args.quick, size=args.size)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

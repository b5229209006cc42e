"""Raw-text classification throughput on CPU: albert_tf's SavedModel vs keras-hub, transformers and ONNX Runtime.

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
5. ONNX Runtime, what CPU-serving users pick: the same transformers model
   exported with `torch.onnx.export` (dynamic batch and sequence axes),
   run by an `InferenceSession` with every graph optimization
   (ORT_ENABLE_ALL) and its default threads, fed by the same tokenizer
   padding to the batch's longest; its logits are checked against PyTorch
   on a padded batch of the same texts in the same run.

Prints texts/s, the tokens each system computes (padding included), their
encoder FLOP/s as a fraction of a large float32 matmul on the same
machine, the CPU's vector flags, and the ratios albert_tf / other. Run:

    .venv/bin/python bench/bench_inference.py [--size base|tiny] [--quick]
"""

import argparse
import csv
import functools
import json
import os
import pathlib
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from albert_tf.cli import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

from bench.shapes import (  # noqa: E402
    PRESET_OF_SIZE,
    albert_transformers_tokenizer,
    config_of,
    cpu_flags,
    encoder_flops,
    keras_hub_backbone,
    matmul_flops_per_second,
    transformers_config,
)

OURS = "albert_tf SavedModel (dynamic padding)"
ONNX = "ONNX Runtime (all optimizations)"



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


def _transformers(config, threads=None):
    import torch
    import transformers

    tokenizer = albert_transformers_tokenizer()
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


def _onnx_runtime(config, workdir, texts):
    """(predict_all, max |logits - PyTorch logits| on a padded batch of `texts`)."""
    import numpy as np
    import onnxruntime
    import torch
    import transformers

    tokenizer = albert_transformers_tokenizer()
    model = transformers.AlbertForSequenceClassification(transformers_config(config, num_labels=2)).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    encode = functools.partial(tokenizer, padding=True, truncation=True, max_length=512,
                               return_token_type_ids=True)
    sample = encode(texts[:2], return_tensors="pt")
    path = pathlib.Path(workdir) / "albert.onnx"
    torch.onnx.export(
        model, tuple(sample[n] for n in names), str(path), input_names=names, output_names=["logits"],
        dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "logits": {0: "batch"}},
        opset_version=17, dynamo=False,
    )
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def predict(batch):
        encoded = encode(batch, return_tensors="np")
        logits = session.run(None, {n: encoded[n].astype(np.int64) for n in names})[0]
        return np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)

    check = encode(texts[:8], return_tensors="pt")
    with torch.no_grad():
        reference = model(**{n: check[n] for n in names}).logits.numpy()
    got = session.run(None, {n: check[n].numpy() for n in names})[0]
    return _batched(predict), float(np.abs(got - reference).max())


def computed_tokens(lengths, batch_size, fixed_length=None):
    """[(rows, padded length)] of each batch: the batch's longest, or `fixed_length`."""
    return [(len(lengths[i:i + batch_size]), fixed_length or max(lengths[i:i + batch_size]))
            for i in range(0, len(lengths), batch_size)]


def run(quick=False, size=None):
    """Measures texts/s of each system at batch 1 and 32; returns the report dict.

    Args:
        quick: tiny shapes and few texts (checks the machinery).
        size: "base" or "tiny" (default: tiny when quick, else base).
    """
    import tensorflow as tf
    import torch

    from albert_tf.text import AlbertTokenizer

    size = size or ("tiny" if quick else "base")
    config = config_of(size)
    texts = _texts()
    # Texts per batch size: enough batches to average, few enough for 2 CPU cores.
    counts = {1: 16, 32: 64} if quick else {1: 32, 32: 64}
    peak = matmul_flops_per_second()
    # Packed lengths ([CLS] text [SEP]); transformers and ONNX Runtime make the same pieces.
    lengths = [len(ids) + 2 for ids in AlbertTokenizer().tokenize(tf.constant(texts[:max(counts.values())])).to_list()]
    rows, ratios = [], {}
    with tempfile.TemporaryDirectory() as workdir:
        onnx_predict, onnx_error = _onnx_runtime(config, workdir, texts)
        systems = {
            OURS: (_albert_tf(config, workdir), None),
            "keras-hub default (seq 512)": (_keras_hub(config, 512), 512),
            "keras-hub tuned (seq 128)": (_keras_hub(config, 128), 128),
            "transformers torch (pad longest)": (_transformers(config), None),
            # OpenMP barriers suffer on a busy machine; one thread can be faster:
            # the ratio uses the better of the two torch settings.
            "transformers torch, 1 thread": (_transformers(config, threads=1), None),
            ONNX: (onnx_predict, None),
        }
        for batch_size, count in counts.items():
            speed = {"batch size": batch_size, "measure": "texts/s"}
            tokens = {"batch size": batch_size, "measure": "computed tokens"}
            share = {"batch size": batch_size, "measure": "encoder FLOP/s / float32 matmul FLOP/s"}
            for name, (predict, fixed_length) in systems.items():
                seconds = count / _throughput(predict, texts[:count], batch_size)
                batches = computed_tokens(lengths[:count], batch_size, fixed_length)
                speed[name] = count / seconds
                tokens[name] = sum(rows_ * length for rows_, length in batches)
                share[name] = round(sum(encoder_flops(config, *b) for b in batches) / seconds / peak, 3)
                print(f"batch {batch_size:>2} {name:<42} {speed[name]:9.1f} texts/s", flush=True)
            ours = speed[OURS]
            for name in ("keras-hub default (seq 512)", "keras-hub tuned (seq 128)", ONNX):
                ratios[f"albert_tf / {name}, batch {batch_size}"] = ours / speed[name]
            best_torch = max(speed["transformers torch (pad longest)"], speed["transformers torch, 1 thread"])
            ratios[f"albert_tf / transformers (best thread setting), batch {batch_size}"] = ours / best_torch
            rows += [speed, tokens, share]
    for name, value in ratios.items():
        print(f"{name:<72} {value:6.2f}x")

    return {
        "title": f"Raw-text classification throughput on CPU (texts/s, ALBERT-{size} shape, random weights)",
        "rows": rows,
        "ratios": ratios,
        "notes": [
            "Movie review snippets in file order (not sorted by length); one warm-up batch per system.",
            f"Threads: TensorFlow default (intra-op {tf.config.threading.get_intra_op_parallelism_threads()} "
            f"= all cores), torch {torch.get_num_threads()}, ONNX Runtime default; {os.cpu_count()} CPUs "
            f"visible; CPU flags: {' '.join(cpu_flags()) or 'unknown'}.",
            f"ONNX Runtime logits vs PyTorch on a padded batch of 8 texts: max |diff| {onnx_error:.1e}.",
            f"Computed tokens: rows x the length each batch is padded to. FLOP/s: encoder matmul FLOPs "
            f"at those lengths per second, over a float32 2048 x 2048 matmul's {peak / 1e9:.1f} GFLOP/s "
            "on this machine (tokenization time included in the seconds).",
            "Targets: albert_tf >= 1.5x keras-hub default and >= 1.2x transformers at batch 1 and 32; "
            ">= 1.0x ONNX Runtime and >= 1.3x PyTorch eager (issue #18).",
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

"""Serving benchmark: a request through TF Serving's gRPC API vs the alternatives in-process.

One raw-text ALBERT classifier export (albert_tf.export, random weights:
latency does not depend on their values) is served by the development server
in a subprocess. Side by side, same texts, same batch sizes, same shape:

1. albert_tf in-process: `tf.saved_model.load(...).signatures["serving_default"]`;
2. albert_tf served: `AlbertClient.predict` against the dev server on
   127.0.0.1 (serialization, gRPC and the server's threads included);
3. keras-hub `AlbertTextClassifier` + its preprocessor at seq 128 (its best
   setting, see the inference benchmark) in one `tf.function` per request
   (`predict()` per request would add ~50 ms of set-up each), in-process;
4. transformers tokenizer + `AlbertForSequenceClassification`, padding to
   the longest text, in-process;
5. albert_tf served with concurrency: N client threads (throughput).

keras-hub and transformers ship no server of their own, so they are timed
without any serving overhead: the ratios favour them. Reports p50/p95
latency per request and the ratio alternative p50 / served albert_tf p50.
Run:

    .venv/bin/python bench/bench_serving.py [--quick]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _settings(quick):
    if quick:
        return {"preset": "albert_tiny", "seq_length": 64, "batch_sizes": [1, 8], "requests": 20,
                "warmup": 3, "threads": 2, "throughput_seconds": 2.0}
    return {"preset": "albert_base_v2", "seq_length": 128, "batch_sizes": [1, 8, 32], "requests": 30,
            "warmup": 3, "threads": 4, "throughput_seconds": 10.0}


def _texts(count):

    from albert_tf import resources

    with open(resources.path("movie_review_snippets.tsv"), encoding="utf-8") as f:
        lines = [line.rstrip("\n").split("\t")[-1] for line in list(f)[1:] if line.strip()]
    return [lines[i % len(lines)] for i in range(count)]


def _export(preset, seq_length, base):
    from albert_tf import AlbertBackbone, AlbertClassifier
    from albert_tf.export import export_saved_model
    from albert_tf.text import AlbertTokenizer

    model = AlbertClassifier(AlbertBackbone.from_preset(preset), num_classes=2)
    return str(export_saved_model(model, AlbertTokenizer(), base, version=1, seq_length=seq_length,
                                  labels=["negative", "positive"]))


def _percentiles(seconds):
    ms = np.asarray(seconds) * 1000.0
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "mean_ms": float(ms.mean())}


def _time(fn, requests, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _start_server(base):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen(
        [sys.executable, "-m", "serving.server", "--port", "0", "--rest_api_port", "-1",
         "--model_name", "albert", "--model_base_path", base, "--file_system_poll_wait_seconds", "0"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    if not line.startswith("READY"):
        process.kill()
        raise RuntimeError(f"dev server did not start: {line!r}")
    return process, int(line.split()[1].split("=")[1])


def _keras_hub_function(config, sequence_length):
    """keras-hub's classifier with its preprocessor as one compiled function of raw texts."""
    import keras_hub
    import tensorflow as tf

    from albert_tf import resources
    from bench.shapes import keras_hub_backbone

    tokenizer = keras_hub.models.AlbertTokenizer(proto=str(resources.path("albert-30k-clean.model")))
    preprocessor = keras_hub.models.AlbertTextClassifierPreprocessor(tokenizer, sequence_length=sequence_length)
    classifier = keras_hub.models.AlbertTextClassifier(keras_hub_backbone(config), num_classes=2,
                                                        preprocessor=None)
    return tf.function(lambda texts: tf.nn.softmax(classifier(preprocessor(texts), training=False)))


def run(quick=False):
    """Measures per-request latency of each system and served throughput; returns a report dict."""
    import tensorflow as tf

    from albert_tf import AlbertConfig
    from bench.bench_inference import _transformers
    from serving.client import AlbertClient

    settings = _settings(quick)
    config = AlbertConfig.from_preset(settings["preset"])
    rows, ratios = [], {}
    with tempfile.TemporaryDirectory() as workdir:
        base = os.path.join(workdir, "albert")
        export_dir = _export(settings["preset"], settings["seq_length"], base)
        signature = tf.saved_model.load(export_dir).signatures["serving_default"]
        keras_hub_predict = _keras_hub_function(config, settings["seq_length"])
        transformers_predict = _transformers(config, workdir)
        process, port = _start_server(base)
        try:
            client = AlbertClient(f"127.0.0.1:{port}", "albert", timeout=60, max_batch_size=1024)
            for batch in settings["batch_sizes"]:
                texts = _texts(batch)
                systems = {
                    "albert_tf in-process": lambda: signature(text=tf.constant(texts)),
                    "albert_tf served (dev server, gRPC)": lambda: client.predict(texts),
                    f"keras-hub in-process (seq {settings['seq_length']})":
                        lambda: keras_hub_predict(tf.constant(texts)),
                    "transformers in-process": lambda: transformers_predict(texts, batch),
                }
                p50 = {}
                for system, request in systems.items():
                    times = _time(request, settings["requests"], settings["warmup"])
                    p50[system] = float(np.median(times))
                    rows.append({"system": system, "batch": batch, **_percentiles(times),
                                 "texts_per_s": batch / float(np.mean(times))})
                served = p50.pop("albert_tf served (dev server, gRPC)")
                ratios[f"batch {batch}: serving overhead (albert_tf in-process p50 / served p50)"] = (
                    p50.pop("albert_tf in-process") / served)
                for system, seconds in p50.items():
                    ratios[f"batch {batch}: {system} p50 / albert_tf served p50"] = seconds / served

            # Throughput: concurrent clients, batch 1.
            texts = _texts(1)
            count, stop = [0], threading.Event()
            lock = threading.Lock()

            def worker():
                with AlbertClient(f"127.0.0.1:{port}", "albert", timeout=60) as own:
                    while not stop.is_set():
                        own.predict(texts)
                        with lock:
                            count[0] += 1

            threads = [threading.Thread(target=worker) for _ in range(settings["threads"])]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            time.sleep(settings["throughput_seconds"])
            stop.set()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start
            rows.append({"system": f"dev server gRPC, {settings['threads']} threads", "batch": 1,
                         "requests_per_s": count[0] / elapsed})
            client.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    return {
        "title": "Serving: a request through TF Serving's gRPC API (dev server, loopback) vs in-process alternatives",
        "rows": rows,
        "ratios": ratios,
        "settings": settings,
        "notes": [
            f"{settings['preset']} classifier export (raw text in, seq_length {settings['seq_length']}), "
            "random weights; texts from movie_review_snippets.tsv.",
            "Ratios > 1: the alternative takes longer per request than albert_tf served over gRPC. "
            "keras-hub and transformers run in the benchmark process with no server in between.",
            "The dev server is for development; production runs tensorflow/serving:2.21 (not measurable "
            "here: no Docker engine).",
        ],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(quick=args.quick), indent=2))


if __name__ == "__main__":
    main()

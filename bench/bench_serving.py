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
5. load: 1, 8 and 32 concurrent clients (one snippet per request, each
   client cycling through every movie review snippet) against the dev
   server with and without `--enable_batching` (the shipped
   serving/docker/batching.config), beside the in-process call: p50/p99
   latency, requests per second, failed requests, and the padding fraction
   of the computed input bytes the batcher reports (its stand-in for
   tokens) when it stops;
6. a version hot swap under that load: version 2 appears mid-run, the
   server loads it and unloads version 1; every failed request is counted.

keras-hub and transformers ship no server of their own, so they are timed
without any serving overhead: the ratios favour them. Reports p50/p95
latency per request and the ratio alternative p50 / served albert_tf p50,
and the load ratios (throughput batching on / off, client + gRPC overhead
at batch 1 over the in-process call). Run:

    .venv/bin/python -m bench.bench_serving [--quick]
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCHING_CONFIG = os.path.join(REPO, "serving", "docker", "batching.config")


def _settings(quick):
    if quick:
        return {"preset": "albert_tiny", "seq_length": 64, "batch_sizes": [1, 8], "requests": 20,
                "warmup": 3, "concurrency": [1, 8, 32], "load_seconds": 2.0, "warmup_seconds": 0.5}
    return {"preset": "albert_base_v2", "seq_length": 128, "batch_sizes": [1, 8, 32], "requests": 30,
            "warmup": 3, "concurrency": [1, 8, 32], "load_seconds": 15.0, "warmup_seconds": 3.0}


def _texts(count=None):
    """`count` movie review snippets (repeated as needed), or all of them."""
    from albert_tf import resources

    with open(resources.path("movie_review_snippets.tsv"), encoding="utf-8") as f:
        lines = [line.rstrip("\n").split("\t")[-1] for line in list(f)[1:] if line.strip()]
    return [lines[i % len(lines)] for i in range(len(lines) if count is None else count)]


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


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(base, log_path, batching=False, poll_seconds=0):
    """The dev server on a free loopback gRPC port, stderr to `log_path`; returns (process, port)."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    port = _free_port()
    flags = [f"--port={port}", "--rest_api_port=0", "--model_name=albert", f"--model_base_path={base}",
             f"--file_system_poll_wait_seconds={poll_seconds}"]
    if batching:
        flags += ["--enable_batching", f"--batching_parameters_file={BATCHING_CONFIG}"]
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "serving.server", *flags], cwd=REPO, env=env,
                                   stdout=subprocess.PIPE, stderr=log, text=True)
    line = process.stdout.readline()
    if not line.startswith("READY"):
        process.kill()
        with open(log_path) as f:
            raise RuntimeError(f"dev server did not start: {line!r}\n{f.read()[-3000:]}")
    return process, port


def _stop_server(process, log_path):
    """Stops the server; returns the batcher's padding fraction from its closing log line, or None."""
    process.terminate()
    process.wait(timeout=60)
    with open(log_path) as f:
        found = re.findall(r"padding_fraction=([0-9.]+)", f.read())
    return float(found[-1]) if found else None


def _load(port, texts, concurrency, seconds):
    """`concurrency` clients, one text per request, for `seconds`: latencies, completions, failures."""
    from serving.client import AlbertClient

    latencies, failures, stop = [], [], threading.Event()
    lock = threading.Lock()

    def worker(offset):
        with AlbertClient(f"127.0.0.1:{port}", "albert", timeout=60, retries=0) as client:
            i = offset
            while not stop.is_set():
                text = texts[i % len(texts)]
                i += concurrency
                start = time.perf_counter()
                try:
                    client.predict([text])
                except Exception as e:  # every failure is counted, whatever its kind
                    with lock:
                        failures.append(f"{type(e).__name__}: {e}")
                    continue
                with lock:
                    latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return latencies, failures, time.perf_counter() - start


def _load_row(system, concurrency, latencies, failures, elapsed):
    ms = np.asarray(latencies) * 1000.0
    return {"system": system, "concurrency": concurrency, "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)), "requests_per_s": len(latencies) / elapsed,
            "failed": len(failures)}


def _swap_version(base):
    """Publishes version 2 (a copy of version 1) atomically, as a new export would."""
    from albert_tf import saving

    with saving.atomic_directory(os.path.join(base, "2")) as staging:
        shutil.copytree(os.path.join(base, "1"), staging, dirs_exist_ok=True)


def _serving_load(settings, base, workdir, signature, texts):
    """Latency and throughput under concurrent load, with and without batching, and a hot swap."""
    import tensorflow as tf

    rows, ratios = [], {}
    seconds = settings["load_seconds"]
    # In-process: one text per call (latency), and the whole snippet set in batches of 32 (throughput).
    cycle = iter(texts * (1 + (settings["requests"] + settings["warmup"]) // len(texts)))
    times = _time(lambda: signature(text=tf.constant([next(cycle)])), settings["requests"], settings["warmup"])
    ms = np.asarray(times) * 1000.0
    in_process_p50 = float(np.median(times))
    rows.append({"system": "albert_tf in-process, 1 text per call", "concurrency": 1,
                 "p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
                 "requests_per_s": 1.0 / float(np.mean(times))})
    chunks = [texts[i:i + 32] for i in range(0, len(texts), 32)]
    start = time.perf_counter()
    for chunk in chunks:
        signature(text=tf.constant(chunk))
    rows.append({"system": "albert_tf in-process, batches of 32", "concurrency": 1,
                 "requests_per_s": len(texts) / (time.perf_counter() - start)})

    throughput, padding = {}, {}
    for batching in (False, True):
        mode = "on" if batching else "off"
        for concurrency in settings["concurrency"]:
            # A fresh server per level, so the padding it reports is this level's.
            log_path = os.path.join(workdir, f"server-{mode}-{concurrency}.log")
            process, port = _start_server(base, log_path, batching=batching)
            try:
                _load(port, texts, concurrency, settings["warmup_seconds"])
                latencies, failures, elapsed = _load(port, texts, concurrency, seconds)
            finally:
                fraction = _stop_server(process, log_path)
            row = _load_row(f"dev server gRPC, batching {mode}", concurrency, latencies, failures, elapsed)
            if batching:
                row["padding_fraction"] = fraction
                padding[concurrency] = fraction
            rows.append(row)
            throughput[(batching, concurrency)] = row["requests_per_s"]
            if (batching, concurrency) == (False, 1):
                ratios["batch 1: client + gRPC overhead ((served p50 - in-process p50) / in-process p50)"] = (
                    row["p50_ms"] / 1000.0 - in_process_p50) / in_process_p50
    for concurrency in settings["concurrency"]:
        ratios[f"concurrency {concurrency}: throughput batching on / off"] = (
            throughput[(True, concurrency)] / throughput[(False, concurrency)])
    top = max(settings["concurrency"])
    ratios[f"concurrency {top}: padding fraction of computed input bytes (batching on)"] = padding[top]

    # Hot swap: version 2 appears mid-load; the server loads it, moves traffic, unloads version 1.
    log_path = os.path.join(workdir, "server-swap.log")
    process, port = _start_server(base, log_path, batching=True, poll_seconds=1)
    try:
        _load(port, texts, top, settings["warmup_seconds"])
        swap = threading.Timer(seconds / 3, _swap_version, args=(base,))
        swap.start()
        latencies, failures, elapsed = _load(port, texts, top, seconds)
        swap.join()
    finally:
        _stop_server(process, log_path)
    rows.append(_load_row("dev server gRPC, batching on, version 1 -> 2 hot swap", top, latencies, failures,
                          elapsed))
    ratios[f"hot swap at concurrency {top}: failed requests"] = float(len(failures))
    return rows, ratios


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
        process, port = _start_server(base, os.path.join(workdir, "server.log"))
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
            client.close()
        finally:
            _stop_server(process, os.path.join(workdir, "server.log"))
        load_rows, load_ratios = _serving_load(settings, base, workdir, signature, _texts())
        rows += load_rows
        ratios.update(load_ratios)
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
            f"Load rows: {settings['load_seconds']} s per concurrency level after {settings['warmup_seconds']} s "
            "of warm-up, a fresh server each; padding_fraction is the batcher's (string input bytes, "
            "padded rows included), read from its closing log line.",
        ],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(quick=args.quick), indent=2))


if __name__ == "__main__":
    main()

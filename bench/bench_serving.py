"""Serving benchmark: the development server over gRPC on loopback vs the model in-process.

One raw-text ALBERT classifier export (albert_tf.export, random weights:
latency does not depend on their values) is served by the development server
in a subprocess. Side by side, same texts, same batch sizes:

1. in-process: `tf.saved_model.load(...).signatures["serving_default"]`;
2. gRPC: `AlbertClient.predict` against the dev server on 127.0.0.1;
3. gRPC with concurrency: N client threads (throughput).

Reports p50/p95 latency per request and requests/s, and the ratio
gRPC / in-process (the serving overhead: serialization, gRPC, threads).
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
    return {"preset": "albert_base_v2", "seq_length": 128, "batch_sizes": [1, 8, 32], "requests": 100,
            "warmup": 5, "threads": 4, "throughput_seconds": 10.0}


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


def run(quick=False):
    """Measures in-process vs gRPC latency and gRPC throughput; returns a report dict."""
    import tensorflow as tf

    from serving.client import AlbertClient

    settings = _settings(quick)
    rows, ratios = [], {}
    with tempfile.TemporaryDirectory() as workdir:
        base = os.path.join(workdir, "albert")
        export_dir = _export(settings["preset"], settings["seq_length"], base)
        signature = tf.saved_model.load(export_dir).signatures["serving_default"]
        process, port = _start_server(base)
        try:
            client = AlbertClient(f"127.0.0.1:{port}", "albert", timeout=60, max_batch_size=1024)
            for batch in settings["batch_sizes"]:
                texts = _texts(batch)
                local = _time(lambda: signature(text=tf.constant(texts)), settings["requests"], settings["warmup"])
                remote = _time(lambda: client.predict(texts), settings["requests"], settings["warmup"])
                for system, times in (("in-process", local), ("dev server gRPC", remote)):
                    rows.append({"system": system, "batch": batch, **_percentiles(times),
                                 "texts_per_s": batch / float(np.mean(times))})
                ratios[f"grpc_over_inprocess_p50_batch{batch}"] = float(np.median(remote) / np.median(local))

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
        "title": "Serving: development server over gRPC (loopback) vs in-process",
        "rows": rows,
        "ratios": ratios,
        "settings": settings,
        "notes": [
            f"{settings['preset']} classifier export (raw text in, seq_length {settings['seq_length']}), "
            "random weights; texts from movie_review_snippets.tsv.",
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

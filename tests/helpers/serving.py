"""Helpers for the serving tests: tiny SavedModels in TF Serving's layout, and servers.

`write_text_model` builds, with plain TensorFlow + tensorflow_text, a
SavedModel with the signatures albert_tf.export writes for a sequence
classifier (raw-text `serving_default`, `serve_token_ids`, `classify`,
`regress` on serialized tf.Example) around a real SentencePiece tokenizer,
so the server must resolve TF Text ops exactly as for a real export. Its
outputs depend on the version's `bias`, which lets the rollout test tell
versions apart from answers alone.

Servers run as subprocesses on free loopback ports: the development server
always; `tensorflow_model_server` when on PATH; the tensorflow/serving image
when `docker info` succeeds. Otherwise those parametrizations skip, saying why.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LABELS = ("negative", "positive")
SERVING_IMAGE = "tensorflow/serving:2.21.0"


def write_text_model(base_path, version, bias=0.0, warmup=True):
    """Writes `<base_path>/<version>/` atomically (`saving.atomic_directory`); returns its path."""
    import tensorflow as tf
    import tensorflow_text as tf_text
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    from albert_tf import resources, saving

    class TextModel(tf.Module):
        def __init__(self):
            super().__init__()
            self.sp_model = tf.saved_model.Asset(str(resources.path("albert-30k-clean.model")))
            with open(resources.path("albert-30k-clean.model"), "rb") as f:
                self.tokenizer = tf_text.SentencepieceTokenizer(model=f.read(), out_type=tf.int32)
            self.weights = tf.Variable([[0.05, -0.05], [-0.002, 0.002]], dtype=tf.float32)
            self.bias = tf.Variable([bias, -bias], dtype=tf.float32)
            self.labels = tf.constant(LABELS)

        def _from_ids(self, ids, mask):
            # Two features per row: token count and mean id / 1000.
            count = tf.reduce_sum(tf.cast(mask, tf.float32), axis=1)
            mean_id = tf.math.divide_no_nan(
                tf.reduce_sum(tf.cast(ids * mask, tf.float32), axis=1), count) / 1000.0
            logits = tf.stack([count, mean_id], axis=1) @ self.weights + self.bias
            probabilities = tf.nn.softmax(logits)
            label_ids = tf.argmax(logits, axis=1, output_type=tf.int32)
            return {"logits": logits, "probabilities": probabilities, "label_ids": label_ids,
                    "labels": tf.gather(self.labels, label_ids)}

        def _from_text(self, text):
            ragged = self.tokenizer.tokenize(tf_text.normalize_utf8(text, "NFKC"))
            ids = ragged.to_tensor(0)
            mask = tf.cast(tf.ones_like(ragged).to_tensor(0), tf.int32)
            return self._from_ids(ids, mask)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        def serve_text(self, text):
            return self._from_text(text)

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name=n)
                                      for n in ("input_word_ids", "input_mask", "input_type_ids")])
        def serve_token_ids(self, input_word_ids, input_mask, input_type_ids):
            del input_type_ids
            return {"logits": self._from_ids(input_word_ids, input_mask)["logits"]}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        def classify(self, inputs):
            text = tf.io.parse_example(inputs, {"text": tf.io.FixedLenFeature([], tf.string)})["text"]
            out = self._from_text(text)
            classes = tf.tile(self.labels[tf.newaxis], [tf.shape(text)[0], 1])
            return {"classes": classes, "scores": out["probabilities"]}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        def regress(self, inputs):
            text = tf.io.parse_example(inputs, {"text": tf.io.FixedLenFeature([], tf.string)})["text"]
            return {"outputs": self._from_text(text)["probabilities"][:, 1]}

    module = TextModel()
    final = os.path.join(base_path, str(version))
    with saving.atomic_directory(final) as staging:
        tf.saved_model.save(module, str(staging), signatures={
            "serving_default": module.serve_text,
            "serve_token_ids": module.serve_token_ids,
            "classify": module.classify,
            "regress": module.regress,
        })
        if warmup:
            request = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(name="warmup"))
            request.inputs["text"].CopyFrom(tf.make_tensor_proto(["warm up the model"]))
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            os.makedirs(staging / "assets.extra")
            with tf.io.TFRecordWriter(str(staging / "assets.extra" / "tf_serving_warmup_requests")) as w:
                w.write(log.SerializeToString())
    return final


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env():
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return env


class ServerProcess:
    """A TF Serving-compatible server in a subprocess: `.grpc_target`, `.rest_url`, `.stop()`."""

    def __init__(self, kind, args, model_name, base_path=None, timeout=120):
        self.kind = kind
        self.model_name = model_name
        self.log_path = os.path.join(os.environ.get("PYTEST_TMPDIR", "/tmp"), f"server-{uuid.uuid4().hex[:8]}.log")
        self._log = open(self.log_path, "w")
        if kind == "dev":
            command = [sys.executable, "-m", "serving.server", f"--port={free_port()}",
                       f"--rest_api_port={free_port()}", *args]
            self.process = subprocess.Popen(command, cwd=REPO, env=_env(), stdout=subprocess.PIPE,
                                            stderr=self._log, text=True)
            self._wait_ready_line(timeout)
        else:
            grpc_port, rest_port = free_port(), free_port()
            if kind == "tensorflow_model_server":
                command = ["tensorflow_model_server", f"--port={grpc_port}",
                           f"--rest_api_port={rest_port}", *args]
            else:
                # The image serves /models/$MODEL_NAME; other flags follow its entrypoint.
                extra = [a for a in args if not a.startswith(("--model_name", "--model_base_path"))]
                command = ["docker", "run", "--rm", "-p", f"127.0.0.1:{grpc_port}:8500",
                           "-p", f"127.0.0.1:{rest_port}:8501", "-e", f"MODEL_NAME={model_name}",
                           "-v", f"{base_path}:/models/{model_name}", SERVING_IMAGE, *extra]
            self.process = subprocess.Popen(command, stdout=self._log, stderr=self._log, text=True)
            self.grpc_port, self.rest_port = grpc_port, rest_port
            self._wait_available(timeout)

    @property
    def grpc_target(self):
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def rest_url(self):
        return f"http://127.0.0.1:{self.rest_port}"

    def _wait_ready_line(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            line = self.process.stdout.readline()
            if line.startswith("READY"):
                fields = dict(part.split("=") for part in line.split()[1:])
                self.grpc_port, self.rest_port = int(fields["grpc"]), int(fields["rest"])
                return
            if not line and self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"{self.kind} server did not start; log:\n{self.log()}")

    def _wait_available(self, timeout):
        from serving.client import AlbertClient

        client = AlbertClient(self.grpc_target, self.model_name, timeout=2, retries=0)
        try:
            client.wait_until_available(timeout=timeout)
        except Exception:
            self.stop()
            raise RuntimeError(f"{self.kind} server did not become ready; log:\n{self.log()}") from None
        finally:
            client.close()

    def log(self):
        self._log.flush()
        with open(self.log_path) as f:
            return f.read()[-5000:]

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def real_server_kinds():
    """("tensorflow_model_server" | "docker", skip reason or None) for the real server."""
    kinds = []
    if shutil.which("tensorflow_model_server"):
        kinds.append(("tensorflow_model_server", None))
    else:
        kinds.append(("tensorflow_model_server", "tensorflow_model_server is not on PATH"))
    docker_ok = False
    if shutil.which("docker"):
        try:
            docker_ok = subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            docker_ok = False
    kinds.append(("docker", None if docker_ok else "no Docker engine answers `docker info`"))
    return kinds


SERVER_KINDS = [pytest.param("dev", id="dev")] + [
    pytest.param(kind, id=kind, marks=pytest.mark.skipif(reason is not None, reason=str(reason)))
    for kind, reason in real_server_kinds()
]


def http_call(base_url, method, path, body=None, headers=None, timeout=60):
    """One raw HTTP request (any method, any body bytes); returns (status, body text, headers dict)."""
    import http.client
    import urllib.parse

    url = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        data = body.encode("utf-8") if isinstance(body, str) else body
        connection.request(method, path, body=data, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace"), dict(response.getheaders())
    finally:
        connection.close()

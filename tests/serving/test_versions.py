"""Version lifecycle on the development server: hot rollout under load, policies, labels, reload.

The rollout test drops version 2 into the base path (temp dir + rename, as
TF Serving expects) while 4 threads send requests on loopback, and asserts
zero failed requests, that every answer equals the in-process output of the
version that reported answering it, and that the status ends with version 2
AVAILABLE and version 1 END.
"""

import threading
import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import model_management_pb2, model_service_pb2_grpc

from serving.client import AlbertClient, InvalidInputError, RestClient
from tests.helpers.serving import ServerProcess, write_text_model

TEXTS = ["a gripping film", "dull and long"]


def _expected(path):
    loaded = tf.saved_model.load(path)
    return loaded.signatures["serving_default"](text=tf.constant(TEXTS))["logits"].numpy()


def test_new_version_rolls_out_under_load(tmp_path):
    base = str(tmp_path / "albert")
    v1 = write_text_model(base, 1, bias=0.0)
    server = ServerProcess("dev", ["--model_name=albert", f"--model_base_path={base}",
                                   "--file_system_poll_wait_seconds=1"], "albert")
    try:
        expected = {1: _expected(v1)}
        answers, failures = [], []
        stop = threading.Event()

        def load():
            with AlbertClient(server.grpc_target, "albert", timeout=30, retries=0) as client:
                while not stop.is_set():
                    try:
                        result = client.predict(TEXTS)
                        answers.append((result.model_spec.version, result["logits"]))
                    except Exception as e:  # noqa: BLE001 - every failure is counted
                        failures.append(repr(e))

        threads = [threading.Thread(target=load) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        v2 = write_text_model(base, 2, bias=1.0)
        expected[2] = _expected(v2)
        with AlbertClient(server.grpc_target, "albert") as client:
            deadline = time.monotonic() + 60
            states = {}
            while time.monotonic() < deadline:
                states = {s.version: s.state for s in client.status()}
                if states.get(2) == "AVAILABLE" and states.get(1) == "END":
                    break
                time.sleep(0.1)
            time.sleep(1.0)  # keep the load on the new version for a moment
        stop.set()
        for thread in threads:
            thread.join()

        assert failures == []
        assert states == {2: "AVAILABLE", 1: "END"}
        versions = [v for v, _ in answers]
        assert versions[0] == 1 and versions[-1] == 2
        assert versions.count(1) > 0 and versions.count(2) > 0
        for version, logits in answers:
            np.testing.assert_allclose(logits, expected[version], rtol=1e-6, atol=1e-6)
        assert not np.allclose(expected[1], expected[2])
    finally:
        server.stop()


CONFIG = """
model_config_list {{
  config {{
    name: "albert"
    base_path: "{base}"
    model_platform: "tensorflow"
    model_version_policy {{ all {{}} }}
    version_labels {{ key: "stable" value: 1 }}
    version_labels {{ key: "canary" value: 2 }}
  }}
}}
"""


def test_policy_labels_and_reload(tmp_path):
    base = str(tmp_path / "albert")
    expected = {1: _expected(write_text_model(base, 1, bias=0.0, warmup=False)),
                2: _expected(write_text_model(base, 2, bias=1.0, warmup=False)),
                3: _expected(write_text_model(base, 3, bias=-1.0, warmup=False))}
    config = tmp_path / "models.config"
    config.write_text(CONFIG.format(base=base))
    server = ServerProcess("dev", [f"--model_config_file={config}", "--file_system_poll_wait_seconds=1"],
                           "albert")
    try:
        for label, version in (("stable", 1), ("canary", 2)):
            with AlbertClient(server.grpc_target, "albert", version_label=label) as client:
                result = client.predict(TEXTS)
            assert result.model_spec.version == version
            np.testing.assert_allclose(result["logits"], expected[version], rtol=1e-6, atol=1e-6)
            rest = RestClient(server.rest_url, "albert", version_label=label)
            np.testing.assert_allclose(rest.predict(TEXTS)["logits"], expected[version], rtol=1e-6, atol=1e-6)
        with AlbertClient(server.grpc_target, "albert") as client:
            assert client.predict(TEXTS).model_spec.version == 3  # latest of "all"
            assert [s.version for s in client.status()] == [3, 2, 1]
            assert client.predict(TEXTS, version=2).model_spec.version == 2

        # Reload: only version 1 (specific), label stable -> 1.
        request = model_management_pb2.ReloadConfigRequest()
        model = request.config.model_config_list.config.add(
            name="albert", base_path=base, model_platform="tensorflow")
        model.model_version_policy.specific.versions.append(1)
        model.version_labels["stable"] = 1
        with grpc.insecure_channel(server.grpc_target) as channel:
            response = model_service_pb2_grpc.ModelServiceStub(channel).HandleReloadConfigRequest(
                request, timeout=60)
        assert response.status.error_code == 0, response.status.error_message
        with AlbertClient(server.grpc_target, "albert") as client:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                states = {s.version: s.state for s in client.status()}
                if states == {1: "AVAILABLE", 2: "END", 3: "END"}:
                    break
                time.sleep(0.1)
            assert states == {1: "AVAILABLE", 2: "END", 3: "END"}
            assert client.predict(TEXTS).model_spec.version == 1
        with AlbertClient(server.grpc_target, "albert", version_label="canary") as client:
            with pytest.raises(InvalidInputError, match="Unrecognized servable version label"):
                client.predict(TEXTS)
    finally:
        server.stop()


def test_batching_gives_same_answers(tmp_path, text_model_base):
    batching = tmp_path / "batching.config"
    batching.write_text("max_batch_size { value: 8 }\nbatch_timeout_micros { value: 20000 }\n"
                        "num_batch_threads { value: 2 }\nallowed_batch_sizes: 4\nallowed_batch_sizes: 8\n")
    monitoring = tmp_path / "monitoring.config"
    monitoring.write_text('prometheus_config { enable: true, path: "/monitoring/prometheus/metrics" }\n')
    server = ServerProcess("dev", ["--model_name=albert", f"--model_base_path={text_model_base}",
                                   "--enable_batching", f"--batching_parameters_file={batching}",
                                   f"--monitoring_config_file={monitoring}"], "albert")
    try:
        texts = [f"review number {i} " + "good " * (i % 5) for i in range(12)]
        loaded = tf.saved_model.load(f"{text_model_base}/1")
        expected = loaded.signatures["serving_default"](text=tf.constant(texts))["logits"].numpy()
        results = [None] * len(texts)

        def one(i):
            with AlbertClient(server.grpc_target, "albert") as client:
                results[i] = client.predict([texts[i]])["logits"][0]

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(texts))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Padding with a repeated row changes the padded length of the token batch;
        # the mask keeps every row's answer identical to its unbatched one.
        np.testing.assert_allclose(np.stack(results), expected, rtol=1e-5, atol=1e-6)
        import urllib.request

        with urllib.request.urlopen(f"{server.rest_url}/monitoring/prometheus/metrics", timeout=30) as r:
            metrics = r.read().decode()
        assert "# TYPE" in metrics
        assert ':tensorflow:serving:request_count{model_name="albert",status="OK"}' in metrics
    finally:
        server.stop()

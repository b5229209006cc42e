"""End to end: a SavedModel in TF Serving's layout -> server subprocess -> clients.

Every answer is compared with the same SavedModel called in-process. The
server fixture is parametrized: the development server always runs; the real
tensorflow_model_server / tensorflow/serving image run when available.
"""

import asyncio
import json
import subprocess
import sys
import urllib.request

import numpy as np
import pytest
import tensorflow as tf

from serving.client import AlbertClient, AsyncAlbertClient, RestClient
from tests.helpers.serving import LABELS, REPO

TEXTS = [
    "A gripping, beautifully shot film.",
    "Dull and far too long; I left early.",
    "ok",
    "The plot of 1,000 twists never lands, but the cast is superb!",
    "Ünïcödé text with accents",
]


@pytest.fixture(scope="module")
def reference(text_model_base):
    """The same SavedModel called in-process."""
    loaded = tf.saved_model.load(f"{text_model_base}/1")
    return loaded


def _expected(reference, texts):
    out = reference.signatures["serving_default"](text=tf.constant(texts))
    return {k: v.numpy() for k, v in out.items()}


def test_predict_sync_matches_in_process(server, reference):
    with AlbertClient(server.grpc_target, "albert", max_batch_size=2) as client:
        result = client.predict(TEXTS)
    expected = _expected(reference, TEXTS)
    assert result.model_spec.version == 1
    assert result.model_spec.signature_name == "serving_default"
    assert set(result.outputs) == {"logits", "probabilities", "label_ids", "labels"}
    np.testing.assert_allclose(result["logits"], expected["logits"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(result["probabilities"], expected["probabilities"], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(result["label_ids"], expected["label_ids"])
    assert [p.label for p in result.predictions] == [x.decode() for x in expected["labels"]]
    assert {p.label for p in result.predictions} <= set(LABELS)


def test_predict_async_matches_in_process(server, reference):
    async def go():
        async with AsyncAlbertClient(server.grpc_target, "albert", max_batch_size=2) as client:
            return await client.predict(TEXTS), await client.status()

    result, status = asyncio.run(go())
    expected = _expected(reference, TEXTS)
    np.testing.assert_allclose(result["logits"], expected["logits"], rtol=1e-6, atol=1e-6)
    assert [s.state for s in status] == ["AVAILABLE"]


def test_raw_stub_client_gets_same_answers(server, reference):
    """A client written from tensorflow-serving-api stubs alone, as users do."""
    import grpc
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    channel = grpc.insecure_channel(server.grpc_target)
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "albert"
    request.inputs["text"].CopyFrom(tf.make_tensor_proto(TEXTS))
    request.output_filter.append("logits")
    response = stub.Predict(request, timeout=30)
    channel.close()
    assert list(response.outputs) == ["logits"]
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["logits"]),
                               _expected(reference, TEXTS)["logits"], rtol=1e-6, atol=1e-6)


def test_token_ids_signature(server, reference):
    ids = np.array([[2, 31, 1842, 3, 0], [2, 17, 3, 0, 0]], dtype=np.int32)
    mask = (ids > 0).astype(np.int32)
    with AlbertClient(server.grpc_target, "albert") as client:
        result = client.predict({"input_word_ids": ids, "input_mask": mask,
                                 "input_type_ids": np.zeros_like(ids)}, signature="serve_token_ids")
    expected = reference.signatures["serve_token_ids"](
        input_word_ids=tf.constant(ids), input_mask=tf.constant(mask),
        input_type_ids=tf.zeros_like(ids))["logits"].numpy()
    np.testing.assert_allclose(result["logits"], expected, rtol=1e-6, atol=1e-6)


def test_classify_and_regress(server, reference):
    expected = _expected(reference, TEXTS)["probabilities"]
    with AlbertClient(server.grpc_target, "albert", max_batch_size=3) as client:
        classes = client.classify(TEXTS)
        values = client.regress(TEXTS)
    assert classes.model_spec.signature_name == "classify"
    assert [[label for label, _ in row] for row in classes.classifications] == [list(LABELS)] * len(TEXTS)
    np.testing.assert_allclose([[s for _, s in row] for row in classes.classifications], expected,
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(values.values, expected[:, 1], rtol=1e-6, atol=1e-6)


def test_multi_inference(server, reference):
    from tensorflow_serving.apis import inference_pb2, prediction_service_pb2_grpc
    import grpc

    request = inference_pb2.MultiInferenceRequest()
    for signature, method in (("classify", "tensorflow/serving/classify"),
                              ("regress", "tensorflow/serving/regress")):
        task = request.tasks.add()
        task.model_spec.name = "albert"
        task.model_spec.signature_name = signature
        task.method_name = method
    for text in TEXTS[:2]:
        request.input.example_list.examples.add().features.feature["text"].bytes_list.value.append(text.encode())
    with grpc.insecure_channel(server.grpc_target) as channel:
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).MultiInference(request, timeout=30)
    expected = _expected(reference, TEXTS[:2])["probabilities"]
    scores = [[c.score for c in row.classes] for row in response.results[0].classification_result.classifications]
    np.testing.assert_allclose(scores, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose([r.value for r in response.results[1].regression_result.regressions],
                               expected[:, 1], rtol=1e-6, atol=1e-6)


def test_rest_predict_classify_status_metadata(server, reference):
    expected = _expected(reference, TEXTS)
    rest = RestClient(server.rest_url, "albert", max_batch_size=4)
    result = rest.predict(TEXTS)
    np.testing.assert_allclose(result["logits"], expected["logits"], rtol=1e-6, atol=1e-6)
    assert [p.label for p in result.predictions] == [x.decode() for x in expected["labels"]]
    np.testing.assert_allclose([[s for _, s in row] for row in rest.classify(TEXTS).classifications],
                               expected["probabilities"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(rest.regress(TEXTS).values, expected["probabilities"][:, 1], rtol=1e-6, atol=1e-6)
    assert [(s.version, s.state, s.error_code) for s in rest.status()] == [(1, "AVAILABLE", "OK")]
    signatures = rest.metadata().signatures
    assert signatures["serving_default"].inputs["text"].dtype == "DT_STRING"
    assert set(signatures) >= {"serving_default", "serve_token_ids", "classify", "regress"}


def test_rest_columnar_and_raw_json(server, reference):
    body = json.dumps({"inputs": {"text": TEXTS[:2]}}).encode()
    request = urllib.request.Request(f"{server.rest_url}/v1/models/albert/versions/1:predict", data=body,
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    np.testing.assert_allclose(answer["outputs"]["logits"], _expected(reference, TEXTS[:2])["logits"],
                               rtol=1e-6, atol=1e-6)
    with urllib.request.urlopen(f"{server.rest_url}/v1/models/albert", timeout=30) as response:
        status = json.loads(response.read())
    assert status == {"model_version_status": [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}


def test_grpc_metadata_and_status(server):
    with AlbertClient(server.grpc_target, "albert") as client:
        meta = client.metadata()
        status = client.status(version=1)
    assert meta.model_spec.version == 1
    default = meta.signatures["serving_default"]
    assert default.inputs["text"].dtype == "DT_STRING" and default.inputs["text"].shape == (-1,)
    assert set(default.outputs) == {"logits", "probabilities", "label_ids", "labels"}
    assert status[0].available


def test_client_never_imports_tensorflow_runtime(server):
    """The client's process must not load `tensorflow.python` (proto modules only)."""
    code = (
        "import sys\n"
        "from serving.client import AlbertClient\n"
        f"c = AlbertClient({server.grpc_target!r}, 'albert')\n"
        "r = c.predict(['a film'])\n"
        "assert r.predictions[0].label in ('negative', 'positive'), r\n"
        "c.classify(['a film'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('tensorflow.python')))\n"
        "print('tensorflow' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded, tf_package = out.stdout.strip().splitlines()
    assert loaded == "[]"
    assert tf_package == "False"


def test_query_cli(server):
    out = subprocess.run(
        [sys.executable, "-m", "albert_tf.cli", "query", "--target", server.grpc_target, "--model-name", "albert",
         "a gripping film", "dull"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["a gripping film", "dull"]
    assert all(r["label"] in LABELS and abs(sum(r["probabilities"]) - 1) < 1e-5 for r in rows)


def test_k8s_readiness_probe_command(server):
    """The Deployment's readiness probe, run verbatim (port/name substituted) against the server."""
    import yaml

    with open(f"{REPO}/serving/k8s/deployment.yaml") as f:
        deployment = yaml.safe_load(f)
    probe = deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["exec"]["command"]
    ready = [part.replace("8501", str(server.rest_port)) for part in probe]
    assert subprocess.run(ready, timeout=30).returncode == 0
    unknown = [part.replace("/v1/models/albert", "/v1/models/nope") for part in ready]
    assert subprocess.run(unknown, timeout=30).returncode != 0

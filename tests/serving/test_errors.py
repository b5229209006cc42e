"""Bad requests get TF Serving's status codes, and the server keeps serving.

Codes as in tensorflow/serving's sources: predict_util.cc (unknown Predict
signature: FAILED_PRECONDITION; input names: INVALID_ARGUMENT),
classifier.cc (unknown Classify signature: INVALID_ARGUMENT; "Input is
empty."), basic_manager.cc ("Servable not found": NOT_FOUND),
predict_impl.cc ("Missing ModelSpec": INVALID_ARGUMENT), server_core.cc
(unknown label: INVALID_ARGUMENT); messages over --grpc_channel_arguments'
grpc.max_receive_message_length: gRPC RESOURCE_EXHAUSTED.
"""

import json
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    predict_pb2,
)

from serving import client as serving_client
from tests.helpers.serving import SERVER_KINDS, ServerProcess

MAX_MESSAGE_BYTES = 256 * 1024


@pytest.fixture(scope="module", params=SERVER_KINDS)
def server(request, text_model_base):
    # TF Serving's own spelling of a receive limit (server.cc: channel arguments after SetMaxMessageSize).
    args = ["--model_name=albert", f"--model_base_path={text_model_base}",
            f"--grpc_channel_arguments=grpc.max_receive_message_length={MAX_MESSAGE_BYTES}"]
    process = ServerProcess(request.param, args, "albert", base_path=text_model_base)
    yield process
    process.stop()


def _predict(model="albert", signature="", inputs=None, version=None, label=None, spec=True):
    request = predict_pb2.PredictRequest()
    if spec:
        request.model_spec.name = model
        request.model_spec.signature_name = signature
        if version is not None:
            request.model_spec.version.value = version
        if label is not None:
            request.model_spec.version_label = label
    for name, proto in (inputs if inputs is not None else {"text": tf.make_tensor_proto(["fine"])}).items():
        request.inputs[name].CopyFrom(proto)
    return request


def _malformed():
    proto = tf.make_tensor_proto(np.zeros([2, 3], np.float32))
    proto.tensor_content = proto.tensor_content[:-4]  # 5 floats for a [2,3] tensor
    return proto


def _too_many_strings():
    proto = tf.make_tensor_proto(["a", "b"])
    proto.string_val.append(b"c")
    return proto


CASES = {
    "unknown model": (lambda: _predict(model="nope"), grpc.StatusCode.NOT_FOUND, "Servable not found"),
    "unknown version": (lambda: _predict(version=7), grpc.StatusCode.NOT_FOUND, "Servable not found"),
    "unknown label": (lambda: _predict(label="canary"), grpc.StatusCode.INVALID_ARGUMENT,
                      "Unrecognized servable version label"),
    "missing model_spec": (lambda: _predict(spec=False), grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec"),
    "unknown signature": (lambda: _predict(signature="nope"), grpc.StatusCode.FAILED_PRECONDITION,
                          'Serving signature key "nope" not found'),
    "wrong input name": (lambda: _predict(inputs={"txt": tf.make_tensor_proto(["x"])}),
                         grpc.StatusCode.INVALID_ARGUMENT, "input size does not match signature"),
    "extra input": (lambda: _predict(inputs={"text": tf.make_tensor_proto(["x"]),
                                             "more": tf.make_tensor_proto(["y"])}),
                    grpc.StatusCode.INVALID_ARGUMENT, "Sent extra: {more}"),
    "wrong dtype": (lambda: _predict(inputs={"text": tf.make_tensor_proto([1.0, 2.0])}),
                    grpc.StatusCode.INVALID_ARGUMENT, "DT_STRING"),
    "malformed tensor": (lambda: _predict(signature="serve_token_ids", inputs={
        "input_word_ids": _malformed(), "input_mask": _malformed(), "input_type_ids": _malformed()}),
        grpc.StatusCode.INVALID_ARGUMENT, "tensor parsing error"),
    "too many string values": (lambda: _predict(inputs={"text": _too_many_strings()}),
                               grpc.StatusCode.INVALID_ARGUMENT, "tensor parsing error"),
    "unknown output filter": (lambda: _with_filter(_predict(), "nope"), grpc.StatusCode.INVALID_ARGUMENT,
                              "output tensor alias not found"),
}


def _with_filter(request, name):
    request.output_filter.append(name)
    return request


def _assert_still_serving(stub):
    response = stub.Predict(_predict(), timeout=30)
    assert tf.make_ndarray(response.outputs["logits"]).shape == (1, 2)


@pytest.mark.parametrize("case", list(CASES))
def test_predict_errors(stubs, case):
    prediction, _ = stubs
    make, code, message = CASES[case]
    with pytest.raises(grpc.RpcError) as info:
        prediction.Predict(make(), timeout=30)
    assert info.value.code() == code, info.value.details()
    assert message in info.value.details()
    _assert_still_serving(prediction)


def test_classify_errors(stubs):
    prediction, _ = stubs
    empty = classification_pb2.ClassificationRequest()
    empty.model_spec.name = "albert"
    empty.model_spec.signature_name = "classify"
    empty.input.example_list.SetInParent()
    with pytest.raises(grpc.RpcError) as info:
        prediction.Classify(empty, timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Input is empty" in info.value.details()

    unknown = classification_pb2.ClassificationRequest()
    unknown.CopyFrom(empty)
    unknown.model_spec.signature_name = "nope"
    unknown.input.example_list.examples.add().features.feature["text"].bytes_list.value.append(b"x")
    with pytest.raises(grpc.RpcError) as info:
        prediction.Classify(unknown, timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    _assert_still_serving(prediction)


def test_status_and_metadata_errors(stubs):
    prediction, models = stubs
    for request, code, message in [
        (get_model_status_pb2.GetModelStatusRequest(), grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec"),
        (get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "nope"}), grpc.StatusCode.NOT_FOUND,
         "Could not find any versions of model nope"),
        (get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "albert", "version": {"value": 9}}),
         grpc.StatusCode.NOT_FOUND, "Could not find version 9 of model albert"),
    ]:
        with pytest.raises(grpc.RpcError) as info:
            models.GetModelStatus(request, timeout=30)
        assert info.value.code() == code and message in info.value.details()
    bad_field = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["nope"])
    bad_field.model_spec.name = "albert"
    with pytest.raises(grpc.RpcError) as info:
        prediction.GetModelMetadata(bad_field, timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    _assert_still_serving(prediction)


def test_oversize_request_is_resource_exhausted(server, stubs):
    prediction, _ = stubs
    big = ["x" * 1000] * (2 * MAX_MESSAGE_BYTES // 1000)
    with pytest.raises(grpc.RpcError) as info:
        prediction.Predict(_predict(inputs={"text": tf.make_tensor_proto(big)}), timeout=30)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    _assert_still_serving(prediction)


def test_client_maps_codes_to_exceptions(server):
    with serving_client.AlbertClient(server.grpc_target, "nope", retries=0) as missing:
        with pytest.raises(serving_client.ModelNotFoundError, match="model or version not found"):
            missing.predict(["x"])
    with serving_client.AlbertClient(server.grpc_target, "albert", retries=0) as client:
        with pytest.raises(serving_client.SignatureError, match="nope"):
            client.predict(["x"], signature="nope")
        with pytest.raises(serving_client.InvalidInputError, match="DT_STRING"):
            client.predict({"text": np.array([1.0], np.float32)})
        with pytest.raises(serving_client.InvalidInputError, match="empty batch"):
            client.predict([])
        assert client.predict(["still fine"]).predictions[0].label in ("negative", "positive")


def test_unreachable_server_retries_then_unavailable():
    from tests.helpers.serving import free_port

    import time

    client = serving_client.AlbertClient(f"127.0.0.1:{free_port()}", "albert", retries=2, backoff=0.05,
                                         timeout=5)
    started = time.monotonic()
    with pytest.raises(serving_client.ServerUnavailableError) as info:
        client.status()
    assert info.value.code == "UNAVAILABLE"
    assert time.monotonic() - started >= 0.05  # backed off at least once
    client.close()


def test_rest_errors(server):
    def call(path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(server.rest_url + path, data=data, method="POST" if data else "GET")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    assert call("/v1/models/nope")[0] == 404
    assert call("/v1/models/albert/versions/9:predict", {"instances": ["x"]})[0] == 404
    status, answer = call("/v1/models/albert:predict", {"instances": [1.5]})
    assert status == 400 and "error" in answer
    assert call("/v1/models/albert:predict", {"signature_name": "nope", "instances": ["x"]})[0] == 400
    assert call("/v1/models/albert:predict", {"wrong": ["x"]})[0] == 400
    status, answer = call("/v1/models/albert:predict", {"instances": ["fine"]})
    assert status == 200 and len(answer["predictions"]) == 1

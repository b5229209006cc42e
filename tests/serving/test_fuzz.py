"""No request, however malformed, gets a 500 or UNKNOWN; the server keeps serving identically.

Thousands of bounded random and mutated REST and gRPC requests (a fixed seed,
so a failure replays) go to one development server on loopback. TF Serving
maps every bad input to a client error code (model_servers/http_server.cc
ToHTTPStatusCode: 500 only for UNKNOWN, INTERNAL and DATA_LOSS); so must the
development server. Afterwards the same good requests must answer exactly as
before the storm.
"""

import json
import random
import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from serving.server import command
from tests.helpers.serving import free_port, http_call

REST_REQUESTS = 2500
GRPC_REQUESTS = 2500
SERVER_ERRORS_GRPC = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS}
GOOD_REST = ("/v1/models/albert:predict", json.dumps({"instances": ["a good movie", "bad"]}))


@pytest.fixture(scope="module")
def server(text_model_base):
    flags = command.parse_flags([
        f"--model_base_path={text_model_base}", "--model_name=albert", f"--port={free_port()}",
        f"--rest_api_port={free_port()}", "--file_system_poll_wait_seconds=0", "--enable_model_warmup=false",
        "--grpc_channel_arguments=grpc.max_receive_message_length=1048576"])
    dev = command.build_server(flags).start()
    yield dev
    dev.stop()


def _good_grpc():
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "albert"
    request.inputs["text"].CopyFrom(tf.make_tensor_proto(["a good movie", "bad"]))
    return request


# Random JSON and paths.

WORDS = ["albert", "nope", "text", "b64", "instances", "inputs", "signature_name", "examples", "context",
         "serve_token_ids", "classify", "regress", "serving_default", "input_word_ids", "input_mask",
         "input_type_ids", "", "ü", "é" * 3, "%", "-1", "1e999"]


def _value(rng, depth=0):
    kind = rng.randrange(10 if depth < 4 else 6)
    if kind == 0:
        return rng.choice([0, 1, -1, 2**31, -(2**31) - 1, 2**63, 2**64, 2**70, -(2**64), 7, 10**400])
    if kind == 1:
        return rng.choice([0.5, -1.5, 1e308, -1e-320, float("nan"), float("inf"), -float("inf"), 3.0])
    if kind == 2:
        return rng.choice(WORDS) * rng.randrange(1, 3)
    if kind == 3:
        return rng.choice([None, True, False])
    if kind == 4:
        return {"b64": rng.choice(["YQ==", "!!!", "", "YWJj", 5, None])}
    if kind == 5:
        return rng.choice(["a good movie", "bad", "x"])
    if kind in (6, 7):
        size = rng.randrange(0, 4)
        first = _value(rng, depth + 1)
        return [first if rng.random() < 0.7 else _value(rng, depth + 1) for _ in range(size)]
    return {rng.choice(WORDS): _value(rng, depth + 1) for _ in range(rng.randrange(0, 4))}


def _body(rng):
    choice = rng.randrange(6)
    if choice == 0:  # a structured request with random parts
        body = {}
        for key in rng.sample(["instances", "inputs", "signature_name", "examples", "context"], rng.randrange(1, 4)):
            body[key] = _value(rng)
        return json.dumps(body)
    if choice == 1:  # a good request, mutated bytewise
        data = bytearray(GOOD_REST[1].encode())
        for _ in range(rng.randrange(1, 4)):
            position = rng.randrange(len(data))
            action = rng.randrange(3)
            if action == 0:
                data[position] = rng.randrange(256)
            elif action == 1:
                del data[position]
            else:
                data.insert(position, rng.choice(b'[]{}",:0\\'))
        return bytes(data)
    if choice == 2:  # token-id requests with random shapes and values
        names = ["input_word_ids", "input_mask", "input_type_ids"]
        rows = [[rng.choice([0, 1, 5, 1.5, -3, 2**40, "x", None]) for _ in range(rng.randrange(0, 4))]
                for _ in range(rng.randrange(0, 3))]
        if rng.random() < 0.5:
            return json.dumps({"signature_name": "serve_token_ids",
                               "instances": [{n: r for n in names if rng.random() < 0.9} for r in rows] or [1]})
        return json.dumps({"signature_name": "serve_token_ids", "inputs": {n: rows for n in names}})
    if choice == 3:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
    if choice == 4:  # examples for classify/regress
        return json.dumps({"signature_name": rng.choice(["classify", "regress", "nope"]),
                           "examples": [{"text": _value(rng)} for _ in range(rng.randrange(0, 3))]})
    return json.dumps(_value(rng))


VALID_PATHS = ["/v1/models/albert:predict", "/v1/models/albert/versions/1:predict", "/v1/models/albert:classify",
               "/v1/models/albert:regress", "/v1/models/albert", "/v1/models/albert/metadata"]


def _path(rng):
    if rng.random() < 0.4:
        return rng.choice(VALID_PATHS)
    name = rng.choice(["albert", "albert", "nope", "%61lbert", "%ZZ", "al%00bert", "a" * 300, ""])
    middle = rng.choice(["", "", "/versions/1", "/versions/2", f"/versions/{2**64}", "/labels/stable",
                         "/labels/%2F", "/versions/-1", "/versions/1/labels/x", "/metadata"])
    verb = rng.choice([":predict", ":classify", ":regress", ":PREDICT", "/metadata", "", ":nope", "/"])
    prefix = rng.choice(["/v1/models/", "/v1/models/", "/V1/Models/", "/v1/", "/", "/v2/models/"])
    path = prefix + name + middle + verb
    if rng.random() < 0.2:
        path += rng.choice(["?x=1", "#f", "?", "%", "//"])
    return path


def test_rest_fuzz(server):
    rng = random.Random(1701)
    url = f"http://127.0.0.1:{server.rest_port}"
    before = http_call(url, "POST", *GOOD_REST)
    assert before[0] == 200
    started = time.monotonic()
    statuses = {}
    for _ in range(REST_REQUESTS):
        method = rng.choice(["POST", "POST", "POST", "GET", "GET", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"])
        body = _body(rng) if method not in ("GET", "HEAD") or rng.random() < 0.1 else None
        path = _path(rng)
        if method in ("GET", "POST") and rng.random() < 0.5:
            method = "POST" if ":" in path else "GET"
        status, text, _ = http_call(url, method, path, body)
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500 or status in (501, 503, 504), (status, text)
    assert time.monotonic() - started < 30
    assert http_call(url, "POST", *GOOD_REST)[:2] == before[:2]
    assert statuses.get(200, 0) > 20 and statuses.get(400, 0) > 300  # the storm reached both paths


# Random protos.


def _tensor(rng):
    proto = tf.make_tensor_proto(rng.choice([["a good movie"], [b"\xff\xfe"], [[1, 2]], [1.5], [[0]]]))
    action = rng.randrange(8)
    if action == 0:
        proto.dtype = rng.choice(list(types_pb2.DataType.values()) + [99, 1000])
    elif action == 1:
        del proto.tensor_shape.dim[:]
        for _ in range(rng.randrange(0, 4)):
            proto.tensor_shape.dim.add().size = rng.choice([0, 1, 2, -1, -5, 3, 2**20, 2**40])
    elif action == 2:
        proto.tensor_content = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 17)))
    elif action == 3:
        proto.float_val.extend([rng.random()] * rng.randrange(0, 5))
        proto.string_val.append(b"extra")
    elif action == 4:
        proto.tensor_shape.unknown_rank = True
    elif action == 5:
        proto.half_val.extend([1, 2, 3])
        proto.dtype = rng.choice([types_pb2.DT_HALF, types_pb2.DT_BFLOAT16])
    return proto


def _spec(rng, spec):
    spec.name = rng.choice(["albert", "albert", "albert", "nope", "", "ä" * 3])
    choice = rng.randrange(4)
    if choice == 1:
        spec.version.value = rng.choice([1, 2, 0, -1, 2**63 - 1, -(2**63)])
    elif choice == 2:
        spec.version_label = rng.choice(["stable", "", "x"])
    spec.signature_name = rng.choice(["", "", "serving_default", "serve_token_ids", "classify", "regress",
                                      "__saved_model_init_op", "nope"])


def _examples(rng, model_input):
    target = (model_input.example_list_with_context if rng.random() < 0.3 else model_input.example_list)
    if target is model_input.example_list_with_context:
        target.context.features.feature["text"].bytes_list.value.append(b"context")
    for _ in range(rng.randrange(0, 3)):
        feature = target.examples.add().features.feature[rng.choice(["text", "other"])]
        kind = rng.randrange(4)
        if kind == 0:
            feature.bytes_list.value.extend([b"a good movie"] * rng.randrange(0, 3))
        elif kind == 1:
            feature.int64_list.value.append(3)
        elif kind == 2:
            feature.float_list.value.append(0.5)


def _grpc_call(rng, prediction, models):
    kind = rng.randrange(7)
    if kind <= 2:
        request = predict_pb2.PredictRequest()
        if rng.random() < 0.95:
            _spec(rng, request.model_spec)
        names = ["text", "input_word_ids", "input_mask", "input_type_ids", "inputs", "zz"]
        for name in rng.sample(names, rng.randrange(0, 4)):
            request.inputs[name].CopyFrom(_tensor(rng))
        if rng.random() < 0.2:
            request.output_filter.extend(rng.sample(["logits", "labels", "nope", "logits"], 2))
        return prediction.Predict, request
    if kind == 3:
        request = rng.choice([classification_pb2.ClassificationRequest, regression_pb2.RegressionRequest])()
        _spec(rng, request.model_spec)
        _examples(rng, request.input)
        call = prediction.Classify if isinstance(request, classification_pb2.ClassificationRequest) else \
            prediction.Regress
        return call, request
    if kind == 4:
        request = inference_pb2.MultiInferenceRequest()
        for _ in range(rng.randrange(0, 3)):
            task = request.tasks.add()
            _spec(rng, task.model_spec)
            task.method_name = rng.choice(["tensorflow/serving/classify", "tensorflow/serving/regress", "x", ""])
        _examples(rng, request.input)
        return prediction.MultiInference, request
    if kind == 5:
        request = get_model_metadata_pb2.GetModelMetadataRequest()
        _spec(rng, request.model_spec)
        request.metadata_field.extend(rng.sample(["signature_def", "x", ""], rng.randrange(0, 3)))
        return prediction.GetModelMetadata, request
    request = get_model_status_pb2.GetModelStatusRequest()
    if rng.random() < 0.9:
        _spec(rng, request.model_spec)
    return models.GetModelStatus, request


def test_grpc_fuzz(server):
    rng = random.Random(1729)
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        prediction = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        models = model_service_pb2_grpc.ModelServiceStub(channel)
        before = prediction.Predict(_good_grpc(), timeout=30)
        started = time.monotonic()
        codes = {}
        for _ in range(GRPC_REQUESTS):
            call, request = _grpc_call(rng, prediction, models)
            try:
                call(request, timeout=30)
                code = grpc.StatusCode.OK
            except grpc.RpcError as e:
                code = e.code()
                assert code not in SERVER_ERRORS_GRPC, (code, e.details(), request)
            codes[code] = codes.get(code, 0) + 1
        assert time.monotonic() - started < 30
        # A message over --grpc_channel_arguments' receive limit: RESOURCE_EXHAUSTED, and serving goes on.
        big = _good_grpc()
        big.inputs["text"].CopyFrom(tf.make_tensor_proto(["x" * 1000] * 2000))
        with pytest.raises(grpc.RpcError) as info:
            prediction.Predict(big, timeout=30)
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        after = prediction.Predict(_good_grpc(), timeout=30)
    assert after == before  # the same good request answers identically, bit for bit
    assert codes.get(grpc.StatusCode.OK, 0) > 20 and codes.get(grpc.StatusCode.INVALID_ARGUMENT, 0) > 200
    np.testing.assert_equal(len(after.outputs["logits"].float_val), 4)

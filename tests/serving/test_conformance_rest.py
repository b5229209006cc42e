"""The REST API answers as TF Serving 2.21 does (codes, messages, JSON shapes).

Every expected value cites where TF Serving pins it (tensorflow/serving at
9d981c5, paths under tensorflow_serving/). The suite runs against the
development server always, and against `tensorflow_model_server` or the
tensorflow/serving image when present (tests/helpers/serving.SERVER_KINDS).
Where the development server differs on purpose, the test says so and
docs/SERVING.md lists the difference.
"""

import base64
import json

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers.serving import http_call

TEXTS = ["a good movie", "bad"]


@pytest.fixture(scope="module")
def reference(text_model_base):
    loaded = tf.saved_model.load(f"{text_model_base}/1")
    text = {k: v.numpy() for k, v in loaded.signatures["serving_default"](text=tf.constant(TEXTS)).items()}
    ids = loaded.signatures["serve_token_ids"](
        input_word_ids=tf.constant([[2, 5, 9]]), input_mask=tf.constant([[1, 1, 0]]),
        input_type_ids=tf.constant([[0, 0, 0]]))["logits"].numpy()
    return {"text": text, "ids": ids}


def call(server, method, path, body=None, headers=None):
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    status, text, response_headers = http_call(server.rest_url, method, path, body, headers)
    return status, text, response_headers


def error_of(text):
    return json.loads(text)["error"]


# Paths and methods.

# model_servers/http_rest_api_handler_test.cc, TEST_F UnsupportedApiCalls (lines 179-258): all
# INVALID_ARGUMENT (HTTP 400 by http_server.cc ToHTTPStatusCode) with these messages.
UNSUPPORTED = [
    ("GET", "/v1/foo", "Malformed request"),
    ("POST", "/v1/foo", "Malformed request"),
    ("GET", "/v1/models", "Missing model name"),
    ("GET", "/v1/models/debug/model_name", "Malformed request"),
    ("POST", "/v1/models", "Malformed request"),
    ("GET", "/v1/models/foo:predict", "Malformed request"),
    ("GET", "/v1/models/foo/version/50:predict", "Malformed request"),
    ("POST", "/v1/models/foo/version/50:regress", "Malformed request"),
    ("POST", "/v1/models/foo/versions/HELLO:regress", "Malformed request"),
    ("POST", f"/v1/models/foo/versions/{2**64 - 1}:regress", "Failed to convert version"),
    ("POST", "/v1/models/foo/metadata", "Malformed request"),
    ("POST", "/v1/models/foo/label/some_label:regress", "Malformed request"),
    ("POST", "/v1/models/foo/versions/50/labels/some_label:regress", "Malformed request"),
    ("POST", "/v1/models/foo/versions/some_label:regress", "Malformed request"),
    # http_rest_api_handler.cc ProcessRequest: only GET and POST are dispatched.
    ("PUT", "/v1/models/albert", "Malformed request: PUT /v1/models/albert"),
    ("DELETE", "/v1/models/albert", "Malformed request: DELETE /v1/models/albert"),
    # http_rest_api_util.cc kPredictionApiGegex is (?i), but ProcessRequest compares the verb exactly.
    ("POST", "/v1/models/albert:PREDICT", "Malformed request"),
    # The status regex's \d is ASCII: a trailing slash or sign never matches.
    ("GET", "/v1/models/albert/", "Malformed request"),
    ("GET", "/v1/models/albert/versions/-1", "Malformed request"),
]


@pytest.mark.parametrize("method,path,message", UNSUPPORTED, ids=[f"{m} {p}" for m, p, _ in UNSUPPORTED])
def test_unsupported_api_calls_are_400(server, method, path, message):
    status, text, headers = call(server, method, path, body="" if method != "GET" else None)
    assert status == 400
    assert message in error_of(text)
    assert headers["Content-Type"] == "application/json"  # http_rest_api_util.cc AddHeaders


def test_paths_outside_v1_are_404(server):
    # http_server.cc RestApiRequestDispatcher::Dispatch: only kHTTPRestApiHandlerPathRegex "(?i)/v1/.*"
    # (http_rest_api_util.h line 33) gets a handler; net_http answers 404 otherwise.
    for path in ("/", "/v2/models/albert", "/statuspage", "/index"):
        assert call(server, "GET", path)[0] == 404


def test_v1_prefix_and_names_are_case_insensitive(server):
    # (?i) on both regexes of http_rest_api_util.cc.
    status, text, _ = call(server, "GET", "/V1/MODELS/albert")
    assert status == 200 and json.loads(text)["model_version_status"][0]["state"] == "AVAILABLE"


def test_cors_preflight(server):
    # http_server.cc ProcessRequest: OPTIONS with an http(s) Origin is OK, without it FAILED_PRECONDITION
    # (HTTP 400) and no body.
    assert call(server, "OPTIONS", "/v1/models/albert:predict", headers={"Origin": "https://a.example"})[0] == 200
    status, text, _ = call(server, "OPTIONS", "/v1/models/albert:predict")
    assert (status, text) == (400, "")


# Status and metadata.

# http_rest_api_handler_test.cc TEST_F GetStatus (lines 442-497): the JSON exactly, with the
# default-valued fields printed (http_rest_api_util.cc ToJsonString: always_print_fields_with_no_presence).
STATUS_V1 = {"model_version_status": [
    {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}


def test_status_json(server):
    for path in ("/v1/models/albert", "/v1/models/albert/versions/1"):
        status, text, _ = call(server, "GET", path)
        assert status == 200 and json.loads(text) == STATUS_V1


def test_status_by_label_ignores_the_label(server):
    # model_servers/get_model_status_impl.cc GetModelStatusWithModelSpec reads only has_version():
    # a label, even an unknown one, answers every version of the model.
    status, text, _ = call(server, "GET", "/v1/models/albert/labels/no_such_label")
    assert status == 200 and json.loads(text) == STATUS_V1


def test_status_errors(server):
    # get_model_status_impl.cc: NOT_FOUND (404) with these messages.
    status, text, _ = call(server, "GET", "/v1/models/nope")
    assert status == 404 and error_of(text) == "Could not find any versions of model nope"
    status, text, _ = call(server, "GET", "/v1/models/albert/versions/9")
    assert status == 404 and error_of(text) == "Could not find version 9 of model albert"


def test_metadata_json(server, text_model_base):
    status, text, _ = call(server, "GET", "/v1/models/albert/metadata")
    assert status == 200
    answer = json.loads(text)
    # get_model_metadata_impl.cc SavedModelGetSignatureDef: name and version of the bundle; the
    # unset signature_name is printed ("" by always_print_fields_with_no_presence).
    assert answer["model_spec"] == {"name": "albert", "signature_name": "", "version": "1"}
    signatures = answer["metadata"]["signature_def"]["signature_def"]
    # Every SignatureDef of the MetaGraph is copied, __saved_model_init_op included.
    assert set(signatures) == {"serving_default", "serve_token_ids", "classify", "regress",
                               "__saved_model_init_op"}
    text_input = signatures["serving_default"]["inputs"]["text"]
    assert text_input["dtype"] == "DT_STRING"
    assert text_input["tensor_shape"] == {"dim": [{"size": "-1", "name": ""}], "unknown_rank": False}
    assert signatures["serving_default"]["method_name"] == "tensorflow/serving/predict"
    assert signatures["serving_default"]["defaults"] == {}


def test_metadata_of_unknown_label(server):
    # model_servers/server_core.cc GetModelVersionForLabel: INVALID_ARGUMENT.
    status, text, _ = call(server, "GET", "/v1/models/albert/labels/canary/metadata")
    assert status == 400 and error_of(text) == "Unrecognized servable version label: canary"


# Predict.


def test_predict_row_format_with_several_outputs(server, reference):
    # util/json_tensor.cc MakeRowFormatJsonFromTensors: one object per instance when several outputs.
    status, text, _ = call(server, "POST", "/v1/models/albert:predict", {"instances": TEXTS})
    assert status == 200
    rows = json.loads(text)["predictions"]
    assert [set(r) for r in rows] == [{"logits", "probabilities", "label_ids", "labels"}] * 2
    np.testing.assert_allclose([r["logits"] for r in rows], reference["text"]["logits"], rtol=1e-6, atol=1e-6)
    assert [r["labels"] for r in rows] == [v.decode() for v in reference["text"]["labels"]]
    assert [r["label_ids"] for r in rows] == reference["text"]["label_ids"].tolist()


def test_predict_columnar_format(server, reference):
    # json_tensor.cc MakeColumnarFormatJsonFromTensors: {"outputs": {name: tensor}}.
    status, text, _ = call(server, "POST", "/v1/models/albert:predict", {"inputs": {"text": TEXTS}})
    assert status == 200
    outputs = json.loads(text)["outputs"]
    np.testing.assert_allclose(outputs["probabilities"], reference["text"]["probabilities"], rtol=1e-6)
    # A single-input signature also takes the bare list (FillTensorMapFromInputsMap).
    status, text, _ = call(server, "POST", "/v1/models/albert:predict", {"inputs": TEXTS})
    assert status == 200 and json.loads(text)["outputs"]["labels"] == outputs["labels"]


def test_predict_single_output_and_named_instances(server, reference):
    body = {"signature_name": "serve_token_ids", "instances": [
        {"input_word_ids": [2, 5, 9], "input_mask": [1, 1, 0], "input_type_ids": [0, 0, 0]}]}
    status, text, _ = call(server, "POST", "/v1/models/albert/versions/1:predict", body)
    assert status == 200
    # One output: the bare tensor per instance (json_tensor.cc, elements_are_objects false).
    np.testing.assert_allclose(json.loads(text)["predictions"], reference["ids"], rtol=1e-6, atol=1e-6)
    columns = {"signature_name": "serve_token_ids", "inputs": {
        "input_word_ids": [[2, 5, 9]], "input_mask": [[1, 1, 0]], "input_type_ids": [[0, 0, 0]]}}
    status, text, _ = call(server, "POST", "/v1/models/albert:predict", columns)
    assert status == 200
    np.testing.assert_allclose(json.loads(text)["outputs"], reference["ids"], rtol=1e-6, atol=1e-6)


def test_b64_strings_equal_plain_strings(server):
    # json_tensor.cc JsonDecodeBase64Object: {"b64": ...} is the decoded bytes of a DT_STRING input.
    plain = call(server, "POST", "/v1/models/albert:predict", {"instances": TEXTS})[1]
    encoded = [{"b64": base64.b64encode(t.encode()).decode()} for t in TEXTS]
    status, text, _ = call(server, "POST", "/v1/models/albert:predict", {"instances": encoded})
    assert status == 200 and json.loads(text) == json.loads(plain)


def test_trailing_text_after_the_document_is_ignored(server):
    # json_tensor.cc ParseJson: rapidjson::kParseStopWhenDoneFlag.
    status, _, _ = call(server, "POST", "/v1/models/albert:predict", '{"instances": ["fine"]} trailing')
    assert status == 200


TOKEN_IDS = "/v1/models/albert:predict"
# (body, HTTP status, message part); sources per line.
PREDICT_ERRORS = [
    # http_rest_api_handler_test.cc TEST_F PredictRequestErrors (lines 282-328).
    ("", 400, "JSON Parse error: The document is empty"),
    ("instances = [1, 2]", 400, "JSON Parse error: Invalid value"),
    ({"signature_name": 100}, 400, "'signature_name' key must be a string value."),
    # json_tensor.cc AddValueToTensor: a float for an int32 input is refused (TypeError), never truncated.
    ({"signature_name": "serve_token_ids", "inputs": {"input_word_ids": [[1.5]], "input_mask": [[1]],
                                                      "input_type_ids": [[0]]}},
     400, "JSON Value: 1.5 Type: Number is not of expected type: int32"),
    ({"instances": [1.5]}, 400, "is not of expected type: string"),
    # json_tensor.cc FillPredictRequestFromJson.
    ({"instances": ["x"], "inputs": ["x"]}, 400, "Not formatted correctly expecting only one of 'inputs' or "
                                                "'instances' keys to exist"),
    ({"wrong": ["x"]}, 400, "Missing 'inputs' or 'instances' key"),
    ({"instances": []}, 400, "No values in 'instances' array"),
    ({"instances": "x"}, 400, "Expecting 'instances' to be an list/array"),
    ("[1, 2]", 400, "Is not object"),
    ('{"instances": [1e999]}', 400, "JSON Parse error: Number too big to be stored in double."),
    # json_tensor.cc FillTensorProto / AddInstanceItem.
    ({"signature_name": "serve_token_ids", "inputs": {"input_word_ids": [[1, 2], [3]], "input_mask": [[1]],
                                                      "input_type_ids": [[0]]}},
     400, "Encountered list at unexpected size: 1 at level: 1 expected size: 2"),
    ({"instances": [{"b64": "!!!"}]}, 400, "Unable to base64 decode"),
    ({"signature_name": "serve_token_ids", "instances": [{"input_word_ids": [1]}]},
     400, "keys must be equal to: input_mask,input_type_ids,input_word_ids"),
    ({"signature_name": "serve_token_ids", "inputs": {"input_word_ids": [[1]]}},
     400, "Missing named input: input_"),  # the first missing one in protobuf Map order
    ({"signature_name": "serve_token_ids", "instances": [[1]]}, 400,
     "instances is a plain list, but expecting list of objects as multiple input tensors required"),
    # http_rest_api_handler.cc GetInfoMap.
    ({"signature_name": "nope", "instances": ["x"]}, 400,
     'Serving signature name: "nope" not found in signature def'),
]


@pytest.mark.parametrize("body,code,message", PREDICT_ERRORS, ids=[str(i) for i in range(len(PREDICT_ERRORS))])
def test_predict_errors(server, body, code, message):
    status, text, _ = call(server, "POST", TOKEN_IDS, body)
    assert status == code
    assert message in error_of(text)


def test_predict_model_and_version_errors(server):
    # http_rest_api_handler_test.cc TEST_F PredictModelNameVersionErrors: NOT_FOUND (404).
    assert call(server, "POST", "/v1/models/foo:predict", {"instances": [1]})[0] == 404
    assert call(server, "POST", "/v1/models/albert/versions/50:predict", {"instances": ["x"]})[0] == 404
    # PredictRequestErrors: an unknown label is INVALID_ARGUMENT.
    status, text, _ = call(server, "POST", "/v1/models/albert/labels/nope:predict", {"instances": ["x"]})
    assert status == 400 and "Unrecognized servable version label" in error_of(text)


# Classify and Regress on tf.Example.


def test_classify_and_regress(server, reference):
    body = {"signature_name": "classify", "examples": [{"text": t} for t in TEXTS]}
    status, text, _ = call(server, "POST", "/v1/models/albert:classify", body)
    assert status == 200
    # json_tensor.cc MakeJsonFromClassificationResult: [[[label, score], ...] per example].
    results = json.loads(text)["results"]
    assert [[c[0] for c in row] for row in results] == [["negative", "positive"]] * 2
    np.testing.assert_allclose([[c[1] for c in row] for row in results], reference["text"]["probabilities"],
                               rtol=1e-6)
    body["signature_name"] = "regress"
    status, text, _ = call(server, "POST", "/v1/models/albert/versions/1:regress", body)
    assert status == 200
    # MakeJsonFromRegressionResult: one value per example.
    np.testing.assert_allclose(json.loads(text)["results"], reference["text"]["probabilities"][:, 1], rtol=1e-6)


def test_classify_with_context(server, reference):
    # json_tensor.cc FillClassifyRegressRequestFromJson: "context" features join every example.
    body = {"signature_name": "classify", "context": {"text": TEXTS[0]}, "examples": [{}]}
    status, text, _ = call(server, "POST", "/v1/models/albert:classify", body)
    assert status == 200
    np.testing.assert_allclose([c[1] for c in json.loads(text)["results"][0]],
                               reference["text"]["probabilities"][0], rtol=1e-6)


EXAMPLE_ERRORS = [
    # json_tensor.cc FillClassifyRegressRequestFromJson (the same words for :regress).
    ({"signature_name": "classify"}, "When method is classify, key 'examples' is expected and was not found"),
    ({"signature_name": "classify", "examples": []}, "'examples' value is an empty array"),
    ({"signature_name": "classify", "examples": {}}, "Expecting 'examples' value to be an list/array"),
    # MakeExampleFromJsonObject / AddValueToFeature.
    ({"signature_name": "classify", "examples": [1]}, "Example must be JSON object but got JSON Number"),
    ({"signature_name": "classify", "examples": [{"text": None}]},
     "Feature: text has element with unexpected JSON type: Null"),
    ({"signature_name": "classify", "examples": [{"text": ["a", 1]}]},
     "Unexpected element type in feature: text expecting type: bytes"),
    ({"signature_name": "classify", "examples": [{"n": 2**64 - 1}]},
     "Feature: n has uint64_t element. Only int64_t is supported."),
    # servables/tensorflow/classifier.cc: an unknown Classify signature is INVALID_ARGUMENT.
    ({"signature_name": "nope", "examples": [{"text": "x"}]}, "No signature was found with the name: nope"),
]


@pytest.mark.parametrize("body,message", EXAMPLE_ERRORS, ids=[str(i) for i in range(len(EXAMPLE_ERRORS))])
def test_classify_errors(server, body, message):
    status, text, _ = call(server, "POST", "/v1/models/albert:classify", body)
    assert status == 400
    assert message in error_of(text)


# JSON number formatting, on the development server's writer (util/json_tensor.cc WriteDecimal).


def test_float_formatting_as_json_tensor_test():
    from serving.server import json_tensor

    # json_tensor_test.cc FromJsonSingleFloatTensorSixDigitPrecision and ...NonFinite (lines 921-975).
    values = np.array([[9000000, 999999, 0.5], [0.0003, 0.00003, 555557.5]], np.float32)
    text = json_tensor.predict_json({"float_tensor": values}, json_tensor.ROW)
    assert text.split() == '{ "predictions": [ [9e+06, 999999.0, 0.5], [0.0003, 3e-05, 555557.5] ] }'.split()
    special = np.array([[np.nan, np.inf], [3, -np.inf]], np.float32)
    text = json_tensor.predict_json({"float_tensor": special}, json_tensor.ROW)
    assert text.split() == '{ "predictions": [ [NaN, Infinity], [3.0, -Infinity] ] }'.split()
    # A float that "%g" would round is printed with max_digits10 (9 for float, 17 for double).
    assert json_tensor.decimal(np.float32(1 / 3)) == "0.333333343"
    assert json_tensor.decimal(1 / 3, np.float64) == "0.33333333333333331"
    assert json_tensor.decimal(np.float32(0.1)) == "0.1"


def test_bytes_outputs_and_unsupported_types():
    from serving.server import errors, json_tensor

    # json_tensor_test.cc (lines 890-919): string outputs named *_bytes are written as {"b64": ...}.
    strings = np.array([[b"hello", b"world"], [b"tf", b"serving"]], dtype=object)
    text = json_tensor.predict_json({"str_tensor_bytes": strings}, json_tensor.ROW)
    assert json.loads(text) == {"predictions": [[{"b64": "aGVsbG8="}, {"b64": "d29ybGQ="}],
                                                [{"b64": "dGY="}, {"b64": "c2VydmluZw=="}]]}
    # FromJsonSingleTensorErrors (lines 977-1000): complex64 cannot be written.
    with pytest.raises(errors.ServingError, match="tensor type: complex64"):
        json_tensor.predict_json({"tensor": np.array([1 + 2j], np.complex64)}, json_tensor.ROW)
    with pytest.raises(errors.ServingError, match="empty tensor map"):
        json_tensor.predict_json({}, json_tensor.ROW)

"""The gRPC API answers as TF Serving 2.21 does: typed output fields, codes, labels, limits.

Every expected value cites where TF Serving pins it (tensorflow/serving at
9d981c5, paths under tensorflow_serving/). Runs against the development
server always and against `tensorflow_model_server` when on PATH; the
Docker image is skipped here because these tests serve a model config file
that ServerProcess does not mount into the container.
"""

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    regression_pb2,
)

from tests.helpers.serving import SERVER_KINDS, ServerProcess

TEXTS = ["a good movie", "bad"]
CONFIG = """model_config_list {{
  config {{
    name: "albert"
    base_path: "{base}"
    model_platform: "tensorflow"
    version_labels {{ key: "stable" value: 1 }}
  }}
}}
"""


def _start(kind, tmp_path_factory, text_model_base, *extra):
    if kind == "docker":
        pytest.skip("the model config file is not mounted into the container")
    config = tmp_path_factory.mktemp("grpc_conformance") / "models.config"
    config.write_text(CONFIG.format(base=text_model_base))
    return ServerProcess(kind, [f"--model_config_file={config}", *extra], "albert", base_path=text_model_base)


@pytest.fixture(scope="module", params=SERVER_KINDS)
def server(request, tmp_path_factory, text_model_base):
    process = _start(request.param, tmp_path_factory, text_model_base)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def reference(text_model_base):
    loaded = tf.saved_model.load(f"{text_model_base}/1")
    return {k: v.numpy() for k, v in loaded.signatures["serving_default"](text=tf.constant(TEXTS)).items()}


def _predict_request(signature="", label=None, **inputs):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "albert"
    request.model_spec.signature_name = signature
    if label is not None:
        request.model_spec.version_label = label
    for name, value in (inputs or {"text": TEXTS}).items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return request


def _examples(request, texts=TEXTS):
    for text in texts:
        request.input.example_list.examples.add().features.feature["text"].bytes_list.value.append(text.encode())
    return request


def _code(call):
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code(), info.value.details()


def test_predict_fills_the_typed_value_fields(stubs, reference):
    prediction, _ = stubs
    response = prediction.Predict(_predict_request(), timeout=30)
    # servables/tensorflow/predict_util.cc RunPredict: kAsProtoField (Tensor::AsProtoField) unless
    # --enable_serialization_as_tensor_content; model_servers/test_util/
    # tensorflow_model_server_test_base.py VerifyPredictRequest (line 283) reads outputs['y'].float_val.
    logits = response.outputs["logits"]
    assert logits.tensor_content == b""
    assert [d.size for d in logits.tensor_shape.dim] == [2, 2]
    np.testing.assert_allclose(np.reshape(logits.float_val, (2, 2)), reference["logits"], rtol=1e-6, atol=1e-6)
    assert list(response.outputs["label_ids"].int_val) == reference["label_ids"].tolist()
    assert list(response.outputs["labels"].string_val) == reference["labels"].tolist()
    # predict_util.cc MakeModelSpec: the request's name, the resolved signature and version.
    assert (response.model_spec.name, response.model_spec.signature_name,
            response.model_spec.version.value) == ("albert", "serving_default", 1)


def test_output_filter(stubs):
    prediction, _ = stubs
    request = _predict_request()
    request.output_filter.append("labels")
    # predict_util.cc PreProcessPrediction: only the filtered aliases come back.
    assert set(prediction.Predict(request, timeout=30).outputs) == {"labels"}
    request.output_filter.append("labels")
    code, details = _code(lambda: prediction.Predict(request, timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details == "duplicate output tensor alias: labels"


def test_a_float_tensor_for_an_int_input_is_refused(stubs):
    prediction, _ = stubs
    request = _predict_request("serve_token_ids", input_word_ids=np.array([[1.5]], np.float32),
                               input_mask=np.array([[1]], np.int32), input_type_ids=np.array([[0]], np.int32))
    # The Session refuses a tensor of another dtype: INVALID_ARGUMENT, nothing is truncated.
    code, _ = _code(lambda: prediction.Predict(request, timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT


def test_predict_errors(stubs):
    prediction, _ = stubs
    # predict_util.cc RunPredict: an unknown signature is FAILED_PRECONDITION with this message.
    code, details = _code(lambda: prediction.Predict(_predict_request("nope"), timeout=30))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and details == 'Serving signature key "nope" not found.'
    # predict_util.cc VerifyRequestInputsSize: the message in full.
    request = _predict_request(text=TEXTS, more=TEXTS)
    code, details = _code(lambda: prediction.Predict(request, timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details == ("input size does not match signature: 2!=1 len({more,text}) != len({text}). "
                       "Sent extra: {more}. Missing but required: {}.")
    # server_core.cc ServableRequestFromModelSpec: no name.
    request = _predict_request()
    request.model_spec.name = ""
    code, details = _code(lambda: prediction.Predict(request, timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details == "ModelSpec has no name specified."


def test_classify_and_regress_on_tf_examples(stubs, reference):
    prediction, _ = stubs
    request = _examples(classification_pb2.ClassificationRequest())
    request.model_spec.name, request.model_spec.signature_name = "albert", "classify"
    response = prediction.Classify(request, timeout=30)
    # servables/tensorflow/classifier.cc: one Classifications per example, (label, score) per class.
    assert [[c.label for c in row.classes] for row in response.result.classifications] == \
        [["negative", "positive"]] * 2
    np.testing.assert_allclose([[c.score for c in row.classes] for row in response.result.classifications],
                               reference["probabilities"], rtol=1e-6)
    assert response.model_spec.signature_name == "classify" and response.model_spec.version.value == 1
    request = _examples(regression_pb2.RegressionRequest())
    request.model_spec.name, request.model_spec.signature_name = "albert", "regress"
    response = prediction.Regress(request, timeout=30)
    np.testing.assert_allclose([r.value for r in response.result.regressions], reference["probabilities"][:, 1],
                               rtol=1e-6)
    # classifier.cc: an empty input is INVALID_ARGUMENT "Input is empty."; an unknown signature is
    # INVALID_ARGUMENT (not FAILED_PRECONDITION as in Predict).
    empty = classification_pb2.ClassificationRequest()
    empty.model_spec.name, empty.model_spec.signature_name = "albert", "classify"
    empty.input.example_list.SetInParent()
    assert _code(lambda: prediction.Classify(empty, timeout=30)) == (grpc.StatusCode.INVALID_ARGUMENT,
                                                                    "Input is empty.")
    request = _examples(classification_pb2.ClassificationRequest())
    request.model_spec.name, request.model_spec.signature_name = "albert", "nope"
    assert _code(lambda: prediction.Classify(request, timeout=30))[0] == grpc.StatusCode.INVALID_ARGUMENT


def test_metadata_lists_every_signature(stubs):
    prediction, _ = stubs
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = "albert"
    response = prediction.GetModelMetadata(request, timeout=30)
    # servables/tensorflow/get_model_metadata_impl.cc SavedModelGetSignatureDef: all SignatureDefs.
    signatures = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signatures)
    assert set(signatures.signature_def) == {"serving_default", "serve_token_ids", "classify", "regress",
                                            "__saved_model_init_op"}
    assert (response.model_spec.name, response.model_spec.version.value) == ("albert", 1)
    # ValidateGetModelMetadataRequest: these two messages.
    request.ClearField("metadata_field")
    assert _code(lambda: prediction.GetModelMetadata(request, timeout=30)) == (
        grpc.StatusCode.INVALID_ARGUMENT, "GetModelMetadataRequest must specify at least one metadata_field")
    request.metadata_field.append("nope")
    assert _code(lambda: prediction.GetModelMetadata(request, timeout=30)) == (
        grpc.StatusCode.INVALID_ARGUMENT, "Metadata field nope is not supported")


def test_labels(stubs):
    prediction, models = stubs
    # server_core.cc ServableRequestFromModelSpec + GetModelVersionForLabel.
    response = prediction.Predict(_predict_request(label="stable"), timeout=30)
    assert response.model_spec.version.value == 1
    assert _code(lambda: prediction.Predict(_predict_request(label="canary"), timeout=30)) == (
        grpc.StatusCode.INVALID_ARGUMENT, "Unrecognized servable version label: canary")
    # get_model_status_impl.cc: the label is not read; every version answers.
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name, request.model_spec.version_label = "albert", "canary"
    status = models.GetModelStatus(request, timeout=30)
    assert [(s.version, s.state) for s in status.model_version_status] == [(1, 30)]


def test_reload_refuses_a_label_on_an_unavailable_version(stubs, text_model_base):
    _, models = stubs
    request = model_management_pb2.ReloadConfigRequest()
    model = request.config.model_config_list.config.add(
        name="albert", base_path=text_model_base, model_platform="tensorflow")
    model.version_labels["stable"] = 1
    model.version_labels["next"] = 7
    # server_core.cc UpdateModelVersionLabelMap without --allow_version_labels_for_unavailable_models;
    # model_service_impl.cc HandleReloadConfigRequest returns the status as the RPC's.
    assert _code(lambda: models.HandleReloadConfigRequest(request, timeout=60)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "Request to assign label to version 7 of model albert, which is not currently available for inference")


@pytest.mark.parametrize("kind", SERVER_KINDS)
def test_allow_version_labels_for_unavailable_models(kind, tmp_path_factory, text_model_base):
    process = _start(kind, tmp_path_factory, text_model_base, "--allow_version_labels_for_unavailable_models=true")
    try:
        with grpc.insecure_channel(process.grpc_target) as channel:
            models = model_service_pb2_grpc.ModelServiceStub(channel)
            reload = model_management_pb2.ReloadConfigRequest()
            model = reload.config.model_config_list.config.add(
                name="albert", base_path=text_model_base, model_platform="tensorflow")
            model.version_labels["stable"] = 1
            model.version_labels["next"] = 7
            # UpdateModelVersionLabelMap: a new label may name a version that is not loaded...
            assert models.HandleReloadConfigRequest(reload, timeout=60).status.error_code == 0
            # ...but moving an existing label still needs an AVAILABLE version.
            model.version_labels["stable"] = 8
            assert _code(lambda: models.HandleReloadConfigRequest(reload, timeout=60))[0] == \
                grpc.StatusCode.FAILED_PRECONDITION
    finally:
        process.stop()


def test_messages_over_4_mib_are_accepted_by_default(stubs):
    prediction, _ = stubs
    # model_servers/server.cc: builder.SetMaxMessageSize(INT32_MAX); a 6 MB request reaches the
    # servable (here: an unknown signature, so nothing heavy runs) instead of RESOURCE_EXHAUSTED.
    request = _predict_request("nope", text=["x" * 1000] * 6000)
    assert _code(lambda: prediction.Predict(request, timeout=60))[0] == grpc.StatusCode.FAILED_PRECONDITION

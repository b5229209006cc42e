"""TF Serving's request handling on protos, shared by the gRPC and REST fronts.

Each function takes a request proto and returns the response proto, or raises
`errors.ServingError` with the code TF Serving returns for the same mistake.
"""

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    predict_pb2,
    regression_pb2,
)

from . import errors

CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"


_MAX_TENSOR_BYTES = 2**31 - 1  # the largest message TF Serving accepts (server.cc SetMaxMessageSize)


def tensor_to_ndarray(name, proto):
    """A request TensorProto as numpy, or INVALID_ARGUMENT "tensor parsing error"."""
    if proto.dtype in (types_pb2.DT_INVALID,) or proto.dtype >= 100:
        raise errors.invalid_argument(f"tensor parsing error: {name}")
    sizes = [d.size for d in proto.tensor_shape.dim]
    # Tensor::FromProto fails when the tensor cannot be allocated; a few values may
    # stand for a huge shape (the last value repeats), so bound it before numpy tries.
    if any(s < 0 for s in sizes) or np.prod(np.array(sizes, dtype=np.float64)) * 8 > _MAX_TENSOR_BYTES:
        raise errors.invalid_argument(f"tensor parsing error: {name}")
    try:
        array = tf.make_ndarray(proto)
    except Exception:  # noqa: BLE001 - any decoding failure is a malformed tensor
        raise errors.invalid_argument(f"tensor parsing error: {name}") from None
    count = int(np.prod(sizes, dtype=np.int64))
    if array.size != count:
        raise errors.invalid_argument(f"tensor parsing error: {name}")
    if proto.dtype == types_pb2.DT_STRING and len(proto.string_val) > max(count, 1):
        raise errors.invalid_argument(f"tensor parsing error: {name}")
    return array


# Tensor::AsProtoField: which repeated field holds each dtype's values.
_TYPED_FIELD = {
    types_pb2.DT_FLOAT: "float_val", types_pb2.DT_DOUBLE: "double_val",
    types_pb2.DT_INT32: "int_val", types_pb2.DT_INT16: "int_val", types_pb2.DT_INT8: "int_val",
    types_pb2.DT_UINT8: "int_val", types_pb2.DT_UINT16: "int_val",
    types_pb2.DT_INT64: "int64_val", types_pb2.DT_UINT32: "uint32_val", types_pb2.DT_UINT64: "uint64_val",
    types_pb2.DT_BOOL: "bool_val", types_pb2.DT_STRING: "string_val",
    types_pb2.DT_HALF: "half_val", types_pb2.DT_BFLOAT16: "half_val",
    types_pb2.DT_COMPLEX64: "scomplex_val", types_pb2.DT_COMPLEX128: "dcomplex_val",
}


def ndarray_to_tensor(array, tensor_content=False):
    """A response tensor as TF Serving writes it (predict_util.cc PostProcessPredictionResult).

    Args:
        array: np.ndarray of any TensorFlow dtype.
        tensor_content: False (TF Serving's default): values in the typed
            field (`float_val`, `int_val`, `string_val`, ...) as
            Tensor::AsProtoField writes them; True
            (--enable_serialization_as_tensor_content): packed bytes in
            `tensor_content` (strings stay in `string_val`).

    Example:
    >>> ndarray_to_tensor(np.array([[0.5, 2.0]], np.float32)).float_val
    [0.5, 2.0]
    """
    if tensor_content:
        return tf.make_tensor_proto(array)
    dtype = tf.dtypes.as_dtype(array.dtype)
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum)
    for size in array.shape:
        proto.tensor_shape.dim.add().size = size
    field = _TYPED_FIELD.get(proto.dtype)
    if field is None:
        return tf.make_tensor_proto(array)  # no typed field (resource, variant): TF writes tensor_content too
    flat = np.ascontiguousarray(array).reshape(-1)
    if field == "half_val":
        flat = flat.view(np.uint16)  # bit patterns, as TF stores half and bfloat16
    elif field in ("scomplex_val", "dcomplex_val"):
        flat = flat.view(np.float32 if field == "scomplex_val" else np.float64)
    getattr(proto, field).extend(flat.tolist())
    return proto


def _fill_spec(spec, name, version, signature_name):
    spec.name = name
    spec.version.value = version
    spec.signature_name = signature_name


class Inference:
    """The PredictionService / ModelService semantics over a `ModelManager`.

    Args:
        manager: `ModelManager`.
        batcher: optional `batching.Batcher`; Predict calls go through it.
    """

    def __init__(self, manager, batcher=None, tensor_content=False):
        self.manager = manager
        self.batcher = batcher
        self.tensor_content = tensor_content

    # Predict.

    def predict_arrays(self, request):
        """Runs a PredictRequest; returns (outputs name -> np.ndarray, response ModelSpec)."""
        if not request.HasField("model_spec"):
            raise errors.invalid_argument("Missing ModelSpec")
        with self.manager.handle(request.model_spec) as servable:
            servable.signature(request.model_spec.signature_name)  # RunPredict looks it up before any input
            inputs = {key: tensor_to_ndarray(key, t) for key, t in request.inputs.items()}
            if self.batcher is not None:
                outputs, signature = self.batcher.run(servable, request.model_spec.signature_name,
                                                      inputs, list(request.output_filter))
            else:
                outputs, signature = servable.run(request.model_spec.signature_name, inputs,
                                                  list(request.output_filter))
            spec = predict_pb2.PredictResponse().model_spec
            _fill_spec(spec, servable.model_name, servable.version, signature)
        return outputs, spec

    def predict(self, request):
        outputs, spec = self.predict_arrays(request)
        response = predict_pb2.PredictResponse()
        response.model_spec.CopyFrom(spec)
        for name, value in outputs.items():
            response.outputs[name].CopyFrom(ndarray_to_tensor(value, self.tensor_content))
        return response

    # Classify / Regress.

    @staticmethod
    def serialized_examples(model_input):
        """`Input` proto -> serialized tf.Examples [B]; context merged in as TF Serving does."""
        kind = model_input.WhichOneof("kind")
        if kind == "example_list":
            serialized = [e.SerializeToString() for e in model_input.example_list.examples]
        elif kind == "example_list_with_context":
            context = model_input.example_list_with_context.context.SerializeToString()
            # Concatenated serialized protos merge; example features override context.
            serialized = [context + e.SerializeToString()
                          for e in model_input.example_list_with_context.examples]
        else:
            serialized = []
        if not serialized:
            raise errors.invalid_argument("Input is empty.")
        return np.array(serialized, dtype=object)

    def _inference_signature(self, servable, signature_name, method):
        name, signature_def = servable.signature(signature_name, missing_code="invalid_argument")
        what = "classification" if method == CLASSIFY_METHOD else "regression"
        if len(signature_def.inputs) != 1:
            raise errors.invalid_argument("Expected one input Tensor.")
        if "inputs" not in signature_def.inputs:
            raise errors.invalid_argument(f"No {what} inputs found in SignatureDef: {name}")
        if signature_def.inputs["inputs"].dtype != types_pb2.DT_STRING:
            raise errors.invalid_argument(
                f"Signature {name} input 'inputs' must be DT_STRING (serialized tf.Example).")
        if method == CLASSIFY_METHOD:
            if not ({"classes", "scores"} & set(signature_def.outputs)):
                raise errors.invalid_argument(
                    'Expected classification signature outputs to contain at least one of "classes" '
                    f'or "scores". Signature was: {name}')
        elif "outputs" not in signature_def.outputs:
            raise errors.invalid_argument(f"No regression outputs found in SignatureDef: {name}")
        return name

    def _run_examples(self, model_spec, model_input, method):
        serialized = self.serialized_examples(model_input)
        with self.manager.handle(model_spec) as servable:
            name = self._inference_signature(servable, model_spec.signature_name, method)
            outputs = servable.call(name, {"inputs": serialized})
            return servable, name, outputs, len(serialized)

    @staticmethod
    def _classification_result(outputs, count, result):
        classes = outputs.get("classes")
        scores = outputs.get("scores")
        for label, tensor in (("classes", classes), ("scores", scores)):
            if tensor is not None and (tensor.ndim != 2 or tensor.shape[0] != count):
                raise errors.invalid_argument(
                    f"Expected {label} Tensor shape: [batch_size num_classes] with batch size {count} "
                    f"but got {list(tensor.shape)}")
        if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
            raise errors.invalid_argument(
                f"Tensors class and score should match in dim_size(1). Got {classes.shape[1]} "
                f"vs. {scores.shape[1]}")
        width = (classes if classes is not None else scores).shape[1]
        for i in range(count):
            row = result.classifications.add()
            for j in range(width):
                item = row.classes.add()
                if classes is not None:
                    item.label = classes[i, j].decode("utf-8") if isinstance(classes[i, j], bytes) else str(classes[i, j])
                if scores is not None:
                    item.score = float(scores[i, j])

    @staticmethod
    def _regression_result(outputs, count, result):
        values = np.asarray(outputs["outputs"])
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1 or values.shape[0] != count:
            raise errors.invalid_argument(
                f"Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
                f"{list(np.shape(outputs['outputs']))}")
        for value in values:
            result.regressions.add().value = float(value)

    def _single_inference(self, request, method, response, fill_result):
        """Answers one Classify or Regress request: `fill_result` writes `response.result`."""
        if not request.HasField("model_spec"):
            raise errors.invalid_argument("Missing ModelSpec")
        servable, name, outputs, count = self._run_examples(request.model_spec, request.input, method)
        _fill_spec(response.model_spec, servable.model_name, servable.version, name)
        fill_result(outputs, count, response.result)
        return response

    def classify(self, request):
        return self._single_inference(request, CLASSIFY_METHOD, classification_pb2.ClassificationResponse(),
                                      self._classification_result)

    def regress(self, request):
        return self._single_inference(request, REGRESS_METHOD, regression_pb2.RegressionResponse(),
                                      self._regression_result)

    def multi_inference(self, request):
        """Classify/Regress tasks on one shared input, one model (as TF Serving requires)."""
        if not request.tasks:
            raise errors.invalid_argument("Inference tasks are empty.")
        names = {task.model_spec.name for task in request.tasks}
        if len(names) != 1:
            raise errors.invalid_argument("All ModelSpecs in a MultiInferenceRequest must access the same model name.")
        signatures = [task.model_spec.signature_name or "serving_default" for task in request.tasks]
        if len(set(signatures)) != len(signatures):
            raise errors.invalid_argument("Duplicate evaluation of signature: " + ",".join(signatures))
        serialized = self.serialized_examples(request.input)
        response = inference_pb2.MultiInferenceResponse()
        with self.manager.handle(request.tasks[0].model_spec) as servable:
            for task in request.tasks:
                if task.method_name not in (CLASSIFY_METHOD, REGRESS_METHOD):
                    raise errors.unimplemented(f"Unsupported signature method_name: {task.method_name}")
                name = self._inference_signature(servable, task.model_spec.signature_name, task.method_name)
                outputs = servable.call(name, {"inputs": serialized})
                result = response.results.add()
                _fill_spec(result.model_spec, servable.model_name, servable.version, name)
                if task.method_name == CLASSIFY_METHOD:
                    self._classification_result(outputs, len(serialized), result.classification_result)
                else:
                    self._regression_result(outputs, len(serialized), result.regression_result)
        return response

    # Metadata and status.

    def metadata(self, request):
        if not request.HasField("model_spec"):
            raise errors.invalid_argument("Missing ModelSpec")
        if not request.metadata_field:
            raise errors.invalid_argument("GetModelMetadataRequest must specify at least one metadata_field")
        for field in request.metadata_field:
            if field != "signature_def":
                raise errors.invalid_argument(f"Metadata field {field} is not supported")
        with self.manager.handle(request.model_spec) as servable:
            response = get_model_metadata_pb2.GetModelMetadataResponse()
            response.model_spec.name = servable.model_name
            response.model_spec.version.value = servable.version
            signature_map = get_model_metadata_pb2.SignatureDefMap()
            # All of them, __saved_model_init_op included, as get_model_metadata_impl.cc copies them.
            for key, value in servable.signature_defs.items():
                signature_map.signature_def[key].CopyFrom(value)
            response.metadata["signature_def"].Pack(signature_map)
        return response

    def status(self, request):
        if not request.HasField("model_spec"):
            raise errors.invalid_argument("Missing ModelSpec")
        version = request.model_spec.version.value if request.model_spec.HasField("version") else None
        response = get_model_status_pb2.GetModelStatusResponse()
        for number, state, code, message in self.manager.status(request.model_spec.name, version):
            entry = response.model_version_status.add()
            entry.version = number
            entry.state = state
            entry.status.error_code = code
            entry.status.error_message = message
        return response


def warmup(servable, records):
    """Replays TF Serving warmup records (serialized PredictionLog) on a freshly loaded version.

    Runs before the version is marked AVAILABLE so its first real request does
    not pay for tracing; a failing record fails the load, as in TF Serving.
    """
    from tensorflow_serving.apis import prediction_log_pb2

    for index, record in enumerate(records):
        log = prediction_log_pb2.PredictionLog()
        try:
            log.ParseFromString(record)
        except Exception:  # noqa: BLE001
            raise errors.invalid_argument(f"Warmup record {index} is not a PredictionLog.") from None
        kind = log.WhichOneof("log_type")
        if kind == "predict_log":
            request = log.predict_log.request
            inputs = {name: tensor_to_ndarray(name, t) for name, t in request.inputs.items()}
            servable.run(request.model_spec.signature_name, inputs, list(request.output_filter))
        elif kind in ("classify_log", "regress_log"):
            request = getattr(log, kind).request
            serialized = Inference.serialized_examples(request.input)
            name, _ = servable.signature(request.model_spec.signature_name, missing_code="invalid_argument")
            servable.call(name, {"inputs": serialized})
        else:
            raise errors.unimplemented(f"Unsupported warmup log type {kind!r} in record {index}.")

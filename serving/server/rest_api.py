"""REST front: TF Serving's HTTP API (`/v1/models/...`) on `Inference`.

- `GET /v1/models/M[/versions/V|/labels/L]`: version status.
- `GET /v1/models/M[/versions/V|/labels/L]/metadata`: signature defs.
- `POST /v1/models/M[...]:predict`: `{"instances": rows}` -> `{"predictions"}`,
  or `{"inputs": columns}` -> `{"outputs"}`; bytes as `{"b64": ...}`.
- `POST ...:classify` / `...:regress`: `{"examples": [...], "context"?}` -> `{"results"}`.
- `GET <prometheus path>` when monitoring is enabled.
Errors answer `{"error": message}` with TF Serving's HTTP status for the code.
"""

import base64
import http.server
import json
import logging
import re
import threading
import time
import urllib.parse

import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.example import example_pb2
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    predict_pb2,
    regression_pb2,
)

from . import errors

log = logging.getLogger("serving.server")

_PATH = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)"
    r"(?:/versions/(?P<version>-?\d+)|/labels/(?P<label>[^/:]+))?"
    r"(?:/(?P<sub>metadata)|:(?P<method>predict|classify|regress))?/?$"
)


def _json_value(value, as_bytes):
    if isinstance(value, bytes):
        if not as_bytes:
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return {"b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return [_json_value(v, as_bytes) for v in value]
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode(value):
    if isinstance(value, dict):
        if set(value) == {"b64"}:
            try:
                return base64.b64decode(value["b64"], validate=True)
            except (ValueError, TypeError):
                raise errors.invalid_argument(f"Invalid base64 value {value['b64']!r}") from None
        raise errors.invalid_argument(f"Unexpected JSON object {value!r} where a tensor value was expected")
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, str):
        return value.encode("utf-8")
    return value


def _tensor(name, values, dtype):
    """JSON values -> TensorProto of the signature's dtype."""
    decoded = _decode(values)
    try:
        if dtype == types_pb2.DT_STRING:
            array = np.array(decoded, dtype=object)
            if not all(isinstance(v, bytes) for v in array.reshape(-1)):
                raise ValueError("expected strings")
        else:
            array = np.array(decoded, dtype=tf.dtypes.as_dtype(dtype).as_numpy_dtype)
    except (ValueError, TypeError) as e:
        raise errors.invalid_argument(
            f"Failed to process element of input {name!r} as {types_pb2.DataType.Name(dtype)}: {e}"
        ) from None
    return tf.make_tensor_proto(array)


def _only_input(input_names, values, what):
    """Columns `{name: values}` for a signature with one input.

    Raises:
        ServingError: INVALID_ARGUMENT when the signature has several inputs,
            so `what` must be a JSON object naming them.
    """
    if len(input_names) != 1:
        raise errors.invalid_argument(
            f"The signature has {len(input_names)} inputs {sorted(input_names)}: {what} must be a JSON "
            "object naming them")
    return {input_names[0]: values}


def _example(features, where):
    if not isinstance(features, dict):
        raise errors.invalid_argument(f"{where} must be a JSON object of feature name -> values")
    example = example_pb2.Example()
    for key, value in features.items():
        values = value if isinstance(value, list) else [value]
        values = [_decode(v) for v in values]
        feature = example.features.feature[key]
        if all(isinstance(v, bytes) for v in values):
            feature.bytes_list.value.extend(values)
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            feature.int64_list.value.extend(values)
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            feature.float_list.value.extend(float(v) for v in values)
        else:
            raise errors.invalid_argument(f"Feature {key!r} in {where} mixes value types: {value!r}")
    return example


class RestApi:
    """Translates HTTP/JSON to `Inference` calls; `serve()` runs a threading HTTP server."""

    def __init__(self, inference, metrics=None, prometheus_path=None, max_body_bytes=64 * 1024 * 1024):
        self.inference = inference
        self.metrics = metrics
        self.prometheus_path = prometheus_path
        self.max_body_bytes = max_body_bytes

    def _spec(self, spec, match):
        spec.name = urllib.parse.unquote(match["name"])
        if match["version"] is not None:
            spec.version.value = int(match["version"])
        elif match["label"] is not None:
            spec.version_label = urllib.parse.unquote(match["label"])

    def handle(self, method, path, body):
        """Returns (http status, JSON-able dict or text, content type)."""
        path = urllib.parse.urlsplit(path).path
        if method == "GET" and self.prometheus_path and path == self.prometheus_path and self.metrics:
            return 200, self.metrics.exposition(), "text/plain; version=0.0.4"
        match = _PATH.match(path)
        try:
            if match is None or (method == "GET") == bool(match["method"]) or method not in ("GET", "POST"):
                raise errors.ServingError(errors.grpc.StatusCode.NOT_FOUND if match is None else
                                          errors.grpc.StatusCode.INVALID_ARGUMENT,
                                          f"Malformed request: {method} {path}")
            started = time.monotonic()
            if method == "GET":
                answer = self._metadata(match) if match["sub"] else self._status(match)
            else:
                try:
                    request = json.loads(body.decode("utf-8")) if body else None
                except (UnicodeDecodeError, ValueError) as e:
                    raise errors.invalid_argument(f"JSON Parse error: {e}") from None
                if not isinstance(request, dict):
                    raise errors.invalid_argument("JSON Value: request body must be a JSON object")
                answer = getattr(self, "_" + match["method"])(match, request)
                if self.metrics is not None:
                    self.metrics.record(match["name"], match["method"], "OK", time.monotonic() - started)
            return 200, answer, "application/json"
        except errors.ServingError as e:
            if self.metrics is not None and match is not None and match["method"]:
                self.metrics.record(match["name"], match["method"], e.code.name, 0.0)
            return errors.HTTP_STATUS.get(e.code, 500), {"error": e.message}, "application/json"
        except Exception as e:  # noqa: BLE001 - never let a request kill the server
            log.exception("REST %s %s failed", method, path)
            return 500, {"error": f"{type(e).__name__}: {e}"}, "application/json"

    # GET.

    def _status(self, match):
        request = get_model_status_pb2.GetModelStatusRequest()
        self._spec(request.model_spec, match)
        if request.model_spec.version_label:
            # Status by label: resolve the label like a request would.
            with self.inference.manager.handle(request.model_spec) as servable:
                version = servable.version
            request.model_spec.version.value = version  # replaces the label (oneof)
        response = self.inference.status(request)
        return json_format.MessageToDict(
            response, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)

    def _metadata(self, match):
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._spec(request.model_spec, match)
        response = self.inference.metadata(request)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signature_map)
        return {
            "model_spec": json_format.MessageToDict(
                response.model_spec, preserving_proto_field_name=True,
                always_print_fields_with_no_presence=True),
            "metadata": {"signature_def": json_format.MessageToDict(
                signature_map, preserving_proto_field_name=True)},
        }

    # POST.

    def _predict(self, match, body):
        request = predict_pb2.PredictRequest()
        self._spec(request.model_spec, match)
        request.model_spec.signature_name = body.get("signature_name", "")
        has_instances, has_inputs = "instances" in body, "inputs" in body
        if has_instances == has_inputs:
            raise errors.invalid_argument(
                "JSON Value: request must have exactly one of 'instances' (row format) or "
                "'inputs' (columnar format)")
        # The signature fixes how JSON numbers convert; pin the version we read it from.
        with self.inference.manager.handle(request.model_spec) as servable:
            name, signature_def = servable.signature(request.model_spec.signature_name)
            request.model_spec.ClearField("version_label")
            request.model_spec.version.value = servable.version
        input_names = list(signature_def.inputs)
        if has_instances:
            rows = body["instances"]
            if not isinstance(rows, list) or not rows:
                raise errors.invalid_argument("'instances' must be a non-empty JSON list")
            if all(isinstance(r, dict) and "b64" not in r for r in rows):
                columns = {}
                for row in rows:
                    if set(row) != set(rows[0]):
                        raise errors.invalid_argument(
                            "Failed to process element: every instance must have the same keys")
                    for key, value in row.items():
                        columns.setdefault(key, []).append(value)
            else:
                columns = _only_input(input_names, rows, "each instance")
        else:
            inputs = body["inputs"]
            if isinstance(inputs, dict) and not set(inputs) == {"b64"}:
                columns = inputs
            else:
                columns = _only_input(input_names, inputs, "'inputs'")
        for key, values in columns.items():
            dtype = signature_def.inputs[key].dtype if key in signature_def.inputs else types_pb2.DT_STRING
            request.inputs[key].CopyFrom(_tensor(key, values, dtype))
        response = self.inference.predict(request)
        outputs = {k: tf.make_ndarray(v) for k, v in response.outputs.items()}
        jsonable = {k: _json_value(v, k.endswith("_bytes")) for k, v in outputs.items()}
        if has_inputs:
            return {"outputs": next(iter(jsonable.values())) if len(jsonable) == 1 else jsonable}
        sizes = {np.shape(v)[0] if np.ndim(v) else None for v in outputs.values()}
        if len(sizes) != 1 or None in sizes:
            raise errors.invalid_argument(
                "Tensor(s) in the output do not share a batch size; use the columnar 'inputs' format")
        count = sizes.pop()
        if len(jsonable) == 1:
            return {"predictions": next(iter(jsonable.values()))}
        return {"predictions": [{k: v[i] for k, v in jsonable.items()} for i in range(count)]}

    def _example_request(self, request, match, body):
        """Fills a Classify/Regress request's model spec and tf.Example input from the URL and body."""
        self._spec(request.model_spec, match)
        request.model_spec.signature_name = body.get("signature_name", "")
        model_input = request.input
        examples = body.get("examples")
        if not isinstance(examples, list):
            raise errors.invalid_argument("'examples' must be a JSON list of objects")
        built = [_example(e, "an example") for e in examples]
        if "context" in body:
            model_input.example_list_with_context.context.CopyFrom(_example(body["context"], "'context'"))
            model_input.example_list_with_context.examples.extend(built)
        else:
            model_input.example_list.examples.extend(built)

    def _classify(self, match, body):
        request = classification_pb2.ClassificationRequest()
        self._example_request(request, match, body)
        response = self.inference.classify(request)
        return {"results": [[[c.label, c.score] for c in row.classes]
                            for row in response.result.classifications]}

    def _regress(self, match, body):
        request = regression_pb2.RegressionRequest()
        self._example_request(request, match, body)
        response = self.inference.regress(request)
        return {"results": [r.value for r in response.result.regressions]}

    # HTTP server.

    def serve(self, host, port):
        """Starts a `ThreadingHTTPServer` in a daemon thread; returns (server, bound port)."""
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _respond(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                if length > api.max_body_bytes:
                    status, answer, ctype = 413, {"error": f"Request body of {length} bytes exceeds the "
                                                           f"limit of {api.max_body_bytes}"}, "application/json"
                    self.close_connection = True
                else:
                    body = self.rfile.read(length) if length else b""
                    status, answer, ctype = api.handle(method, self.path, body)
                data = answer.encode("utf-8") if isinstance(answer, str) else json.dumps(answer).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - http.server's naming
                self._respond("GET")

            def do_POST(self):  # noqa: N802
                self._respond("POST")

            def log_message(self, fmt, *args):
                log.debug("REST " + fmt, *args)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        server = Server((host, port), Handler)
        thread = threading.Thread(target=server.serve_forever, name="rest", daemon=True)
        thread.start()
        return server, server.server_address[1]

"""REST front: TF Serving's HTTP API (`/v1/models/...`) on `Inference`.

Follows model_servers/http_rest_api_handler.cc, http_rest_api_util.cc and
http_server.cc (TF Serving 2.21):

- only paths matching `(?i)/v1/.*` reach the API (others: HTTP 404); a path
  or method the API does not know is INVALID_ARGUMENT "Malformed request".
- `GET /v1/models/M[/versions/V|/labels/L]`: version status. Like
  get_model_status_impl.cc, a label is ignored there: all versions answer.
- `GET /v1/models/M[/versions/V|/labels/L]/metadata`: signature defs.
- `POST /v1/models/M[/versions/V|/labels/L]:predict|classify|regress`, with
  the JSON of json_tensor.py.
- `OPTIONS`: CORS preflight; the Prometheus page at its configured path.
Errors answer `{"error": message}` with the HTTP status of the gRPC code.
"""

import concurrent.futures
import http.server
import logging
import re
import threading
import time
import urllib.parse

import grpc
from google.protobuf import json_format
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    predict_pb2,
    regression_pb2,
)

from . import errors, json_tensor

log = logging.getLogger("serving.server")

# http_rest_api_util.h/.cc: RE2 with (?i); RE2's \d is ASCII only.
_API_PATH = re.compile(r"/v1/.*", re.IGNORECASE)
_PREDICTION_PATH = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/([0-9]+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)",
    re.IGNORECASE)
_STATUS_PATH = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/([0-9]+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
    re.IGNORECASE)
_MAX_INT64 = 2**63 - 1
_CORS_HEADERS = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "POST, GET"),
                 ("Access-Control-Allow-Headers", "Content-Type"))
_JSON = "application/json"


class Reply:
    """An HTTP answer: status, body text, headers (name, value) pairs."""

    def __init__(self, status, body="", headers=()):
        self.status = status
        self.body = body
        self.headers = list(headers)


def _decode_arg(value):
    """curl_easy_unescape: %XX decoding, '+' kept."""
    return json_tensor.text(urllib.parse.unquote_to_bytes(value).decode("utf-8", "surrogateescape"))


class RestApi:
    """Translates HTTP/JSON to `Inference` calls; `serve()` runs a threading HTTP server.

    Args:
        inference: `inference.Inference`.
        metrics: `metrics.Metrics` or None.
        prometheus_path: path of the Prometheus page, or None.
        timeout_ms: --rest_api_timeout_in_ms; a request running longer
            answers DEADLINE_EXCEEDED (504). <= 0: no limit.
        num_threads: --rest_api_num_threads, requests computed at once.
        enable_cors: --rest_api_enable_cors_support.
    """

    def __init__(self, inference, metrics=None, prometheus_path=None, *, timeout_ms=30000, num_threads=16,
                 enable_cors=False):
        self.inference = inference
        self.metrics = metrics
        self.prometheus_path = prometheus_path
        self.timeout_ms = timeout_ms
        self.enable_cors = enable_cors
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=num_threads, thread_name_prefix="rest")

    def close(self):
        self._pool.shutdown(wait=False, cancel_futures=True)

    def handle(self, method, target, body=b"", origin=""):
        """Answers one HTTP request (RestApiRequestDispatcher); returns a `Reply`."""
        path = target.split("?", 1)[0]
        if self.prometheus_path and path == self.prometheus_path:
            page = self.metrics.exposition() if self.metrics is not None else ""
            return Reply(200, page, [("Content-Type", "text/plain")])
        if not _API_PATH.fullmatch(path):
            return Reply(404, "<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n<H1>Not Found</H1>\n"
                              "</BODY></HTML>\n", [("Content-Type", "text/html")])
        cors = list(_CORS_HEADERS) if self.enable_cors else []
        if method == "OPTIONS":
            if re.search(r"https?://", origin or ""):
                return Reply(200, "", cors)
            return Reply(errors.HTTP_STATUS[grpc.StatusCode.FAILED_PRECONDITION], "", cors)
        started = time.monotonic()
        model = api = ""
        try:
            model, api, spec = self._route(method, path)
            future = self._pool.submit(getattr(self, "_" + api), spec, body)
            try:
                text = future.result(timeout=self.timeout_ms / 1000 if self.timeout_ms > 0 else None)
            except concurrent.futures.TimeoutError:
                raise errors.ServingError(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"Deadline exceeded: the request ran longer than --rest_api_timeout_in_ms={self.timeout_ms}"
                ) from None
            status, code = 200, "OK"
        except errors.ServingError as e:
            status, code, text = errors.HTTP_STATUS.get(e.code, 500), e.code.name, json_tensor.error_json(e.message)
        except Exception as e:  # noqa: BLE001 - never let a request kill the server
            log.exception("REST %s %s failed", method, path)
            status, code = 500, "INTERNAL"
            text = json_tensor.error_json(f"{type(e).__name__}: {e}")
        if self.metrics is not None and api:
            self.metrics.record(model, api, code, time.monotonic() - started)
        return Reply(status, text, [("Content-Type", _JSON), *cors])

    @staticmethod
    def _route(method, path):
        """ParseModelInfo and the dispatch of ProcessRequest: (model name, API, model spec fields).

        Raises:
            ServingError: INVALID_ARGUMENT "Malformed request: ...", "Failed to
                convert version: ...", "Missing model name in request.".
        """
        malformed = errors.invalid_argument(f"Malformed request: {method} {path}")
        if method == "POST":
            match = _PREDICTION_PATH.fullmatch(path)
        elif method == "GET":
            match = _STATUS_PATH.fullmatch(path)
        else:
            raise malformed
        if match is None:
            raise malformed
        name, version, label, verb = match.groups()
        name = _decode_arg(name) if name else ""
        spec = {"name": name}
        if version is not None:
            if int(version) > _MAX_INT64:
                raise errors.invalid_argument(f"Failed to convert version: {version} to numeric.")
            spec["version"] = int(version)
        if label is not None:
            spec["label"] = _decode_arg(label)
        if method == "POST":
            if verb not in ("predict", "classify", "regress"):  # (?i) matched; the dispatch compares exactly
                raise malformed
            return name, verb, spec
        if not name:
            raise errors.invalid_argument("Missing model name in request.")
        return name, "metadata" if verb == "metadata" else "status", spec

    @staticmethod
    def _fill_spec(model_spec, spec):
        """FillModelSpecWithNameVersionAndLabel."""
        model_spec.name = spec["name"]
        if "version" in spec:
            model_spec.version.value = spec["version"]
        if "label" in spec:
            model_spec.version_label = spec["label"]

    # GET.

    def _status(self, spec, body=b""):
        del body  # a GET's body is ignored
        request = get_model_status_pb2.GetModelStatusRequest()
        self._fill_spec(request.model_spec, spec)
        response = self.inference.status(request)
        return json_format.MessageToJson(response, always_print_fields_with_no_presence=True, indent=1)

    def _metadata(self, spec, body=b""):
        del body
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._fill_spec(request.model_spec, spec)
        response = self.inference.metadata(request)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signature_map)
        options = {"always_print_fields_with_no_presence": True, "preserving_proto_field_name": True,
                   "indent": 1}
        # http_rest_api_util.cc ToJsonString concatenates the two parts exactly so.
        return ('{\n"model_spec":' + json_format.MessageToJson(response.model_spec, **options) + ",\n"
                '"metadata": {"signature_def": ' + json_format.MessageToJson(signature_map, **options) + "}\n}\n")

    # POST.

    def _predict(self, spec, body):
        document = json_tensor.parse_json(body)
        request = predict_pb2.PredictRequest()
        self._fill_spec(request.model_spec, spec)
        request.model_spec.signature_name = json_tensor.signature_name(document)
        signature = request.model_spec.signature_name
        with self.inference.manager.handle(request.model_spec) as servable:  # GetInfoMap
            signature_def = servable.signature_defs.get(signature or "serving_default")
            if signature_def is None:
                raise errors.invalid_argument(
                    f'Serving signature name: "{signature or "serving_default"}" not found in signature def')
        inputs, response_format = json_tensor.predict_inputs(document, signature_def.inputs, signature)
        for key, tensor in inputs.items():
            request.inputs[key].CopyFrom(tensor)
        outputs, _ = self.inference.predict_arrays(request)
        return json_tensor.predict_json(outputs, response_format)

    def _examples_request(self, request, spec, body):
        document = json_tensor.parse_json(body)
        self._fill_spec(request.model_spec, spec)
        request.model_spec.signature_name = json_tensor.signature_name(document)
        json_tensor.fill_examples(document, request.input)
        return request

    def _classify(self, spec, body):
        request = self._examples_request(classification_pb2.ClassificationRequest(), spec, body)
        return json_tensor.classify_json(self.inference.classify(request).result)

    def _regress(self, spec, body):
        request = self._examples_request(regression_pb2.RegressionRequest(), spec, body)
        return json_tensor.regress_json(self.inference.regress(request).result)

    # HTTP server.

    def serve(self, host, port):
        """Starts a `ThreadingHTTPServer` in a daemon thread; returns (server, bound port)."""
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _read_body(self):
                """The request body (Content-Length or chunked), or None when the framing is invalid."""
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while True:
                        size_line = self.rfile.readline(1024).split(b";")[0].strip()
                        try:
                            size = int(size_line, 16)
                        except ValueError:
                            return None
                        if size < 0:
                            return None
                        if size == 0:
                            self.rfile.readline(1024)
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline(1024)
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    return None
                if length < 0:
                    return None
                return self.rfile.read(length) if length else b""

            def _respond(self, method):
                body = self._read_body()
                if body is None:  # what libevent answers to broken framing
                    reply = Reply(400, "", [("Content-Type", "text/html")])
                    self.close_connection = True
                else:
                    reply = api.handle(method, self.path, body, self.headers.get("Origin") or "")
                data = reply.body.encode("utf-8", "surrogateescape")
                self.send_response(reply.status)
                for key, value in reply.headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(data)

            def log_message(self, fmt, *args):
                log.debug("REST " + fmt, *args)

        for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
            setattr(Handler, "do_" + method, lambda handler, m=method: handler._respond(m))

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        server = Server((host, port), Handler)
        thread = threading.Thread(target=server.serve_forever, name="rest", daemon=True)
        thread.start()
        return server, server.server_address[1]

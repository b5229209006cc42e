"""REST client for TF Serving's HTTP API (port 8501), standard library only.

Used directly, or by `AlbertClient(rest_url=...)` as a fallback when gRPC is
unreachable. Requests use the row ("instances") form of `:predict`; string
values go as JSON strings, bytes as `{"b64": ...}` (TF Serving's convention),
and string outputs come back as `bytes`, as over gRPC.
"""

import base64
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from . import errors
from . import results


def _to_json(value):
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, np.ndarray):
        return [_to_json(v) for v in value.tolist()] if value.dtype != object else [
            _to_json(v) for v in value
        ]
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _from_json(value):
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _array(values):
    converted = _from_json(values)
    flat = np.asarray(converted, dtype=object).reshape(-1)
    if flat.size and all(isinstance(v, bytes) for v in flat):
        return np.array(converted, dtype=object)
    array = np.asarray(converted)
    if array.dtype == np.float64:
        # JSON numbers lose the dtype; float32 is what the models emit.
        array = array.astype(np.float32)
    return array


class RestClient:
    """Client for `http://host:8501/v1/models/...` (same results as `AlbertClient`).

    Example:
    >>> rest = RestClient("http://localhost:8501", "albert")   # doctest: +SKIP
    >>> rest.predict(["a gripping film"]).predictions[0].label  # doctest: +SKIP
    """

    def __init__(self, base_url, model_name, *, signature="serving_default", version=None,
                 version_label=None, timeout=10.0, retries=3, backoff=0.05, input_name="text",
                 pair_input_names=("text", "text_pair"), text_feature="text", max_batch_size=64,
                 classify_signature="classify", regress_signature="regress"):
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"base_url must look like http://host:8501, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model_name = model_name
        self.signature = signature
        self.version = version
        self.version_label = version_label
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.input_name = input_name
        self.pair_input_names = tuple(pair_input_names)
        self.text_feature = text_feature
        self.max_batch_size = int(max_batch_size)
        self.classify_signature = classify_signature
        self.regress_signature = regress_signature

    def _model_url(self, version=None):
        url = f"{self.base_url}/v1/models/{urllib.parse.quote(self.model_name)}"
        version = self.version if version is None else version
        if version is not None:
            url += f"/versions/{int(version)}"
        elif self.version_label is not None:
            url += f"/labels/{urllib.parse.quote(self.version_label)}"
        return url

    def _request(self, url, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        delay = self.backoff
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(
                url, data=data, method="GET" if data is None else "POST",
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as e:
                text = e.read().decode("utf-8", "replace")
                try:
                    details = json.loads(text).get("error", text)
                except (ValueError, AttributeError):
                    details = text
                if e.code == 503 and attempt < self.retries:
                    time.sleep(delay * random.uniform(0.5, 1.0))
                    delay *= 2
                    continue
                raise errors.from_http_status(e.code, details, target=url) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                if attempt < self.retries:
                    time.sleep(delay * random.uniform(0.5, 1.0))
                    delay *= 2
                    continue
                reason = getattr(e, "reason", e)
                if isinstance(reason, TimeoutError) or isinstance(e, TimeoutError):
                    raise errors.DeadlineExceededError(str(reason), target=url) from None
                raise errors.ServerUnavailableError(str(reason), target=url) from None
        raise AssertionError("unreachable")

    def _spec(self, signature, version):
        version = self.version if version is None else version
        return results.ModelSpec(self.model_name, version, signature or self.signature)

    def _rows(self, inputs):
        if isinstance(inputs, (str, bytes)):
            inputs = [inputs]
        if isinstance(inputs, dict):
            names = list(inputs)
            columns = [list(np.asarray(inputs[n], dtype=object)) for n in names]
            return [dict(zip(names, row)) for row in zip(*columns)]
        inputs = list(inputs)
        if inputs and all(isinstance(x, (tuple, list)) and len(x) == 2 for x in inputs):
            a, b = self.pair_input_names
            return [{a: x, b: y} for x, y in inputs]
        return [{self.input_name: x} for x in inputs]

    def predict(self, inputs, *, signature=None, output_filter=None, version=None):
        """`POST .../M:predict` with `instances`; returns a `PredictResult`."""
        rows = self._rows(inputs)
        if not rows:
            raise errors.InvalidInputError("predict() got an empty batch: nothing to send.")
        outputs = {}
        for start in range(0, len(rows), self.max_batch_size):
            body = {
                "signature_name": signature or self.signature,
                "instances": _to_json(rows[start:start + self.max_batch_size]),
            }
            answer = self._request(self._model_url(version) + ":predict", body)
            predictions = answer["predictions"]
            if predictions and isinstance(predictions[0], dict):
                for name in predictions[0]:
                    outputs.setdefault(name, []).extend(row[name] for row in predictions)
            else:
                # A single-output signature answers with bare values (no name).
                outputs.setdefault("outputs", []).extend(predictions)
        arrays = {name: _array(values) for name, values in outputs.items()
                  if not output_filter or name in output_filter}
        return results.PredictResult(arrays, self._spec(signature, version))

    def answer(self, questions, contexts, *, signature=None, version=None, null_score_diff_threshold=0.0):
        """`POST .../M:predict` on a span QA export -> `AnswerResult` (see `AlbertClient.answer`)."""
        columns = results.answer_columns(questions, contexts)
        result = self.predict(columns, signature=signature, version=version)
        return results.AnswerResult.from_outputs(result.outputs, result.model_spec, null_score_diff_threshold)

    def _examples_body(self, examples, context, signature, text_feature):
        """The JSON body of a classify/regress call: texts go in feature `text_feature`."""
        feature = text_feature or self.text_feature
        body = {"signature_name": signature,
                "examples": [_to_json({feature: e} if isinstance(e, (str, bytes)) else e) for e in examples]}
        if context is not None:
            body["context"] = _to_json(context)
        return body

    def classify(self, examples, *, context=None, signature=None, version=None, text_feature=None):
        """`POST .../M:classify` -> `ClassifyResult`."""
        signature = signature or self.classify_signature
        body = self._examples_body(examples, context, signature, text_feature)
        answer = self._request(self._model_url(version) + ":classify", body)
        rows = [[(label, float(score)) for label, score in row] for row in answer["results"]]
        return results.ClassifyResult(rows, self._spec(signature, version))

    def regress(self, examples, *, context=None, signature=None, version=None, text_feature=None):
        """`POST .../M:regress` -> `RegressResult`."""
        signature = signature or self.regress_signature
        body = self._examples_body(examples, context, signature, text_feature)
        answer = self._request(self._model_url(version) + ":regress", body)
        return results.RegressResult([float(v) for v in answer["results"]], self._spec(signature, version))

    def status(self, *, version=None):
        """`GET .../M[/versions/V]` -> list of `VersionStatus`."""
        answer = self._request(self._model_url(version))
        return [
            results.VersionStatus(
                version=int(s["version"]),
                state=s["state"],
                error_code=s.get("status", {}).get("error_code", "OK"),
                error_message=s.get("status", {}).get("error_message", ""),
            )
            for s in answer.get("model_version_status", [])
        ]

    def metadata(self, *, version=None):
        """`GET .../M/metadata` -> `ModelMetadata`."""
        answer = self._request(self._model_url(version) + "/metadata")
        spec = answer.get("model_spec", {})
        signature_defs = answer.get("metadata", {}).get("signature_def", {}).get("signature_def", {})

        def info(name, t):
            shape = t.get("tensor_shape", {})
            dims = None if shape.get("unknown_rank") else tuple(
                int(d.get("size", 0)) for d in shape.get("dim", []))
            return results.TensorInfo(name, t.get("dtype", "DT_INVALID"), dims)

        signatures = {
            key: results.SignatureInfo(
                name=key,
                method_name=sig.get("method_name", ""),
                inputs={n: info(n, t) for n, t in sig.get("inputs", {}).items()},
                outputs={n: info(n, t) for n, t in sig.get("outputs", {}).items()},
            )
            for key, sig in signature_defs.items()
        }
        version_value = spec.get("version")
        return results.ModelMetadata(
            results.ModelSpec(spec.get("name", self.model_name),
                              None if version_value is None else int(version_value), ""),
            signatures,
        )

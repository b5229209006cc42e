"""gRPC clients for a TF Serving (or development) server: sync and asyncio.

Both clients speak TF Serving's `PredictionService` and `ModelService` with
the wheel's own protos (see `_protos`: no TensorFlow runtime is imported),
split large inputs into chunks of `max_batch_size`, pin every chunk of one
call to the version that answered the first chunk (so a rollout in the
middle of a call never mixes two models), retry only on UNAVAILABLE with
exponential backoff inside one overall deadline, and raise the typed
exceptions of `errors`.
"""

import asyncio
import random
import time

import grpc
import numpy as np

from . import _protos
from . import errors
from . import results
from . import tensors
from .rest import RestClient

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def _read_bytes(value, what):
    """PEM material given as bytes, str contents, or a file path."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        if value.lstrip().startswith("-----BEGIN"):
            return value.encode("ascii")
        try:
            with open(value, "rb") as f:
                return f.read()
        except OSError as e:
            raise ValueError(f"Cannot read {what} from {value!r}: {e}") from None
    raise TypeError(f"{what} must be bytes, PEM text or a file path; got {type(value).__name__}")


def _example(features):
    """A `tf.Example` from a dict of feature name -> str/bytes/float/int or a list of them."""
    example_pb2 = _protos.load().example_pb2
    example = example_pb2.Example()
    for key, value in features.items():
        values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
        feature = example.features.feature[key]
        if all(isinstance(v, (str, bytes)) for v in values):
            feature.bytes_list.value.extend(v.encode("utf-8") if isinstance(v, str) else v for v in values)
        elif all(isinstance(v, (bool, int, np.integer)) for v in values):
            feature.int64_list.value.extend(int(v) for v in values)
        elif all(isinstance(v, (float, int, np.floating, np.integer)) for v in values):
            feature.float_list.value.extend(float(v) for v in values)
        else:
            raise TypeError(
                f"Feature {key!r} has values {value!r}: expected str/bytes, ints or floats (one kind)."
            )
    return example


def _spec_of(proto_spec, fallback_signature):
    return results.ModelSpec(
        name=proto_spec.name,
        version=proto_spec.version.value if proto_spec.HasField("version") else None,
        signature_name=proto_spec.signature_name or fallback_signature,
    )


def _merge_outputs(chunks):
    if len(chunks) == 1:
        return chunks[0]
    merged = {}
    for name in chunks[0]:
        parts = [chunk[name] for chunk in chunks]
        merged[name] = np.concatenate(parts, axis=0) if np.ndim(parts[0]) else parts[0]
    return merged


class _RequestBuilder:
    """Turns user inputs into TF Serving request messages (shared by both clients)."""

    def __init__(self, model_name, signature, version, version_label, input_name,
                 pair_input_names, text_feature, max_batch_size):
        if not model_name:
            raise ValueError(f"model_name must be a non-empty string, got {model_name!r}")
        if version is not None and version_label is not None:
            raise ValueError(
                f"Give version ({version}) or version_label ({version_label!r}), not both."
            )
        if int(max_batch_size) < 1:
            raise ValueError(f"max_batch_size must be >= 1, got {max_batch_size}")
        self.model_name = model_name
        self.signature = signature
        self.version = version
        self.version_label = version_label
        self.input_name = input_name
        self.pair_input_names = tuple(pair_input_names)
        self.text_feature = text_feature
        self.max_batch_size = int(max_batch_size)
        self.p = _protos.load()

    def fill_spec(self, spec, signature=None, version=None, with_signature=True):
        spec.name = self.model_name
        if with_signature:
            spec.signature_name = self.signature if signature is None else signature
        if version is not None:
            spec.version.value = int(version)
        elif self.version is not None:
            spec.version.value = int(self.version)
        elif self.version_label is not None:
            spec.version_label = self.version_label

    def columns(self, inputs):
        """User inputs -> dict name -> array with a shared first (batch) axis."""
        if isinstance(inputs, (str, bytes)):
            inputs = [inputs]
        if isinstance(inputs, dict):
            columns = {}
            for name, value in inputs.items():
                # Lists follow tf.constant's defaults (int32, float32); arrays keep their dtype.
                columns[name] = value if isinstance(value, np.ndarray) else tensors._as_array(value, None)
        else:
            inputs = list(inputs)
            if inputs and all(isinstance(x, (tuple, list)) and len(x) == 2 for x in inputs):
                first, second = self.pair_input_names
                columns = {
                    first: np.array([a for a, _ in inputs], dtype=object),
                    second: np.array([b for _, b in inputs], dtype=object),
                }
            elif all(isinstance(x, (str, bytes)) for x in inputs):
                columns = {self.input_name: np.array(inputs, dtype=object)}
            else:
                raise TypeError(
                    "predict() takes a list of texts, a list of (text_a, text_b) pairs, or a "
                    f"dict of input name -> array; got {inputs[:3]!r}..."
                )
        sizes = {name: (np.shape(v)[0] if np.ndim(v) else None) for name, v in columns.items()}
        distinct = set(sizes.values())
        if len(distinct) > 1 or None in distinct:
            raise ValueError(
                f"All inputs need the same batch size on their first axis; got {sizes}."
            )
        return columns, (distinct.pop() if distinct else 0)

    def predict_request(self, columns, start, stop, signature, output_filter, version):
        request = self.p.predict_pb2.PredictRequest()
        self.fill_spec(request.model_spec, signature, version)
        for name, value in columns.items():
            request.inputs[name].CopyFrom(tensors.to_tensor_proto(value[start:stop]))
        if output_filter:
            request.output_filter.extend(output_filter)
        return request

    def examples(self, examples):
        built = []
        for item in examples:
            if isinstance(item, (str, bytes)):
                item = {self.text_feature: item}
            if not isinstance(item, dict):
                raise TypeError(
                    f"Examples must be texts or dicts of feature name -> values; got {item!r}"
                )
            built.append(_example(item))
        return built

    def inference_input(self, examples, context):
        model_input = self.p.input_pb2.Input()
        if context is None:
            model_input.example_list.examples.extend(examples)
        else:
            model_input.example_list_with_context.examples.extend(examples)
            model_input.example_list_with_context.context.CopyFrom(_example(context))
        return model_input

    def classify_request(self, examples, context, signature, version):
        request = self.p.classification_pb2.ClassificationRequest()
        self.fill_spec(request.model_spec, signature, version)
        request.input.CopyFrom(self.inference_input(examples, context))
        return request

    def regress_request(self, examples, context, signature, version):
        request = self.p.regression_pb2.RegressionRequest()
        self.fill_spec(request.model_spec, signature, version)
        request.input.CopyFrom(self.inference_input(examples, context))
        return request

    def metadata_request(self, version):
        request = self.p.get_model_metadata_pb2.GetModelMetadataRequest()
        self.fill_spec(request.model_spec, version=version, with_signature=False)
        request.metadata_field.append("signature_def")
        return request

    def status_request(self, version):
        request = self.p.get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = self.model_name
        if version is not None:
            request.model_spec.version.value = int(version)
        return request

    def chunks(self, count):
        return [(i, min(i + self.max_batch_size, count)) for i in range(0, count, self.max_batch_size)]

    # Response parsing.
    def predict_outputs(self, response):
        return {name: tensors.to_ndarray(t) for name, t in response.outputs.items()}

    def classifications(self, response):
        return [
            [(c.label, float(c.score)) for c in row.classes]
            for row in response.result.classifications
        ]

    def regressions(self, response):
        return [float(r.value) for r in response.result.regressions]

    def metadata(self, response):
        signature_map = self.p.get_model_metadata_pb2.SignatureDefMap()
        if "signature_def" in response.metadata:
            response.metadata["signature_def"].Unpack(signature_map)
        types_pb2 = self.p.types_pb2

        def info(name, tensor_info):
            shape = tensor_info.tensor_shape
            dims = None if shape.unknown_rank else tuple(d.size for d in shape.dim)
            return results.TensorInfo(name, types_pb2.DataType.Name(tensor_info.dtype), dims)

        signatures = {
            key: results.SignatureInfo(
                name=key,
                method_name=sig.method_name,
                inputs={n: info(n, t) for n, t in sig.inputs.items()},
                outputs={n: info(n, t) for n, t in sig.outputs.items()},
            )
            for key, sig in signature_map.signature_def.items()
        }
        return results.ModelMetadata(_spec_of(response.model_spec, ""), signatures)

    def statuses(self, response):
        return [
            results.VersionStatus(
                version=int(s.version),
                state=results.VERSION_STATES.get(s.state, str(s.state)),
                error_code=_error_code_name(s.status.error_code),
                error_message=s.status.error_message,
            )
            for s in response.model_version_status
        ]


# StatusProto.error_code uses tensorflow.error.Code, numbered like gRPC's codes.
_CODE_NAMES = {status.value[0]: status.name for status in grpc.StatusCode}


def _error_code_name(code):
    return _CODE_NAMES.get(code, str(code))


class _Base:
    def __init__(self, target, model_name, *, signature="serving_default", version=None,
                 version_label=None, timeout=10.0, retries=3, backoff=0.05, max_backoff=2.0,
                 max_batch_size=64, input_name="text", pair_input_names=("text", "text_pair"),
                 text_feature="text", classify_signature="classify", regress_signature="regress", tls=False, root_certificates=None, private_key=None,
                 certificate_chain=None, server_name_override=None,
                 max_message_bytes=DEFAULT_MAX_MESSAGE_BYTES, rest_url=None, metadata=None):
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout}")
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.target = target
        self.timeout = timeout
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.call_metadata = tuple(metadata or ())
        self._builder = _RequestBuilder(model_name, signature, version, version_label, input_name,
                                        pair_input_names, text_feature, max_batch_size)
        self.classify_signature = classify_signature
        self.regress_signature = regress_signature
        self._options = [
            ("grpc.max_send_message_length", int(max_message_bytes)),
            ("grpc.max_receive_message_length", int(max_message_bytes)),
        ]
        if server_name_override:
            self._options.append(("grpc.ssl_target_name_override", server_name_override))
        self._credentials = None
        if tls or root_certificates or private_key or certificate_chain:
            if bool(private_key) != bool(certificate_chain):
                raise ValueError("A client certificate needs both private_key and certificate_chain.")
            self._credentials = grpc.ssl_channel_credentials(
                root_certificates=_read_bytes(root_certificates, "root_certificates"),
                private_key=_read_bytes(private_key, "private_key"),
                certificate_chain=_read_bytes(certificate_chain, "certificate_chain"),
            )
        self._rest = None
        if rest_url:
            self._rest = RestClient(rest_url, model_name, signature=signature, version=version,
                                    version_label=version_label, timeout=timeout or 10.0,
                                    input_name=input_name, pair_input_names=pair_input_names,
                                    max_batch_size=max_batch_size)

    @property
    def model_name(self):
        return self._builder.model_name

    def _backoff_delays(self):
        delay = self.backoff
        for _ in range(self.retries):
            # Full jitter keeps many clients from retrying in lockstep.
            yield delay * random.uniform(0.5, 1.0)
            delay = min(delay * 2.0, self.max_backoff)

    def _deadline(self):
        return None if self.timeout is None else time.monotonic() + self.timeout

    @staticmethod
    def _remaining(deadline):
        return None if deadline is None else max(deadline - time.monotonic(), 0.001)

    def _describe(self, spec):
        return f"model {spec.name!r}" + (
            f" version {spec.version.value}" if spec.HasField("version") else
            f" label {spec.version_label!r}" if spec.version_label else ""
        ) + (f" signature {spec.signature_name!r}" if spec.signature_name else "")


class AlbertClient(_Base):
    """Synchronous gRPC client for a TF Serving model (e.g. an albert_tf text classifier).

    Args:
        target: "host:port" of the gRPC endpoint (8500 in the TF Serving image).
        model_name: the served model's name.
        signature: signature for `predict` ("serving_default").
        version / version_label: pin a version (default: the latest available).
        timeout: overall deadline per call in seconds, retries included.
        retries: extra attempts when the server is UNAVAILABLE (never on other codes).
        backoff / max_backoff: first and largest wait between attempts (doubling, jittered).
        max_batch_size: inputs longer than this are sent in several requests.
        input_name: the text input of the signature ("text").
        pair_input_names: inputs used for (text_a, text_b) pairs.
        text_feature: tf.Example feature that `classify`/`regress` put a text in.
        classify_signature / regress_signature: signatures of `classify` / `regress`.
        tls / root_certificates / private_key / certificate_chain / server_name_override:
            TLS: PEM bytes, PEM text or file paths; a client certificate enables mTLS.
        max_message_bytes: gRPC send/receive limit.
        rest_url: optional "http://host:8501"; used when gRPC stays UNAVAILABLE.
        metadata: extra gRPC metadata pairs sent with each call (e.g. auth headers).

    Example:
    >>> client = AlbertClient("localhost:8500", "albert")           # doctest: +SKIP
    >>> client.predict(["a gripping film"]).predictions[0].label    # doctest: +SKIP
    'positive'
    >>> squad = AlbertClient("localhost:8500", "squad")             # doctest: +SKIP
    >>> squad.answer("Who wrote it?", "It was written by Zoe Smith.")[0].text  # doctest: +SKIP
    'Zoe Smith'
    """

    def __init__(self, target, model_name, **kwargs):
        super().__init__(target, model_name, **kwargs)
        if self._credentials is not None:
            self._channel = grpc.secure_channel(target, self._credentials, options=self._options)
        else:
            self._channel = grpc.insecure_channel(target, options=self._options)
        p = self._builder.p
        self._prediction = p.prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._models = p.model_service_pb2_grpc.ModelServiceStub(self._channel)

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request, spec):
        deadline = self._deadline()
        delays = self._backoff_delays()
        while True:
            try:
                return method(request, timeout=self._remaining(deadline), metadata=self.call_metadata)
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.UNAVAILABLE:
                    delay = next(delays, None)
                    if delay is not None and (deadline is None or time.monotonic() + delay < deadline):
                        time.sleep(delay)
                        continue
                raise errors.from_rpc_error(e, target=self.target, model_spec=self._describe(spec)) from None

    def _or_rest(self, grpc_fn, rest_fn):
        try:
            return grpc_fn()
        except errors.ServerUnavailableError:
            if self._rest is None:
                raise
            return rest_fn()

    def _chunked(self, ranges, make_request, rpc, parse):
        """Sends the chunks in order, each pinned to the version that answered the one before."""
        parts, pinned, spec = [], None, None
        for start, stop in ranges:
            request = make_request(start, stop, pinned)
            response = self._call(rpc, request, request.model_spec)
            spec = _spec_of(response.model_spec, request.model_spec.signature_name)
            pinned = spec.version if spec.version is not None else pinned
            parts.append(parse(response))
        return parts, spec

    def predict(self, inputs, *, signature=None, output_filter=None, version=None):
        """Runs `Predict` on texts, (text_a, text_b) pairs, or a dict of input arrays.

        Args:
            inputs: list of str `[B]`, list of pairs `[B]`, or dict name -> array `[B, ...]`.
            signature: overrides the client's signature for this call.
            output_filter: names of the outputs to return (default: all).
            version: pins this call to a version.

        Returns:
            `PredictResult`: `.outputs` name -> `[B, ...]` arrays, `.predictions`
            per-row label / probabilities, `.model_spec` the version that answered.
        """
        def over_grpc():
            columns, count = self._builder.columns(inputs)
            if count == 0:
                raise errors.InvalidInputError("predict() got an empty batch: nothing to send.",
                                               target=self.target)
            parts, spec = self._chunked(
                self._builder.chunks(count),
                lambda a, b, pinned: self._builder.predict_request(
                    columns, a, b, signature, output_filter, pinned if pinned is not None else version),
                self._prediction.Predict, self._builder.predict_outputs)
            return results.PredictResult(_merge_outputs(parts), spec)

        return self._or_rest(over_grpc, lambda: self._rest.predict(
            inputs, signature=signature, output_filter=output_filter, version=version))

    def answer(self, questions, contexts, *, signature=None, version=None, null_score_diff_threshold=0.0):
        """Answers questions from their contexts with an albert_tf span QA export.

        The export cuts each context into windows, runs the model and merges
        the windows itself; a call sends raw text and gets one answer per
        question, in `max_batch_size` chunks pinned to one version.

        Args:
            questions: a str, or a list of str `[B]`.
            contexts: the context of each question (same form and length).
            signature: overrides the client's signature for this call.
            version: pins this call to a version.
            null_score_diff_threshold: an answer's `is_answer` is False when
                its `null_score_diff` exceeds this (SQuAD 2.0 models; give
                `float("inf")` for a model trained on answerable questions only).

        Returns:
            `AnswerResult`: one `Answer` (text, start, end, score,
            null_score_diff, is_answer) per question.

        Raises:
            InvalidInputError: lists of different lengths, no question, or an
                empty context (checked before sending).
            SignatureError: the signature has no answer outputs.
        """
        columns = results.answer_columns(questions, contexts)
        result = self.predict(columns, signature=signature, version=version)
        return results.AnswerResult.from_outputs(result.outputs, result.model_spec, null_score_diff_threshold)

    def classify(self, examples, *, context=None, signature=None, version=None):
        """Runs `Classify` on texts (put in feature `text_feature`) or feature dicts.

        The signature defaults to the client's `classify_signature` ("classify",
        what albert_tf exports).

        Returns:
            `ClassifyResult` with, per example, a list of (class label, score).
        """
        signature = signature or self.classify_signature

        def over_grpc():
            built = self._builder.examples(examples)
            parts, spec = self._chunked(
                self._builder.chunks(len(built)) or [(0, 0)],
                lambda a, b, pinned: self._builder.classify_request(
                    built[a:b], context, signature, pinned if pinned is not None else version),
                self._prediction.Classify, self._builder.classifications)
            return results.ClassifyResult([row for part in parts for row in part], spec)

        return self._or_rest(over_grpc, lambda: self._rest.classify(
            examples, context=context, signature=signature, version=version,
            text_feature=self._builder.text_feature))

    def regress(self, examples, *, context=None, signature=None, version=None):
        """Runs `Regress` on texts or feature dicts. Returns `RegressResult` (one float each)."""
        signature = signature or self.regress_signature

        def over_grpc():
            built = self._builder.examples(examples)
            parts, spec = self._chunked(
                self._builder.chunks(len(built)) or [(0, 0)],
                lambda a, b, pinned: self._builder.regress_request(
                    built[a:b], context, signature, pinned if pinned is not None else version),
                self._prediction.Regress, self._builder.regressions)
            return results.RegressResult([v for part in parts for v in part], spec)

        return self._or_rest(over_grpc, lambda: self._rest.regress(
            examples, context=context, signature=signature, version=version,
            text_feature=self._builder.text_feature))

    def metadata(self, *, version=None):
        """`GetModelMetadata` ("signature_def") -> `ModelMetadata`."""
        def over_grpc():
            request = self._builder.metadata_request(version)
            return self._builder.metadata(
                self._call(self._prediction.GetModelMetadata, request, request.model_spec))

        return self._or_rest(over_grpc, lambda: self._rest.metadata(version=version))

    def status(self, *, version=None):
        """`GetModelStatus` -> list of `VersionStatus` (all versions, or one)."""
        def over_grpc():
            request = self._builder.status_request(version)
            return self._builder.statuses(
                self._call(self._models.GetModelStatus, request, request.model_spec))

        return self._or_rest(over_grpc, lambda: self._rest.status(version=version))

    def wait_until_available(self, timeout=60.0, version=None):
        """Polls `status()` until a version (or the given one) is AVAILABLE; returns it."""
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            try:
                for s in self.status(version=version):
                    if s.available:
                        return s
            except (errors.ModelNotFoundError, errors.ServerUnavailableError,
                    errors.DeadlineExceededError) as e:
                last = e
            time.sleep(0.2)
        raise errors.ServerUnavailableError(
            f"model {self.model_name!r} had no AVAILABLE version within {timeout}s (last: {last})",
            target=self.target,
        )


class AsyncAlbertClient(_Base):
    """asyncio twin of `AlbertClient` (grpc.aio); same arguments, awaitable methods.

    Chunks after the first are sent concurrently (at most `max_concurrency` in flight).

    Example:
    >>> async with AsyncAlbertClient("localhost:8500", "albert") as client:  # doctest: +SKIP
    ...     result = await client.predict(["a gripping film"])
    """

    def __init__(self, target, model_name, *, max_concurrency=4, **kwargs):
        super().__init__(target, model_name, **kwargs)
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        self.max_concurrency = int(max_concurrency)
        self._channel = None

    def _stubs(self):
        # grpc.aio channels bind to the running loop: create on first use.
        if self._channel is None:
            if self._credentials is not None:
                self._channel = grpc.aio.secure_channel(self.target, self._credentials, options=self._options)
            else:
                self._channel = grpc.aio.insecure_channel(self.target, options=self._options)
            p = self._builder.p
            self._prediction = p.prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
            self._models = p.model_service_pb2_grpc.ModelServiceStub(self._channel)
        return self._prediction, self._models

    async def close(self):
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def _call(self, method_name, request, spec, service=0):
        method = getattr(self._stubs()[service], method_name)
        deadline = self._deadline()
        delays = self._backoff_delays()
        while True:
            try:
                return await method(request, timeout=self._remaining(deadline), metadata=self.call_metadata)
            except grpc.aio.AioRpcError as e:
                if e.code() == grpc.StatusCode.UNAVAILABLE:
                    delay = next(delays, None)
                    if delay is not None and (deadline is None or time.monotonic() + delay < deadline):
                        await asyncio.sleep(delay)
                        continue
                raise errors.from_rpc_error(e, target=self.target, model_spec=self._describe(spec)) from None

    async def _or_rest(self, grpc_coro, rest_fn):
        try:
            return await grpc_coro
        except errors.ServerUnavailableError:
            if self._rest is None:
                raise
            return await asyncio.to_thread(rest_fn)

    async def _chunked(self, ranges, make_request, method_name, parse):
        """First chunk alone (it fixes the version), the rest concurrently on that version."""
        start, stop = ranges[0]
        request = make_request(start, stop, None)
        response = await self._call(method_name, request, request.model_spec)
        spec = _spec_of(response.model_spec, request.model_spec.signature_name)
        parts = [parse(response)]
        semaphore = asyncio.Semaphore(self.max_concurrency)

        async def one(start, stop):
            async with semaphore:
                req = make_request(start, stop, spec.version)
                return parse(await self._call(method_name, req, req.model_spec))

        parts.extend(await asyncio.gather(*(one(a, b) for a, b in ranges[1:])))
        return parts, spec

    async def predict(self, inputs, *, signature=None, output_filter=None, version=None):
        """See `AlbertClient.predict`."""
        async def over_grpc():
            columns, count = self._builder.columns(inputs)
            if count == 0:
                raise errors.InvalidInputError("predict() got an empty batch: nothing to send.",
                                               target=self.target)
            parts, spec = await self._chunked(
                self._builder.chunks(count),
                lambda a, b, pinned: self._builder.predict_request(
                    columns, a, b, signature, output_filter, pinned if pinned is not None else version),
                "Predict", self._builder.predict_outputs)
            return results.PredictResult(_merge_outputs(parts), spec)

        return await self._or_rest(over_grpc(), lambda: self._rest.predict(
            inputs, signature=signature, output_filter=output_filter, version=version))

    async def answer(self, questions, contexts, *, signature=None, version=None, null_score_diff_threshold=0.0):
        """See `AlbertClient.answer`."""
        columns = results.answer_columns(questions, contexts)
        result = await self.predict(columns, signature=signature, version=version)
        return results.AnswerResult.from_outputs(result.outputs, result.model_spec, null_score_diff_threshold)

    async def classify(self, examples, *, context=None, signature=None, version=None):
        """See `AlbertClient.classify`."""
        signature = signature or self.classify_signature

        async def over_grpc():
            built = self._builder.examples(examples)
            parts, spec = await self._chunked(
                self._builder.chunks(len(built)) or [(0, 0)],
                lambda a, b, pinned: self._builder.classify_request(
                    built[a:b], context, signature, pinned if pinned is not None else version),
                "Classify", self._builder.classifications)
            return results.ClassifyResult([row for part in parts for row in part], spec)

        return await self._or_rest(over_grpc(), lambda: self._rest.classify(
            examples, context=context, signature=signature, version=version,
            text_feature=self._builder.text_feature))

    async def regress(self, examples, *, context=None, signature=None, version=None):
        """See `AlbertClient.regress`."""
        signature = signature or self.regress_signature

        async def over_grpc():
            built = self._builder.examples(examples)
            parts, spec = await self._chunked(
                self._builder.chunks(len(built)) or [(0, 0)],
                lambda a, b, pinned: self._builder.regress_request(
                    built[a:b], context, signature, pinned if pinned is not None else version),
                "Regress", self._builder.regressions)
            return results.RegressResult([v for part in parts for v in part], spec)

        return await self._or_rest(over_grpc(), lambda: self._rest.regress(
            examples, context=context, signature=signature, version=version,
            text_feature=self._builder.text_feature))

    async def metadata(self, *, version=None):
        """See `AlbertClient.metadata`."""
        async def over_grpc():
            request = self._builder.metadata_request(version)
            return self._builder.metadata(await self._call("GetModelMetadata", request, request.model_spec))

        return await self._or_rest(over_grpc(), lambda: self._rest.metadata(version=version))

    async def status(self, *, version=None):
        """See `AlbertClient.status`."""
        async def over_grpc():
            request = self._builder.status_request(version)
            return self._builder.statuses(
                await self._call("GetModelStatus", request, request.model_spec, service=1))

        return await self._or_rest(over_grpc(), lambda: self._rest.status(version=version))

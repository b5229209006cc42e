"""gRPC front: TF Serving's PredictionService and ModelService on `Inference`."""

import logging
import time

import grpc
from tensorflow_serving.apis import (
    model_management_pb2,
    model_service_pb2_grpc,
    prediction_service_pb2_grpc,
)

from . import config as config_lib
from . import errors

log = logging.getLogger("serving.server")


def _serve(inference, metrics, api, request, context, handler):
    started = time.monotonic()
    model = request.model_spec.name if hasattr(request, "model_spec") else ""
    try:
        response = handler(request)
    except errors.ServingError as e:
        if metrics is not None:
            metrics.record(model, api, e.code.name, time.monotonic() - started)
        context.abort(e.code, e.message)
    except Exception as e:  # noqa: BLE001 - never let a request kill the server
        log.exception("%s failed", api)
        if metrics is not None:
            metrics.record(model, api, "INTERNAL", time.monotonic() - started)
        context.abort(grpc.StatusCode.INTERNAL, f"{type(e).__name__}: {e}")
    if metrics is not None:
        metrics.record(model, api, "OK", time.monotonic() - started)
    return response


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, inference, metrics=None):
        self.inference = inference
        self.metrics = metrics

    def Predict(self, request, context):
        return _serve(self.inference, self.metrics, "predict", request, context, self.inference.predict)

    def Classify(self, request, context):
        return _serve(self.inference, self.metrics, "classify", request, context, self.inference.classify)

    def Regress(self, request, context):
        return _serve(self.inference, self.metrics, "regress", request, context, self.inference.regress)

    def MultiInference(self, request, context):
        return _serve(self.inference, self.metrics, "multi_inference", request, context,
                      self.inference.multi_inference)

    def GetModelMetadata(self, request, context):
        return _serve(self.inference, self.metrics, "metadata", request, context, self.inference.metadata)


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, inference):
        self.inference = inference

    def GetModelStatus(self, request, context):
        return _serve(self.inference, None, "status", request, context, self.inference.status)

    def HandleReloadConfigRequest(self, request, context):
        response = model_management_pb2.ReloadConfigResponse()
        try:
            if not request.HasField("config") or request.config.WhichOneof("config") != "model_config_list":
                raise errors.invalid_argument(
                    "ServerModelConfig type not supported by HandleReloadConfigRequest. "
                    "Only ModelConfigList is currently supported")
            try:
                config_lib.validate_model_server_config(request.config, "ReloadConfigRequest")
            except config_lib.ConfigError as e:
                raise errors.invalid_argument(str(e)) from None
            self.inference.manager.reload_config(request.config)
        except errors.ServingError as e:
            response.status.error_code = e.code.value[0]
            response.status.error_message = e.message
            context.set_code(e.code)
            context.set_details(e.message)
        return response


def parse_channel_arguments(text):
    """--grpc_channel_arguments "k=v,k=v" -> [(k, int or str)] (server.cc parseGrpcChannelArgs).

    Example:
    >>> parse_channel_arguments("grpc.max_receive_message_length=1024,grpc.lb_policy_name=x")
    [('grpc.max_receive_message_length', 1024), ('grpc.lb_policy_name', 'x')]

    Raises:
        ValueError: an entry without "=".
    """
    arguments = []
    for item in text.split(",") if text else []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--grpc_channel_arguments entry {item!r} is not key=value")
        try:
            number = int(value)
            arguments.append((key, number if -(2**31) <= number < 2**31 else value))
        except ValueError:
            arguments.append((key, value))
    return arguments


# server.cc: builder.SetMaxMessageSize(INT32_MAX) before the channel arguments.
_DEFAULT_OPTIONS = [("grpc.max_receive_message_length", 2**31 - 1), ("grpc.max_send_message_length", 2**31 - 1)]


def build_server(inference, addresses, *, max_workers=16, channel_arguments=(), metrics=None):
    """A ready-to-start `grpc.Server` listening on `addresses`; returns (server, TCP port or None).

    Args:
        inference: `inference.Inference`.
        addresses: e.g. ["127.0.0.1:8500", "unix:/tmp/tfs.sock"]; a TCP port 0 picks a free one.
        max_workers: --grpc_max_threads.
        channel_arguments: [(key, value)] after TF Serving's defaults (later wins).
        metrics: `metrics.Metrics` or None.

    Raises:
        OSError: an address cannot be bound.
    """
    from concurrent import futures

    options = dict(_DEFAULT_OPTIONS)
    options.update(dict(channel_arguments))
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
        options=list(options.items()),
    )
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(inference, metrics), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(inference), server)
    tcp_port = None
    for address in addresses:
        try:
            port = server.add_insecure_port(address)
        except RuntimeError as e:
            raise OSError(f"Cannot bind the gRPC server to {address}: {e}") from None
        if not port:
            raise OSError(f"Cannot bind the gRPC server to {address}")
        if not address.startswith("unix:"):
            tcp_port = port
    return server, tcp_port

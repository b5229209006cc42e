"""`DevServer`: the manager, gRPC and REST fronts, batching and metrics, wired together."""

import logging

from . import config as config_lib
from .batching import Batcher
from .grpc_api import build_server
from .inference import Inference, warmup
from .manager import ModelManager
from .metrics import Metrics
from .rest_api import RestApi

log = logging.getLogger("serving.server")


class DevServer:
    """A development server speaking TF Serving's gRPC and REST APIs.

    Args:
        model_config: `ModelServerConfig` (see `config.py`).
        host: interface to bind; 127.0.0.1 unless told otherwise.
        grpc_port / rest_port: ports (0 picks a free one; rest_port None = no REST).
        poll_interval_s: file-system poll period for new versions (TF Serving's
            --file_system_poll_wait_seconds).
        batching: `config.BatchingParameters` or None.
        prometheus_path: serve metrics at this REST path, or None.
        max_message_bytes: gRPC receive/send limit; larger requests get RESOURCE_EXHAUSTED.

    Example:
    >>> cfg = config_lib.single_model_config("albert", "/tmp/albert_export")  # doctest: +SKIP
    >>> with DevServer(cfg, grpc_port=8500, rest_port=8501) as server:        # doctest: +SKIP
    ...     server.wait()
    """

    def __init__(self, model_config, *, host="127.0.0.1", grpc_port=8500, rest_port=8501,
                 poll_interval_s=1.0, batching=None, prometheus_path=None,
                 max_message_bytes=64 * 1024 * 1024, grpc_workers=16):
        self.host = host
        self.metrics = Metrics()
        self.manager = ModelManager(model_config, poll_interval_s=poll_interval_s, warmup=warmup)
        self.batcher = Batcher(batching) if batching is not None else None
        self.inference = Inference(self.manager, self.batcher)
        self._grpc_port = grpc_port
        self._rest_port = rest_port
        self._prometheus_path = prometheus_path
        self._max_message_bytes = max_message_bytes
        self._grpc_workers = grpc_workers
        self.grpc_server = None
        self.rest_server = None
        self.grpc_port = None
        self.rest_port = None

    def start(self):
        """Loads the models (blocking), then opens the ports."""
        self.manager.start()
        self.grpc_server, self.grpc_port = build_server(
            self.inference, f"{self.host}:{self._grpc_port}", max_workers=self._grpc_workers,
            max_message_bytes=self._max_message_bytes, metrics=self.metrics)
        self.grpc_server.start()
        if self._rest_port is not None:
            api = RestApi(self.inference, self.metrics, self._prometheus_path,
                          max_body_bytes=self._max_message_bytes)
            self.rest_server, self.rest_port = api.serve(self.host, self._rest_port)
        log.info("Serving gRPC on %s:%s, REST on %s", self.host, self.grpc_port,
                 f"{self.host}:{self.rest_port}" if self.rest_port else "(off)")
        return self

    def wait(self):
        self.grpc_server.wait_for_termination()

    def stop(self, grace=2.0):
        if self.grpc_server is not None:
            self.grpc_server.stop(grace).wait()
        if self.rest_server is not None:
            self.rest_server.shutdown()
            self.rest_server.server_close()
        if self.batcher is not None:
            self.batcher.close()
        self.manager.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def load_config(args):
    """ModelServerConfig from --model_config_file or --model_name/--model_base_path."""
    if args.model_config_file:
        if args.model_base_path:
            raise config_lib.ConfigError("Give --model_config_file or --model_base_path, not both.")
        return config_lib.read_model_server_config(args.model_config_file)
    if not args.model_base_path:
        raise config_lib.ConfigError("Give --model_base_path (with --model_name) or --model_config_file.")
    return config_lib.single_model_config(args.model_name, args.model_base_path)

"""`DevServer`: the manager, gRPC and REST fronts, batching and metrics, wired together."""

import logging
import threading

from . import config as config_lib
from .batching import Batcher
from .errors import ServingError
from .grpc_api import build_server
from .inference import Inference
from .inference import warmup as replay_warmup
from .manager import ModelManager
from .metrics import Metrics
from .rest_api import RestApi

log = logging.getLogger("serving.server")


class DevServer:
    """A development server speaking TF Serving's gRPC and REST APIs.

    Args:
        model_config: `ModelServerConfig` (see `config.py`).
        host: interface to bind; 127.0.0.1 unless told otherwise.
        grpc_port: --port; 0 = no TCP gRPC port (then `grpc_socket_path` is
            required, as server.cc requires). `None` picks a free port (tests).
        grpc_socket_path: --grpc_socket_path, a UNIX socket for gRPC, or "".
        rest_port: --rest_api_port; 0 = no REST API; `None` picks a free port.
        poll_interval_s: --file_system_poll_wait_seconds.
        batching: `config.BatchingParameters` or None.
        prometheus_path: serve metrics at this REST path, or None.
        channel_arguments: [(key, value)] gRPC server options
            (--grpc_channel_arguments), over TF Serving's 2 GiB message limits.
        grpc_workers: --grpc_max_threads.
        rest_timeout_ms / rest_threads / rest_cors: --rest_api_timeout_in_ms,
            --rest_api_num_threads, --rest_api_enable_cors_support.
        model_config_file / config_poll_s: re-read this file every
            `config_poll_s` seconds and reload it (--model_config_file_poll_wait_seconds; 0 = never).
        allow_unavailable_labels: --allow_version_labels_for_unavailable_models.
        tensor_content: --enable_serialization_as_tensor_content.
        enable_warmup: replay assets.extra warmup records before serving (--enable_model_warmup).

    Example:
    >>> cfg = config_lib.single_model_config("albert", "/tmp/albert_export")  # doctest: +SKIP
    >>> with DevServer(cfg, grpc_port=8500, rest_port=8501) as server:        # doctest: +SKIP
    ...     server.wait()
    """

    def __init__(self, model_config, *, host="127.0.0.1", grpc_port=8500, grpc_socket_path="", rest_port=0,
                 poll_interval_s=1.0, batching=None, prometheus_path=None, channel_arguments=(),
                 grpc_workers=16, rest_timeout_ms=30000, rest_threads=16, rest_cors=False,
                 model_config_file=None, config_poll_s=0, allow_unavailable_labels=False,
                 tensor_content=False, enable_warmup=True):
        if grpc_port == 0 and not grpc_socket_path:
            # server.cc BuildAndStart.
            raise config_lib.ConfigError(
                "At least one of server_options.grpc_port or server_options.grpc_socket_path must be set.")
        self.host = host
        self.metrics = Metrics()
        self.manager = ModelManager(model_config, poll_interval_s=poll_interval_s,
                                    warmup=replay_warmup if enable_warmup else None,
                                    allow_unavailable_labels=allow_unavailable_labels)
        self.batcher = Batcher(batching) if batching is not None else None
        self.inference = Inference(self.manager, self.batcher, tensor_content=tensor_content)
        self._grpc_port = grpc_port
        self._grpc_socket_path = grpc_socket_path
        self._rest_port = rest_port
        self._prometheus_path = prometheus_path
        self._channel_arguments = list(channel_arguments)
        self._grpc_workers = grpc_workers
        self._rest_options = {"timeout_ms": rest_timeout_ms, "num_threads": rest_threads, "enable_cors": rest_cors}
        self._model_config_file = model_config_file
        self._config_poll_s = config_poll_s
        self._stop = threading.Event()
        self.grpc_server = None
        self.rest_server = None
        self.rest_api = None
        self.grpc_port = None
        self.rest_port = None

    def start(self):
        """Loads the models (blocking), then opens the ports."""
        self.manager.start()
        addresses = []
        if self._grpc_port != 0:
            addresses.append(f"{self.host}:{self._grpc_port or 0}")
        if self._grpc_socket_path:
            addresses.append("unix:" + self._grpc_socket_path)
        self.grpc_server, self.grpc_port = build_server(
            self.inference, addresses, max_workers=self._grpc_workers,
            channel_arguments=self._channel_arguments, metrics=self.metrics)
        self.grpc_server.start()
        if self._rest_port != 0:
            if self._rest_port is not None and self._rest_port == self._grpc_port:
                # server.cc logs this and skips the REST API; a silent skip would hide it.
                raise config_lib.ConfigError(
                    "server_options.http_port cannot be same as grpc_port. Please use a different port for "
                    "HTTP/REST API.")
            self.rest_api = RestApi(self.inference, self.metrics, self._prometheus_path, **self._rest_options)
            self.rest_server, self.rest_port = self.rest_api.serve(self.host, self._rest_port or 0)
        if self._model_config_file and self._config_poll_s > 0:
            threading.Thread(target=self._poll_config, name="config-poller", daemon=True).start()
        log.info("Serving gRPC on %s, REST on %s", addresses,
                 f"{self.host}:{self.rest_port}" if self.rest_port else "(off)")
        return self

    def _poll_config(self):
        """Server::PollFilesystemAndReloadConfig: a bad file or reload is logged, serving goes on."""
        while not self._stop.wait(self._config_poll_s):
            try:
                self.manager.reload_config(config_lib.read_model_server_config(self._model_config_file))
            except (config_lib.ConfigError, OSError, ServingError) as e:
                log.error("PollFilesystemAndReloadConfig failed to ReloadConfig: %s", e)

    def wait(self):
        self.grpc_server.wait_for_termination()

    def stop(self, grace=2.0):
        self._stop.set()
        if self.grpc_server is not None:
            self.grpc_server.stop(grace).wait()
        if self.rest_server is not None:
            self.rest_server.shutdown()
            self.rest_server.server_close()
            self.rest_api.close()
        if self.batcher is not None:
            self.batcher.close()
        self.manager.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def load_config(model_config_file, model_name, model_base_path):
    """ModelServerConfig as server.cc builds it: the file wins; --model_name/--model_base_path are then ignored.

    Raises:
        ConfigError: neither given, or an invalid file.
    """
    if model_config_file:
        return config_lib.read_model_server_config(model_config_file)
    if not model_base_path:
        raise config_lib.ConfigError(
            "Both server_options.model_base_path and server_options.model_config_file are empty!")
    return config_lib.single_model_config(model_name, model_base_path)

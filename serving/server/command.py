"""`albert-tf serve`: run the development server with tensorflow_model_server's flags.

    albert-tf serve --model_name=albert --model_base_path=/models/albert --rest_api_port=8501
    albert-tf serve --model_config_file=serving/docker/models.config --enable_batching=true

Flags follow TF Serving 2.21's model_servers/main.cc and server.h: the same
names, defaults and meanings (`--port=8500`, `--rest_api_port=0` = no REST
API, `--port=0` = no TCP gRPC port, a config file wins over
`--model_base_path`), and tensorflow::Flags syntax: `--name=value` only,
booleans as `--name`, `--name=true|false|1|0`. A TF Serving flag the
development server cannot honour, an unknown flag, or a malformed value
stops it with a message saying which (TF Serving itself would only print
"unknown argument" and go on). Two flags are the development server's own:
`--host` (interface to bind; 127.0.0.1 by default, where TF Serving binds
every interface) and `--verbose`.

Once the models are loaded and the ports open it prints one line
`READY grpc=PORT rest=PORT` on stdout (-1 for a port that is off).
"""

import logging
import os
import signal
import socket
import sys
import threading

from . import config as config_lib

_CPUS = os.cpu_count() or 1

# name -> (type, default, help); defaults as server.h / main.cc.
FLAGS = {
    "port": (int, 8500, "TCP port for the gRPC API; 0 disables it (then --grpc_socket_path is required)"),
    "grpc_socket_path": (str, "", "UNIX socket for the gRPC API"),
    "rest_api_port": (int, 0, "port of the HTTP/REST API; 0 disables it; must differ from --port"),
    "rest_api_num_threads": (int, 4 * _CPUS, "threads computing HTTP/REST requests"),
    "rest_api_timeout_in_ms": (int, 30000, "HTTP/REST request deadline (DEADLINE_EXCEEDED, HTTP 504)"),
    "rest_api_enable_cors_support": (bool, False, "CORS headers in REST responses"),
    "enable_batching": (bool, False, "batch Predict requests (--batching_parameters_file)"),
    "allow_version_labels_for_unavailable_models": (
        bool, False, "a new version label may name a version that is not loaded yet"),
    "batching_parameters_file": (str, "", "BatchingParameters text proto (needs --enable_batching)"),
    "model_config_file": (str, "", "ModelServerConfig text proto; --model_name/--model_base_path are then ignored"),
    "model_config_file_poll_wait_seconds": (int, 0, "seconds between re-reads of --model_config_file (0 = once)"),
    "model_name": (str, "default", "model name (without --model_config_file)"),
    "model_base_path": (str, "", "directory of integer version subdirectories"),
    "file_system_poll_wait_seconds": (int, 1, "seconds between polls for new versions (0 = once)"),
    "monitoring_config_file": (str, "", "MonitoringConfig text proto (Prometheus page on the REST port)"),
    "grpc_channel_arguments": (str, "", "gRPC server arguments key=value,... e.g. "
                                        "grpc.max_receive_message_length=1048576"),
    "grpc_max_threads": (int, 4 * _CPUS, "threads serving gRPC requests"),
    "enable_model_warmup": (bool, True, "replay assets.extra/tf_serving_warmup_requests before serving"),
    "enable_serialization_as_tensor_content": (
        bool, False, "Predict outputs in tensor_content instead of the typed value fields"),
    "version": (bool, False, "print the version and exit"),
    "host": (str, "127.0.0.1", "(development server only) interface to bind"),
    "verbose": (bool, False, "(development server only) debug logging"),
}

# main.cc flags the development server does not implement: asked for, they stop it.
UNSUPPORTED = (
    "enable_per_model_batching_parameters", "num_load_threads", "num_unload_threads", "max_num_load_retries",
    "load_retry_interval_micros", "flush_filesystem_caches", "tensorflow_session_parallelism",
    "tensorflow_session_config_file", "tensorflow_intra_op_parallelism", "tensorflow_inter_op_parallelism",
    "use_alts_credentials", "ssl_config_file", "platform_config_file", "per_process_gpu_memory_fraction",
    "saved_model_tags", "num_request_iterations_for_warmup", "remove_unused_fields_from_bundle_metagraph",
    "prefer_tflite_model", "num_tflite_pools", "num_tflite_interpreters_per_pool",
    "enable_signature_method_name_check", "xla_cpu_compilation_enabled", "xla_gpu_compilation_enabled",
    "enable_profiler", "thread_pool_factory_config_file", "mixed_precision", "skip_initialize_tpu",
    "enable_grpc_healthcheck_service",
)
VERSION = "albert-tf development server (TF Serving 2.21 APIs)"


class FlagError(ValueError):
    """A command-line flag is unknown, unsupported or malformed."""


def _int32(name, value):
    try:
        number = int(value, 10)
    except ValueError:
        number = None
    if number is None or not -(2**31) <= number < 2**31:
        raise FlagError(f"Couldn't interpret value {value} for flag {name}.")
    return number


def parse_flags(argv):
    """tensorflow::Flags::Parse over `FLAGS`; returns name -> value for every flag.

    Example:
    >>> flags = parse_flags(["--model_base_path=/m", "--enable_batching=true", "--rest_api_port=8501"])
    >>> flags["enable_batching"], flags["rest_api_port"], flags["port"]
    (True, 8501, 8500)

    Raises:
        FlagError: an unknown or unsupported flag, `--name value` instead of
            `--name=value`, or a value of the wrong type.
    """
    values = {name: default for name, (_, default, _) in FLAGS.items()}
    for arg in argv:
        if not arg.startswith("--"):
            raise FlagError(f"unknown argument: {arg} (flags are written --name=value)")
        name, has_value, value = arg[2:].partition("=")
        if name in UNSUPPORTED:
            raise FlagError(f"--{name} is a tensorflow_model_server flag the development server does not "
                            "implement; run tensorflow_model_server (serving/docker) for it.")
        if name not in FLAGS:
            raise FlagError(f"unknown argument: {arg}")
        kind = FLAGS[name][0]
        if kind is bool:
            if not has_value or value.lower() == "true" or value == "1":
                values[name] = True
            elif value.lower() == "false" or value == "0":
                values[name] = False
            else:
                raise FlagError(f"Couldn't interpret value {value} for flag {name}.")
        elif not has_value:
            raise FlagError(f"--{name} needs a value: write --{name}=VALUE (a separate argument is not read).")
        elif kind is int:
            values[name] = _int32(name, value)
        else:
            values[name] = value
    return values


def _usage():
    lines = ["usage: albert-tf serve [--flag=value ...]", "Flags:"]
    for name, (kind, default, help_text) in FLAGS.items():
        lines.append(f"  --{name}={str(default).lower() if kind is bool else default}\t{kind.__name__}\t{help_text}")
    return "\n".join(lines)


def build_server(flags):
    """A `DevServer` configured by parsed flags (imports TensorFlow).

    Raises:
        ConfigError / FlagError / OSError: an invalid combination, file or value.
    """
    from .app import DevServer, load_config
    from .grpc_api import parse_channel_arguments

    if flags["file_system_poll_wait_seconds"] < 0 or flags["model_config_file_poll_wait_seconds"] < 0:
        raise FlagError("Negative poll intervals are reserved for TF Serving's own tests.")
    if flags["rest_api_port"] < 0 or flags["port"] < 0:
        raise FlagError("Ports must be >= 0 (0 disables the port).")
    for name in ("grpc_max_threads", "rest_api_num_threads"):
        if flags[name] < 1:
            raise FlagError(f"--{name} must be >= 1, got {flags[name]}.")
    model_config = load_config(flags["model_config_file"], flags["model_name"], flags["model_base_path"])
    batching = None
    if flags["enable_batching"]:
        batching = config_lib.BatchingParameters()
        if flags["batching_parameters_file"]:
            with open(flags["batching_parameters_file"], encoding="utf-8") as f:
                batching = config_lib.parse_batching_parameters(f.read(), flags["batching_parameters_file"])
    elif flags["batching_parameters_file"]:
        raise config_lib.ConfigError(
            "server_options.batching_parameters_file is set without setting server_options.enable_batching "
            "to true.")
    prometheus_path = None
    if flags["monitoring_config_file"]:
        with open(flags["monitoring_config_file"], encoding="utf-8") as f:
            prometheus_path = config_lib.parse_monitoring_config(f.read(), flags["monitoring_config_file"])
    try:
        channel_arguments = parse_channel_arguments(flags["grpc_channel_arguments"])
    except ValueError as e:
        raise FlagError(str(e)) from None
    return DevServer(
        model_config, host=flags["host"], grpc_port=flags["port"], grpc_socket_path=flags["grpc_socket_path"],
        rest_port=flags["rest_api_port"], poll_interval_s=flags["file_system_poll_wait_seconds"],
        batching=batching, prometheus_path=prometheus_path, channel_arguments=channel_arguments,
        grpc_workers=flags["grpc_max_threads"], rest_timeout_ms=flags["rest_api_timeout_in_ms"],
        rest_threads=flags["rest_api_num_threads"], rest_cors=flags["rest_api_enable_cors_support"],
        model_config_file=flags["model_config_file"] or None,
        config_poll_s=flags["model_config_file_poll_wait_seconds"],
        allow_unavailable_labels=flags["allow_version_labels_for_unavailable_models"],
        tensor_content=flags["enable_serialization_as_tensor_content"],
        enable_warmup=flags["enable_model_warmup"])


def free_port(host="127.0.0.1"):
    """A TCP port free right now on `host`, for scripts that start a server (0 disables a port here).

    Example:
    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def add_arguments(parser):
    """`albert-tf serve`: every argument goes to `parse_flags` (TF Serving's syntax, not argparse's)."""
    parser.prefix_chars = "\0"  # argparse must not read "--name=value" as its own options
    parser.add_argument("flags", nargs="*", help="tensorflow_model_server flags, --name=value")
    return parser


def run(args):
    return main(args.flags)


def main(argv=None):
    """Parses the flags, serves until SIGINT/SIGTERM; returns the exit status (2: bad flags or config)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a in ("-h", "--help", "-help") for a in argv):
        print(_usage())
        return 0
    try:
        flags = parse_flags(argv)
    except FlagError as e:
        print(f"albert-tf serve: {e}\n{_usage()}", file=sys.stderr)
        return 2
    if flags["version"]:
        print(VERSION)
        return 0
    logging.basicConfig(level=logging.DEBUG if flags["verbose"] else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from .errors import ServingError

    try:
        server = build_server(flags)
        server.start()
    except (config_lib.ConfigError, FlagError, OSError, ServingError) as e:
        print(f"albert-tf serve: Failed to start server. Error: {e}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"READY grpc={server.grpc_port or -1} rest={server.rest_port or -1}", flush=True)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

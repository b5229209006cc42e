"""`albert-tf serve`: run the development server (TF Serving's flags, where they exist).

    albert-tf serve --model_name=albert --model_base_path=/models/albert
    albert-tf serve --model_config_file=serving/docker/models.config --rest_api_port=8501

Binds 127.0.0.1 unless --host says otherwise. Prints one line
`READY grpc=PORT rest=PORT` on stdout once the models are loaded and the ports
are open (tests and scripts wait for it; useful with port 0).
"""

import argparse
import logging
import signal
import sys
import threading

from . import config as config_lib


def add_arguments(parser):
    parser.add_argument("--port", type=int, default=8500, help="gRPC port (0 = any free port)")
    parser.add_argument("--rest_api_port", type=int, default=8501, help="REST port (0 = any free; -1 = off)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default %(default)s)")
    parser.add_argument("--model_name", default="default")
    parser.add_argument("--model_base_path", help="directory of integer version subdirectories")
    parser.add_argument("--model_config_file", help="ModelServerConfig text proto (models.config)")
    parser.add_argument("--file_system_poll_wait_seconds", type=float, default=1.0,
                        help="seconds between polls for new versions (0 = load once)")
    parser.add_argument("--enable_batching", action="store_true")
    parser.add_argument("--batching_parameters_file", help="BatchingParameters text proto")
    parser.add_argument("--monitoring_config_file", help="MonitoringConfig text proto (Prometheus)")
    parser.add_argument("--max_message_bytes", type=int, default=64 * 1024 * 1024,
                        help="gRPC message size limit (larger requests: RESOURCE_EXHAUSTED)")
    parser.add_argument("--grpc_workers", type=int, default=16)
    parser.add_argument("--verbose", action="store_true")
    return parser


def run(args):
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from .app import DevServer, load_config  # imports TensorFlow

    try:
        model_config = load_config(args)
        batching = None
        if args.enable_batching:
            batching = config_lib.BatchingParameters()
            if args.batching_parameters_file:
                with open(args.batching_parameters_file, encoding="utf-8") as f:
                    batching = config_lib.parse_batching_parameters(f.read(), args.batching_parameters_file)
        prometheus_path = None
        if args.monitoring_config_file:
            with open(args.monitoring_config_file, encoding="utf-8") as f:
                prometheus_path = config_lib.parse_monitoring_config(f.read(), args.monitoring_config_file)
    except (config_lib.ConfigError, OSError) as e:
        print(f"albert-tf serve: {e}", file=sys.stderr)
        return 2
    server = DevServer(
        model_config, host=args.host, grpc_port=args.port,
        rest_port=None if args.rest_api_port < 0 else args.rest_api_port,
        poll_interval_s=args.file_system_poll_wait_seconds, batching=batching,
        prometheus_path=prometheus_path, max_message_bytes=args.max_message_bytes,
        grpc_workers=args.grpc_workers)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    print(f"READY grpc={server.grpc_port} rest={server.rest_port or -1}", flush=True)
    stop.wait()
    server.stop()
    return 0


def main(argv=None):
    parser = add_arguments(argparse.ArgumentParser(prog="albert-tf serve", description=__doc__.splitlines()[0]))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

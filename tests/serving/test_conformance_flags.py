"""`albert-tf serve` takes tensorflow_model_server's flags with their syntax and meaning.

Sources: tensorflow/serving (9d981c5) tensorflow_serving/model_servers/main.cc
(flag names and help), server.h (defaults), server.cc BuildAndStart (checks
and port semantics); TensorFlow's util/command_line_flags.cc (syntax).
"""

import json
import os
import re

import grpc
import pytest
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

from serving.server import command, config as config_lib
from tests.helpers.serving import REPO, http_call


def test_defaults_are_tf_servings():
    flags = command.parse_flags([])
    # server.h Options: grpc_port 8500, http_port 0 (REST off), http_timeout_in_ms 30000,
    # file_system_poll_wait_seconds 1, fs_model_config_poll_wait_seconds 0, enable_model_warmup true;
    # main.cc: model_name "default".
    assert (flags["port"], flags["rest_api_port"], flags["rest_api_timeout_in_ms"]) == (8500, 0, 30000)
    assert (flags["file_system_poll_wait_seconds"], flags["model_config_file_poll_wait_seconds"]) == (1, 0)
    assert flags["enable_model_warmup"] is True and flags["model_name"] == "default"
    assert flags["enable_batching"] is False and flags["allow_version_labels_for_unavailable_models"] is False


@pytest.mark.parametrize("arg,value", [
    ("--enable_batching", True), ("--enable_batching=true", True), ("--enable_batching=TRUE", True),
    ("--enable_batching=1", True), ("--enable_batching=false", False), ("--enable_batching=0", False),
])
def test_boolean_syntax(arg, value):
    # command_line_flags.cc ParseBoolFlag: bare, true/false (any case), 1/0.
    assert command.parse_flags([arg])["enable_batching"] is value


@pytest.mark.parametrize("argv,message", [
    (["--enable_batching=yes"], "Couldn't interpret value yes for flag enable_batching."),
    (["--port=eighty"], "Couldn't interpret value eighty for flag port."),
    (["--port=99999999999"], "Couldn't interpret value 99999999999 for flag port."),
    (["--file_system_poll_wait_seconds=0.5"], "Couldn't interpret value 0.5 for flag file_system_poll_wait_seconds."),
    # tensorflow::Flags reads --name=value only; "--port 8500" leaves "--port" unparsed.
    (["--port", "8500"], "--port needs a value: write --port=VALUE"),
    (["8500"], "unknown argument: 8500"),
    (["--no_such_flag=1"], "unknown argument: --no_such_flag=1"),
    # A real TF Serving flag the development server cannot honour stops it (never ignored silently).
    (["--ssl_config_file=/x"], "--ssl_config_file is a tensorflow_model_server flag the development server "
                               "does not implement"),
])
def test_bad_flags_fail_clearly(argv, message):
    with pytest.raises(command.FlagError) as info:
        command.parse_flags(argv)
    assert message in str(info.value)


def _dockerfile_flags():
    text = open(os.path.join(REPO, "serving", "docker", "Dockerfile"), encoding="utf-8").read()
    cmd = json.loads(re.search(r"CMD (\[.*?\])", text, re.S).group(1).replace("\\\n", ""))
    # The image's entrypoint adds these before CMD (tensorflow/serving's tf_serving_entrypoint.sh).
    return ["--port=8500", "--rest_api_port=8501", "--model_name=albert", "--model_base_path=/models/albert", *cmd]


def test_every_flag_the_shipped_image_passes_is_honoured():
    flags = command.parse_flags(_dockerfile_flags())
    assert flags["enable_batching"] is True and flags["model_config_file_poll_wait_seconds"] == 60
    # Point the /config files at the repository's copies; the server must build from them.
    for name in ("model_config_file", "batching_parameters_file", "monitoring_config_file"):
        flags[name] = os.path.join(REPO, "serving", "docker", os.path.basename(flags[name]))
    server = command.build_server(flags)
    # server.cc: with a config file, --model_name/--model_base_path are ignored.
    shipped = config_lib.read_model_server_config(flags["model_config_file"])
    assert server.manager.model_names() == [c.name for c in shipped.model_config_list.config]
    assert server.batcher is not None and server._prometheus_path == "/monitoring/prometheus/metrics"
    server.batcher.close()


@pytest.mark.parametrize("argv,message", [
    # server.cc BuildAndStart.
    (["--model_base_path=/m", "--port=0"],
     "At least one of server_options.grpc_port or server_options.grpc_socket_path must be set."),
    ([], "Both server_options.model_base_path and server_options.model_config_file are empty!"),
    (["--model_base_path=/m", "--batching_parameters_file=/b"],
     "server_options.batching_parameters_file is set without setting server_options.enable_batching to true."),
])
def test_server_cc_checks(argv, message):
    with pytest.raises(config_lib.ConfigError, match=re.escape(message)):
        command.build_server(command.parse_flags(argv))


def test_port_zero_disables_and_unix_socket_serves(text_model_base, tmp_path):
    from tests.helpers.serving import free_port

    socket_path = str(tmp_path / "tfs.sock")
    flags = command.parse_flags([f"--model_base_path={text_model_base}", "--model_name=albert", "--port=0",
                                 f"--grpc_socket_path={socket_path}", "--file_system_poll_wait_seconds=0",
                                 "--enable_model_warmup=false"])
    server = command.build_server(flags).start()
    try:
        # main.cc: --port 0 disables the TCP port; --rest_api_port 0 (the default) disables REST.
        assert server.grpc_port is None and server.rest_server is None
        # tensorflow_model_server_test.py testPredictUDS: gRPC over the UNIX socket.
        with grpc.insecure_channel("unix:" + socket_path) as channel:
            status = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(
                get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "albert"}), timeout=30)
        assert status.model_version_status[0].state == 30
    finally:
        server.stop()
    port = free_port()
    with pytest.raises(config_lib.ConfigError, match="http_port cannot be same as grpc_port"):
        command.build_server(command.parse_flags([
            f"--model_base_path={text_model_base}", f"--port={port}", f"--rest_api_port={port}",
            "--file_system_poll_wait_seconds=0", "--enable_model_warmup=false"])).start()


def test_rest_timeout_and_cors(text_model_base):
    from tests.helpers.serving import free_port

    flags = command.parse_flags([
        f"--model_base_path={text_model_base}", "--model_name=albert", f"--port={free_port()}",
        f"--rest_api_port={free_port()}", "--rest_api_timeout_in_ms=1", "--rest_api_enable_cors_support=true",
        "--file_system_poll_wait_seconds=0", "--enable_model_warmup=false"])
    server = command.build_server(flags).start()
    try:
        url = f"http://127.0.0.1:{server.rest_port}"
        big = json.dumps({"instances": ["a long review " * 200] * 64})
        status, _, headers = http_call(url, "POST", "/v1/models/albert:predict", big)
        # http_rest_api_handler.cc: the timeout becomes RunOptions' deadline -> DEADLINE_EXCEEDED -> 504.
        assert status == 504
        # http_util AddCORSHeaders with --rest_api_enable_cors_support.
        assert headers["Access-Control-Allow-Origin"] == "*"
    finally:
        server.stop()


def test_a_bad_model_config_file_fails_with_tf_servings_message(tmp_path):
    # tensorflow_model_server_test.py testBadModelConfig: stderr names the proto that failed to parse.
    bad = tmp_path / "bad.config"
    bad.write_text("model_config_list { config { nme: 'a' } }")
    with pytest.raises(config_lib.ConfigError, match="Error parsing text-format tensorflow.serving.ModelServerConfig"):
        command.build_server(command.parse_flags([f"--model_config_file={bad}"]))

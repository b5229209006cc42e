"""Fixtures shared by the serving tests (helpers live in tests/helpers/serving.py)."""

import grpc
import pytest
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from tests.helpers.serving import SERVER_KINDS, ServerProcess, write_text_model


@pytest.fixture(scope="session")
def text_model_base(tmp_path_factory):
    """A base path holding version 1 of the tiny text model (bias 0)."""
    base = str(tmp_path_factory.mktemp("models") / "albert")
    write_text_model(base, 1, bias=0.0)
    return base


@pytest.fixture(scope="module", params=SERVER_KINDS)
def server(request, text_model_base):
    """A server (development, or TF Serving where present) of `text_model_base` as "albert".

    A test module that needs other flags defines its own `server`.
    """
    process = ServerProcess(request.param, ["--model_name=albert", f"--model_base_path={text_model_base}"],
                            "albert", base_path=text_model_base)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def stubs(server):
    """(PredictionService, ModelService) gRPC stubs on the module's `server`."""
    channel = grpc.insecure_channel(server.grpc_target, options=[
        ("grpc.max_send_message_length", 64 * 1024 * 1024)])
    yield (prediction_service_pb2_grpc.PredictionServiceStub(channel),
           model_service_pb2_grpc.ModelServiceStub(channel))
    channel.close()

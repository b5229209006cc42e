"""Status errors of the development server, with TF Serving's codes and wording.

The codes follow tensorflow/serving's own sources (predict_util.cc,
classifier.cc, server_core.cc, basic_manager.cc, get_model_status_impl.cc):
e.g. an unknown Predict signature is FAILED_PRECONDITION there, while an
unknown Classify/Regress signature is INVALID_ARGUMENT.
"""

import grpc


class ServingError(Exception):
    """A request failed with a gRPC status `code` (a `grpc.StatusCode`) and a message."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid_argument(message):
    return ServingError(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message):
    return ServingError(grpc.StatusCode.NOT_FOUND, message)


def failed_precondition(message):
    return ServingError(grpc.StatusCode.FAILED_PRECONDITION, message)


def unavailable(message):
    return ServingError(grpc.StatusCode.UNAVAILABLE, message)


_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


def from_number(number, message):
    """tensorflow.error.Code numbers equal gRPC's."""
    return ServingError(_BY_NUMBER.get(int(number), grpc.StatusCode.UNKNOWN), message)


# REST: model_servers/http_server.cc ToHTTPStatusCode.
HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


def unimplemented(message):
    return ServingError(grpc.StatusCode.UNIMPLEMENTED, message)

"""Exceptions raised by the serving clients, one per gRPC status a caller acts on.

Every exception carries `.code` (the gRPC status name, e.g. "NOT_FOUND"),
`.details` (the server's own message) and `.target`; its `str()` says what
went wrong in words and what to check. REST errors map onto the same classes
through the HTTP status TF Serving uses for each gRPC code.
"""

import grpc


class ServingError(Exception):
    """A request to a TF Serving (or development) server failed."""

    code = "UNKNOWN"
    hint = "the server reported an error"

    def __init__(self, details, *, code=None, target=None, model_spec=None):
        self.details = details
        self.code = code or type(self).code
        self.target = target
        self.model_spec = model_spec
        where = ""
        if target:
            where = f" (server {target}" + (f", {model_spec}" if model_spec else "") + ")"
        super().__init__(f"{self.hint}{where}: [{self.code}] {details}")


class ModelNotFoundError(ServingError):
    """NOT_FOUND: no such model, or that version is not loaded (yet)."""

    code = "NOT_FOUND"
    hint = "model or version not found: check the model name, the version (is it loaded? see status()) and the server's model config"


class InvalidInputError(ServingError):
    """INVALID_ARGUMENT: the request does not fit the signature (names, dtypes, shapes, empty input)."""

    code = "INVALID_ARGUMENT"
    hint = "bad input: the request does not match the signature (see metadata() for input names, dtypes and shapes)"


class SignatureError(ServingError):
    """FAILED_PRECONDITION: the signature does not exist or the model cannot serve this call."""

    code = "FAILED_PRECONDITION"
    hint = "the model cannot serve this call: check the signature name (see metadata()) or the model's health"


class RequestTooLargeError(ServingError):
    """RESOURCE_EXHAUSTED: the message exceeds the server's size limit, or the server is overloaded."""

    code = "RESOURCE_EXHAUSTED"
    hint = "request too large or server overloaded: lower max_batch_size or raise the server's message size limit"


class ServerUnavailableError(ServingError):
    """UNAVAILABLE: the server cannot be reached (after all retries)."""

    code = "UNAVAILABLE"
    hint = "server unavailable: is it running and reachable at this address (and TLS set up alike on both sides)?"


class DeadlineExceededError(ServingError):
    """DEADLINE_EXCEEDED: no answer within the timeout."""

    code = "DEADLINE_EXCEEDED"
    hint = "no answer before the deadline: raise timeout= or send smaller batches"


class UnimplementedError(ServingError):
    """UNIMPLEMENTED: the server does not offer this method."""

    code = "UNIMPLEMENTED"
    hint = "the server does not implement this method"


_BY_CODE = {
    cls.code: cls
    for cls in (
        ModelNotFoundError,
        InvalidInputError,
        SignatureError,
        RequestTooLargeError,
        ServerUnavailableError,
        DeadlineExceededError,
        UnimplementedError,
    )
}

# TF Serving's REST server maps gRPC codes to HTTP statuses
# (model_servers/http_server.cc ToHTTPStatusCode); the reverse is ambiguous
# for 400, so the client reads 400 as INVALID_ARGUMENT.
_HTTP_TO_CODE = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def from_code(code, details, *, target=None, model_spec=None):
    """Builds the exception for a status code name such as "NOT_FOUND"."""
    cls = _BY_CODE.get(code, ServingError)
    return cls(details, code=code, target=target, model_spec=model_spec)


def from_rpc_error(error, *, target=None, model_spec=None):
    """Maps a `grpc.RpcError` (sync or aio) onto a `ServingError` subclass."""
    code = error.code() if callable(getattr(error, "code", None)) else grpc.StatusCode.UNKNOWN
    details = error.details() if callable(getattr(error, "details", None)) else str(error)
    return from_code(code.name, details or "", target=target, model_spec=model_spec)


def from_http_status(status, details, *, target=None, model_spec=None):
    """Maps an HTTP error status from TF Serving's REST API onto a `ServingError`."""
    return from_code(
        _HTTP_TO_CODE.get(status, "UNKNOWN" if status >= 500 else "INVALID_ARGUMENT"),
        details,
        target=target,
        model_spec=model_spec,
    )

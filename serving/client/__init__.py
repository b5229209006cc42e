"""Light client for TF Serving (and the development server): no TensorFlow runtime.

Imports only grpc, numpy and the generated protobuf modules of the
`tensorflow-serving-api` wheel (loaded without running TensorFlow, see
`_protos`). May be installed on its own (`pip install ./serving/client`,
import name `albert_tf_client`); inside this repository it is `serving.client`.

Example:
>>> from serving.client import AlbertClient                       # doctest: +SKIP
>>> with AlbertClient("localhost:8500", "albert") as client:       # doctest: +SKIP
...     print(client.predict(["a gripping film"]).predictions)
"""

from .client import AlbertClient, AsyncAlbertClient
from .errors import (
    DeadlineExceededError,
    InvalidInputError,
    ModelNotFoundError,
    RequestTooLargeError,
    ServerUnavailableError,
    ServingError,
    SignatureError,
    UnimplementedError,
)
from .rest import RestClient
from .results import (
    Answer,
    AnswerResult,
    ClassifyResult,
    ModelMetadata,
    ModelSpec,
    Prediction,
    PredictResult,
    RegressResult,
    SignatureInfo,
    TensorInfo,
    VersionStatus,
)

__all__ = [
    "AlbertClient",
    "AsyncAlbertClient",
    "RestClient",
    "ServingError",
    "ModelNotFoundError",
    "InvalidInputError",
    "SignatureError",
    "RequestTooLargeError",
    "ServerUnavailableError",
    "DeadlineExceededError",
    "UnimplementedError",
    "ModelSpec",
    "Answer",
    "AnswerResult",
    "Prediction",
    "PredictResult",
    "ClassifyResult",
    "RegressResult",
    "ModelMetadata",
    "SignatureInfo",
    "TensorInfo",
    "VersionStatus",
]

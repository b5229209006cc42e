"""TF Serving's protocol buffers and gRPC stubs, imported without TensorFlow.

The generated modules live in the `tensorflow-serving-api` wheel
(`tensorflow_serving.apis`) and, for `TensorProto` / `Example`, in the
TensorFlow wheel (`tensorflow.core.framework`, `tensorflow.core.example`).
Those are plain protobuf modules, but importing any `tensorflow.*` submodule
first runs `tensorflow/__init__.py`, which loads the whole TensorFlow runtime
(seconds and hundreds of MB). A client that only builds messages must not pay
that.

So, when TensorFlow is not imported yet, a bare package object stands in for
`tensorflow` while the protobuf modules load (its `__path__` is the real
package directory, so the real `*_pb2.py` files are found), and is removed
right after. The loaded `tensorflow.core...._pb2` modules stay in
`sys.modules`: a later `import tensorflow` in the same process reuses them,
so `tf.make_tensor_proto(...)` and these messages are the same classes.
Nothing here is generated or copied: these are the wheels' own modules.
"""

import importlib
import importlib.machinery
import importlib.util
import sys
import threading
import types

_LOCK = threading.Lock()

_MODULES = {
    "predict_pb2": "tensorflow_serving.apis.predict_pb2",
    "classification_pb2": "tensorflow_serving.apis.classification_pb2",
    "regression_pb2": "tensorflow_serving.apis.regression_pb2",
    "inference_pb2": "tensorflow_serving.apis.inference_pb2",
    "input_pb2": "tensorflow_serving.apis.input_pb2",
    "model_pb2": "tensorflow_serving.apis.model_pb2",
    "get_model_metadata_pb2": "tensorflow_serving.apis.get_model_metadata_pb2",
    "get_model_status_pb2": "tensorflow_serving.apis.get_model_status_pb2",
    "model_management_pb2": "tensorflow_serving.apis.model_management_pb2",
    "prediction_service_pb2_grpc": "tensorflow_serving.apis.prediction_service_pb2_grpc",
    "model_service_pb2_grpc": "tensorflow_serving.apis.model_service_pb2_grpc",
    "model_server_config_pb2": "tensorflow_serving.config.model_server_config_pb2",
    "tensor_pb2": "tensorflow.core.framework.tensor_pb2",
    "tensor_shape_pb2": "tensorflow.core.framework.tensor_shape_pb2",
    "types_pb2": "tensorflow.core.framework.types_pb2",
    "example_pb2": "tensorflow.core.example.example_pb2",
    "feature_pb2": "tensorflow.core.example.feature_pb2",
    "meta_graph_pb2": "tensorflow.core.protobuf.meta_graph_pb2",
}


def _import_all():
    return types.SimpleNamespace(
        **{short: importlib.import_module(full) for short, full in _MODULES.items()}
    )


def load():
    """Returns a namespace of the TF Serving proto modules (see `_MODULES`).

    Safe to call many times and from many threads; the import happens once.
    """
    global _PROTOS
    if _PROTOS is not None:
        return _PROTOS
    with _LOCK:
        if _PROTOS is not None:
            return _PROTOS
        if "tensorflow" in sys.modules:
            _PROTOS = _import_all()
            return _PROTOS
        spec = importlib.util.find_spec("tensorflow")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError(
                "TF Serving's protos need the `tensorflow-serving-api` wheel and the "
                "`tensorflow.core` proto modules shipped in the TensorFlow wheel; "
                "install them with `pip install tensorflow-serving-api` (TensorFlow "
                "is installed but never imported by this client)."
            )
        stand_in = types.ModuleType("tensorflow")
        stand_in.__path__ = list(spec.submodule_search_locations)
        stand_in.__spec__ = importlib.machinery.ModuleSpec(
            "tensorflow", loader=None, is_package=True
        )
        stand_in.__spec__.submodule_search_locations = stand_in.__path__
        sys.modules["tensorflow"] = stand_in
        try:
            _PROTOS = _import_all()
        finally:
            # Only remove our stand-in: another thread may have imported the
            # real TensorFlow meanwhile.
            if sys.modules.get("tensorflow") is stand_in:
                del sys.modules["tensorflow"]
        return _PROTOS


_PROTOS = None

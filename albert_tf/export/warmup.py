"""`assets.extra/tf_serving_warmup_requests`: requests TF Serving replays at load.

TF Serving reads this TFRecord file of `PredictionLog` protos and runs each
request once before marking the version AVAILABLE, so the first user request
does not pay for graph optimization and kernel set-up.
"""

import pathlib

import tensorflow as tf
from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

WARMUP_FILE = "tf_serving_warmup_requests"


def predict_log(inputs, signature_name="serving_default", model_name="albert"):
    """A `PredictionLog` holding one PredictRequest.

    Args:
        inputs: {input name: array-like}, e.g. {"text": [b"a review"]}.
        signature_name: the signature the request targets.
        model_name: the model's name in the request's `ModelSpec`.
    """
    request = predict_pb2.PredictRequest(
        model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature_name)
    )
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request)
    )


def write_warmup_requests(export_dir, logs):
    """Writes `logs` (PredictionLog protos) to `export_dir/assets.extra/`."""
    extra = pathlib.Path(export_dir) / "assets.extra"
    extra.mkdir(parents=True, exist_ok=True)
    path = extra / WARMUP_FILE
    with tf.io.TFRecordWriter(str(path)) as writer:
        for log in logs:
            writer.write(log.SerializeToString())
    return path


def read_warmup_requests(export_dir):
    """The PredictionLog protos of `export_dir`'s warmup file (for checks and servers)."""
    path = pathlib.Path(export_dir) / "assets.extra" / WARMUP_FILE
    return [
        prediction_log_pb2.PredictionLog.FromString(record.numpy())
        for record in tf.data.TFRecordDataset(str(path))
    ]

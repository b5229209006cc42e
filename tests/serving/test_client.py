"""The light client in-process: TensorProto conversion against TensorFlow's own, errors, packaging."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from serving.client import errors, tensors
from serving.client.client import _RequestBuilder
from tests.helpers.serving import REPO


@pytest.mark.parametrize("value", [
    np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
    np.arange(6, dtype=np.int32).reshape(2, 3) - 3,
    np.array([2**40, -5], dtype=np.int64),
    np.array([[True, False]]),
    np.array([1.5, -2.25], dtype=np.float16),
    np.array(3.5, dtype=np.float64),
    np.zeros([0, 4], dtype=np.float32),
])
def test_numeric_tensors_match_tensorflow(value):
    ours = tensors.to_tensor_proto(value)
    assert tf.make_ndarray(ours).dtype == value.dtype
    np.testing.assert_array_equal(tf.make_ndarray(ours), value)
    theirs = tf.make_tensor_proto(value)
    np.testing.assert_array_equal(tensors.to_ndarray(theirs), value)
    assert tensors.to_ndarray(theirs).dtype == value.dtype


def test_string_tensors_match_tensorflow():
    texts = [["héllo", "wörld"], ["a", "b\x00c"]]
    ours = tensors.to_tensor_proto(texts)
    np.testing.assert_array_equal(tf.make_ndarray(ours), tf.constant(texts).numpy())
    raw = tf.make_tensor_proto(np.array([b"\xff\x00", b""], dtype=object))
    assert list(tensors.to_ndarray(raw)) == [b"\xff\x00", b""]


def test_value_fields_and_broadcast():
    """TF Serving may answer with typed *_val fields, and a single value fills the shape."""
    for value in (tf.constant([[1.0, 2.0]]), tf.constant([3, 4], tf.int64)):
        proto = tf.make_tensor_proto(value)
        typed = tf.make_tensor_proto(value.numpy().tolist(), dtype=value.dtype)
        typed.ClearField("tensor_content")
        field = "float_val" if value.dtype == tf.float32 else "int64_val"
        getattr(typed, field).extend(value.numpy().reshape(-1).tolist())
        np.testing.assert_array_equal(tensors.to_ndarray(typed), tf.make_ndarray(proto))
    filled = tf.make_tensor_proto(7.0, shape=[2, 2])  # one float_val for 4 elements
    np.testing.assert_array_equal(tensors.to_ndarray(filled), tf.make_ndarray(filled))


def test_python_lists_follow_tf_constant_defaults():
    assert tensors.to_ndarray(tensors.to_tensor_proto([[1, 2]])).dtype == np.int32
    assert tensors.to_ndarray(tensors.to_tensor_proto([0.5])).dtype == np.float32


@pytest.mark.parametrize("value, message", [
    ([["a", "b"], ["c"]], "rectangular"),
    (["a", 1], "all strings or all numbers"),
    (np.array([1 + 2j]), "Unsupported dtype complex128"),
])
def test_bad_tensor_values(value, message):
    with pytest.raises((TypeError, ValueError), match=message):
        tensors.to_tensor_proto(value)


def test_malformed_response_tensor():
    proto = tf.make_tensor_proto(np.zeros([2, 3], np.float32))
    proto.tensor_content = proto.tensor_content[:8]
    with pytest.raises(ValueError, match="Malformed DT_FLOAT tensor: 2 values for shape \\[2, 3\\]"):
        tensors.to_ndarray(proto)


def test_requests_chunk_and_pin_versions():
    builder = _RequestBuilder("albert", "serving_default", None, None, "text", ("text", "text_pair"),
                              "text", max_batch_size=2)
    columns, count = builder.columns([("q1", "a1"), ("q2", "a2"), ("q3", "a3")])
    assert count == 3 and set(columns) == {"text", "text_pair"}
    assert builder.chunks(count) == [(0, 2), (2, 3)]
    request = builder.predict_request(columns, 2, 3, None, ["logits"], version=5)
    assert request.model_spec.version.value == 5 and list(request.output_filter) == ["logits"]
    assert list(tf.make_ndarray(request.inputs["text_pair"])) == [b"a3"]
    with pytest.raises(ValueError, match="same batch size"):
        builder.columns({"a": ["x", "y"], "b": ["z"]})
    with pytest.raises(ValueError, match="max_batch_size must be >= 1"):
        _RequestBuilder("m", "s", None, None, "text", ("a", "b"), "text", max_batch_size=0)
    with pytest.raises(ValueError, match="not both"):
        _RequestBuilder("m", "s", 1, "stable", "text", ("a", "b"), "text", max_batch_size=1)


def test_error_classes():
    error = errors.from_code("NOT_FOUND", "Servable not found for request: Latest(x)", target="h:1")
    assert isinstance(error, errors.ModelNotFoundError)
    assert "model or version not found" in str(error) and "Latest(x)" in str(error) and "h:1" in str(error)
    assert isinstance(errors.from_http_status(400, "bad"), errors.InvalidInputError)
    assert isinstance(errors.from_http_status(503, "down"), errors.ServerUnavailableError)
    assert type(errors.from_code("DATA_LOSS", "x")) is errors.ServingError


def test_client_installs_on_its_own(tmp_path):
    """`pip install ./serving/client` gives `albert_tf_client` with its CLI module."""
    target = tmp_path / "site"
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--quiet",
         "--target", str(target), os.path.join(REPO, "serving", "client")],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    code = ("import sys; import albert_tf_client as c; from albert_tf_client import command; "
            "c.AlbertClient('127.0.0.1:1', 'm').close(); "
            "print(c.__file__.startswith(sys.argv[1]), 'tensorflow.python' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(target))
    run = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True,
                         timeout=120, env=env, cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "False"]

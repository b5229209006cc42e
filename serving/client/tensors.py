"""numpy <-> `tensorflow.TensorProto` without TensorFlow.

`to_tensor_proto` writes numeric tensors as little-endian `tensor_content`
(what `tf.make_tensor_proto` does) and strings as `string_val`.
`to_ndarray` reads every encoding a server may send: `tensor_content`, the
typed `*_val` fields, and the one-value broadcast TF uses for constants.
"""

import numpy as np

from . import _protos

# DataType enum names (tensorflow/core/framework/types.proto) for the dtypes a
# serving request or response carries.
_NUMPY_TO_DT = {
    np.dtype(np.float32): "DT_FLOAT",
    np.dtype(np.float64): "DT_DOUBLE",
    np.dtype(np.float16): "DT_HALF",
    np.dtype(np.int32): "DT_INT32",
    np.dtype(np.int64): "DT_INT64",
    np.dtype(np.int16): "DT_INT16",
    np.dtype(np.int8): "DT_INT8",
    np.dtype(np.uint8): "DT_UINT8",
    np.dtype(np.uint16): "DT_UINT16",
    np.dtype(np.uint32): "DT_UINT32",
    np.dtype(np.uint64): "DT_UINT64",
    np.dtype(np.bool_): "DT_BOOL",
}
_DT_TO_NUMPY = {name: dtype for dtype, name in _NUMPY_TO_DT.items()}
# Which repeated field holds each dtype's values when tensor_content is empty.
_VAL_FIELD = {
    "DT_FLOAT": "float_val",
    "DT_DOUBLE": "double_val",
    "DT_HALF": "half_val",
    "DT_INT32": "int_val",
    "DT_INT16": "int_val",
    "DT_INT8": "int_val",
    "DT_UINT8": "int_val",
    "DT_UINT16": "int_val",
    "DT_UINT32": "uint32_val",
    "DT_UINT64": "uint64_val",
    "DT_INT64": "int64_val",
    "DT_BOOL": "bool_val",
    "DT_STRING": "string_val",
}


def _encode_string(value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(
        f"Expected str or bytes in a string tensor, got {type(value).__name__}: {value!r}"
    )


def to_tensor_proto(value, dtype=None):
    """Builds a `TensorProto` from a numpy array, list, scalar, str or bytes.

    Args:
        value: array-like. Sequences of `str`/`bytes` become `DT_STRING`
            (str is UTF-8 encoded); numbers keep their numpy dtype (Python
            floats become float32 and ints int32 unless `dtype` says otherwise,
            matching `tf.constant`).
        dtype: optional numpy dtype to cast numeric values to.

    Returns:
        `tensorflow.TensorProto`.

    Example:
    >>> to_tensor_proto(["a movie", "a film"]).tensor_shape.dim[0].size
    2
    """
    protos = _protos.load()
    types_pb2 = protos.types_pb2
    proto = protos.tensor_pb2.TensorProto()
    array = _as_array(value, dtype)
    if array.dtype == object:
        proto.dtype = types_pb2.DT_STRING
        proto.string_val.extend(_encode_string(v) for v in array.reshape(-1))
    else:
        dt_name = _NUMPY_TO_DT.get(array.dtype)
        if dt_name is None:
            raise TypeError(
                f"Unsupported dtype {array.dtype} for a serving tensor; expected one of "
                f"{sorted(str(d) for d in _NUMPY_TO_DT)} or strings."
            )
        proto.dtype = types_pb2.DataType.Value(dt_name)
        little_endian = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
        proto.tensor_content = little_endian.tobytes()
    for size in array.shape:
        proto.tensor_shape.dim.add(size=int(size))
    return proto


def _as_array(value, dtype):
    """numpy view of `value`: an object array for text, numeric otherwise."""
    try:
        if dtype is not None:
            return np.asarray(value, dtype=dtype)
        array = np.asarray(value)
    except ValueError as e:
        raise ValueError(
            f"Cannot build a tensor from {value!r}: expected a rectangular (non-ragged) shape ({e})"
        ) from None
    if array.dtype.kind in "USO":
        # Object dtype keeps bytes exact ('S' arrays drop trailing NULs).
        array = np.array(value, dtype=object)
        if not all(isinstance(v, (str, bytes)) for v in array.reshape(-1)):
            raise TypeError(
                f"Cannot build a tensor from {value!r}: expected all strings or all "
                "numbers, in a rectangular (non-ragged) shape."
            )
        return array
    if not isinstance(value, np.ndarray) and not isinstance(value, np.generic):
        # Python floats/ints become float32/int32, as with tf.constant.
        if array.dtype == np.float64:
            return array.astype(np.float32)
        if array.dtype == np.int64:
            return array.astype(np.int32)
    return array


def to_ndarray(proto):
    """Reads a `TensorProto` into a numpy array (strings as `bytes` objects).

    Raises:
        ValueError: the proto's dtype is not supported or its values do not
            fit its shape.
    """
    types_pb2 = _protos.load().types_pb2
    dt_name = types_pb2.DataType.Name(proto.dtype)
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if dt_name == "DT_STRING":
        values = np.empty(len(proto.string_val), dtype=object)
        values[:] = list(proto.string_val)
        return _fill(values, shape, count, dt_name)
    if dt_name not in _DT_TO_NUMPY:
        raise ValueError(f"Unsupported tensor dtype {dt_name}; expected one of {sorted(_VAL_FIELD)}.")
    np_dtype = _DT_TO_NUMPY[dt_name]
    if proto.tensor_content:
        item = np_dtype.itemsize
        if len(proto.tensor_content) != count * item:
            raise ValueError(
                f"Malformed {dt_name} tensor: {len(proto.tensor_content) // item} values for shape "
                f"{list(shape)} ({count} elements expected)."
            )
        values = np.frombuffer(proto.tensor_content, dtype=np_dtype.newbyteorder("<"))
        return values.astype(np_dtype).reshape(shape)
    raw = getattr(proto, _VAL_FIELD[dt_name])
    if dt_name == "DT_HALF":
        # half_val carries the float16 bit patterns in int32 slots.
        values = np.asarray(list(raw), dtype=np.uint16).view(np.float16)
    else:
        values = np.asarray(list(raw), dtype=np_dtype)
    return _fill(values, shape, count, dt_name)


def _fill(values, shape, count, dt_name):
    if values.size == count:
        return values.reshape(shape)
    if values.size == 0 and count == 0:
        return values.reshape(shape)
    if 0 < values.size < count:
        # TF's convention for the *_val fields: the last value repeats to fill the shape.
        padded = np.concatenate([values, np.repeat(values[-1:], count - values.size)])
        return padded.reshape(shape)
    raise ValueError(
        f"Malformed {dt_name} tensor: {values.size} values for shape {list(shape)} "
        f"({count} elements expected)."
    )

"""JSON <-> tensors for the REST API, as TF Serving's util/json_tensor.cc does it.

Requests: `{"instances": rows}` (row format) or `{"inputs": columns}`
(columnar format) become TensorProtos typed by the signature's inputs; a
JSON value must already have the input's type (a float sent to an int32 input
is refused, never truncated); strings are bytes, `{"b64": ...}` is base64
bytes. `{"examples": [...], "context"?}` becomes tf.Examples for Classify and
Regress. Responses: `{"predictions"}` / `{"outputs"}` / `{"results"}`, floats
printed as json_tensor.cc's WriteDecimal prints them (shortest of "%g" with 6
digits and full precision that round-trips, ".0" on whole numbers, bare
`NaN` / `Infinity` / `-Infinity`), `_bytes`-suffixed string outputs as
`{"b64": ...}`. Errors carry TF Serving's codes and wording.
"""

import base64
import binascii
import json
import math

import numpy as np
from tensorflow.core.example import example_pb2, feature_pb2
from tensorflow.core.framework import tensor_pb2, types_pb2

from . import errors

ROW, COLUMNAR = "row", "columnar"

_INT32 = (-(2**31), 2**31 - 1)
_UINT32 = (0, 2**32 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_UINT64 = (0, 2**64 - 1)
_DEBUG_STRING_BYTES = 256  # kMaxJsonDebugStringBytes

# Python's JSON messages -> rapidjson's GetParseError_En wording.
_PARSE_ERRORS = {
    "Expecting value": "Invalid value.",
    "Expecting property name enclosed in double quotes": "Missing a name for object member.",
    "Expecting ':' delimiter": "Missing a colon after a name of object member.",
    "Expecting ',' delimiter": "Missing a comma or ']' after an array element.",
    "Unterminated string starting at": "Missing a closing quotation mark in string.",
    "Invalid control character at": "Invalid encoding in string.",
    "Invalid \\escape": "Invalid escape character in string.",
    "Invalid \\uXXXX escape": "Incorrect hex digit after \\u escape in string.",
}


def dtype_string(dtype):
    """TensorFlow's DataTypeString: DT_FLOAT -> "float", DT_INT32 -> "int32"."""
    try:
        return types_pb2.DataType.Name(dtype)[3:].lower()
    except ValueError:
        return f"unknown dtype enum ({dtype})"


def text(value):
    """A str as a proto `string` field accepts it (undecodable bytes become U+FFFD)."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _bytes(value):
    return value.encode("utf-8", "surrogateescape")


def parse_json(body):
    """The request body as JSON: first key wins, trailing text ignored (rapidjson's flags).

    Example:
    >>> parse_json(b'{"instances": [1], "instances": [2]} trailing text')
    {'instances': [1]}

    Raises:
        ServingError: INVALID_ARGUMENT "JSON Parse error: ..." or "JSON Value: ... Is not object".
    """
    if not body:
        raise errors.invalid_argument("JSON Parse error: The document is empty")
    # Undecodable bytes survive as surrogates: rapidjson does not validate UTF-8.
    document = body.decode("utf-8", "surrogateescape")
    start = len(document) - len(document.lstrip(" \t\n\r"))
    if start == len(document):
        raise errors.invalid_argument("JSON Parse error: The document is empty")
    decoder = json.JSONDecoder(object_pairs_hook=_first_key_wins, parse_int=_rapidjson_int,
                               parse_float=_rapidjson_float)
    try:
        value, _ = decoder.raw_decode(document, start)
    except _NumberTooBig:
        raise errors.invalid_argument("JSON Parse error: Number too big to be stored in double.") from None
    except json.JSONDecodeError as e:
        reason = next((v for k, v in _PARSE_ERRORS.items() if e.msg.startswith(k)), e.msg)
        raise errors.invalid_argument(f"JSON Parse error: {reason} at offset: {e.pos}") from None
    except RecursionError:
        raise errors.invalid_argument("JSON Parse error: Nesting too deep.") from None
    if not isinstance(value, dict):
        raise errors.invalid_argument(f"JSON Value: {debug_string(value)} Is not object")
    return value


class _NumberTooBig(ValueError):
    pass


def _rapidjson_int(literal):
    """rapidjson's integers: beyond 64 bits they are doubles, beyond a double's range an error."""
    if len(literal.lstrip("-")) > 20:
        value = float(literal)
        if math.isinf(value):
            raise _NumberTooBig(literal)
        return value
    value = int(literal)
    return value if -(2**63) <= value < 2**64 else float(value)


def _rapidjson_float(literal):
    value = float(literal)
    if math.isinf(value):
        raise _NumberTooBig(literal)
    return value


def _first_key_wins(pairs):
    result = {}
    for key, value in pairs:
        result.setdefault(key, value)
    return result


def debug_string(value):
    """rapidjson's PrettyWriter text of `value`, single-line arrays, cut after 256 bytes."""
    out = []
    size = [0]

    def emit(piece):
        if size[0] < _DEBUG_STRING_BYTES:
            out.append(piece)
            size[0] += len(piece.encode("utf-8", "surrogateescape"))

    def walk(v, indent):
        if isinstance(v, dict):
            if not v:
                emit("{}")
                return
            emit("{")
            for i, (key, item) in enumerate(v.items()):
                emit(("," if i else "") + "\n" + " " * (indent + 4) + _quote(key) + ": ")
                walk(item, indent + 4)
            emit("\n" + " " * indent + "}")
        elif isinstance(v, list):
            emit("[")
            for i, item in enumerate(v):
                if i:
                    emit(", ")
                walk(item, indent)
            emit("]")
        else:
            emit(_scalar(v))

    walk(value, 0)
    return "".join(out)


def _quote(s):
    return json.dumps(s.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), ensure_ascii=False)


def _scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return _quote(v)
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return repr(v)


def _json_type(v):
    """rapidjson's JsonTypeString."""
    if v is None:
        return "Null"
    if v is True:
        return "True"
    if v is False:
        return "False"
    if isinstance(v, dict):
        return "Object"
    if isinstance(v, list):
        return "Array"
    if isinstance(v, str):
        return "String"
    return "Number"


def _is_int_in(v, bounds):
    """rapidjson's IsInt/IsInt64/...: an integer literal inside the type's range."""
    return isinstance(v, int) and not isinstance(v, bool) and bounds[0] <= v <= bounds[1]


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _type_error(v, dtype):
    return errors.invalid_argument(
        f"JSON Value: {debug_string(v)} Type: {_json_type(v)} is not of expected type: {dtype_string(dtype)}")


def _is_base64_object(v):
    return isinstance(v, dict) and len(v) == 1 and isinstance(v.get("b64"), str)


def _decode_base64(v):
    if not _is_base64_object(v):
        raise errors.invalid_argument(f"JSON Value: {debug_string(v)} not formatted correctly for base64 data")
    try:
        return base64.b64decode(_bytes(v["b64"]), validate=True)
    except (binascii.Error, ValueError):
        raise errors.invalid_argument("Unable to base64 decode") from None


def _add_value(v, dtype, tensor):
    """AddValueToTensor: appends one JSON scalar to the typed field of `dtype`."""
    if dtype in (types_pb2.DT_FLOAT, types_pb2.DT_DOUBLE):
        if not _is_number(v):
            raise _type_error(v, dtype)
        value = float(v) if not isinstance(v, float) else v
        if dtype == types_pb2.DT_FLOAT:
            # rapidjson's GetFloat: out-of-range doubles become +-inf.
            with np.errstate(over="ignore"):
                tensor.float_val.append(float(np.float32(value)))
        else:
            tensor.double_val.append(value)
    elif dtype in (types_pb2.DT_INT32, types_pb2.DT_INT16, types_pb2.DT_INT8, types_pb2.DT_UINT8):
        if not _is_int_in(v, _INT32):
            raise _type_error(v, dtype)
        tensor.int_val.append(v)
    elif dtype == types_pb2.DT_STRING:
        if not isinstance(v, str):
            raise _type_error(v, dtype)
        tensor.string_val.append(_bytes(v))
    elif dtype == types_pb2.DT_INT64:
        if not _is_int_in(v, _INT64):
            raise _type_error(v, dtype)
        tensor.int64_val.append(v)
    elif dtype == types_pb2.DT_BOOL:
        if not isinstance(v, bool):
            raise _type_error(v, dtype)
        tensor.bool_val.append(v)
    elif dtype == types_pb2.DT_UINT32:
        if not _is_int_in(v, _UINT32):
            raise _type_error(v, dtype)
        tensor.uint32_val.append(v)
    elif dtype == types_pb2.DT_UINT64:
        if not _is_int_in(v, _UINT64):
            raise _type_error(v, dtype)
        tensor.uint64_val.append(v)
    else:
        raise errors.unimplemented(f"Conversion of JSON Value: {debug_string(v)} to type: {dtype_string(dtype)}")


def _dense_shape(v):
    """GetDenseTensorShape: sizes along the first element of each nested list."""
    shape = []
    while isinstance(v, list):
        shape.append(len(v))
        if not v:
            break
        v = v[0]
    return shape


def _fill(v, level, shape, dtype, tensor):
    """FillTensorProto: checks the nesting against `shape`; returns the values added."""
    if not isinstance(v, list):
        if level != len(shape):
            raise errors.invalid_argument(
                f"JSON Value: {debug_string(v)} found at incorrect level: {level + 1} in the JSON DOM. "
                f"Expected at level: {len(shape)}")
        if isinstance(v, dict):
            if dtype != types_pb2.DT_STRING:
                raise _type_error(v, dtype)
            tensor.string_val.append(_decode_base64(v))
        else:
            _add_value(v, dtype, tensor)
        return 1
    if level >= len(shape):
        raise errors.invalid_argument(f"Encountered list at unexpected level: {level} expected < {len(shape)}")
    if len(v) != shape[level]:
        raise errors.invalid_argument(
            f"Encountered list at unexpected size: {len(v)} at level: {level} expected size: {shape[level]}")
    return sum(_fill(item, level + 1, shape, dtype, tensor) for item in v)


def _tensor(v, dtype):
    """(TensorProto of `v` with typed values, its shape, its value count)."""
    tensor = tensor_pb2.TensorProto(dtype=dtype)
    shape = _dense_shape(v)
    count = _fill(v, 0, shape, dtype, tensor)
    return tensor, shape, count


def _set_shape(tensor, shape):
    del tensor.tensor_shape.dim[:]
    for size in shape:
        tensor.tensor_shape.dim.add().size = size


def _status_string(error):
    """absl::Status::ToString of a nested error: "INVALID_ARGUMENT: message"."""
    return f"{error.code.name}: {error.message}"


def _is_element_object(v):
    return isinstance(v, dict) and not _is_base64_object(v)


def _from_instances(rows, input_infos):
    """FillTensorMapFromInstancesList: each row adds one batch entry to every input."""
    names = sorted(input_infos)
    if not isinstance(rows[0], dict) and len(names) > 1:
        raise errors.invalid_argument(
            "instances is a plain list, but expecting list of objects as multiple input tensors required as "
            "per tensorinfo_map")
    as_objects = _is_element_object(rows[0])
    values = {}  # name -> (shape of one row, count, [row tensors])

    def add(item, name):
        if name not in input_infos:
            raise errors.invalid_argument(f"JSON object: does not have named input: {name}")
        tensor, shape, count = _tensor(item, input_infos[name].dtype)
        if name not in values:
            values[name] = (shape, count, [tensor])
            return
        first_shape, first_count, tensors = values[name]
        if count != first_count:
            raise errors.invalid_argument(f"Expecting tensor size: {first_count} but got: {count}")
        if shape != first_shape:
            raise errors.invalid_argument(
                f"Expecting shape [{','.join(map(str, first_shape))}] but got: [{','.join(map(str, shape))}]")
        tensors.append(tensor)

    for index, row in enumerate(rows):
        if as_objects:
            if not _is_element_object(row):
                raise errors.invalid_argument(f"Expecting object but got list at item {index} of input list")
            for name, item in row.items():
                try:
                    add(item, name)
                except errors.ServingError as e:
                    raise errors.invalid_argument(
                        f"Failed to process element: {index} key: {name} of 'instances' list. "
                        f"Error: {_status_string(e)}") from None
            if set(row) != set(names):
                raise errors.invalid_argument(
                    f"Failed to process element: {index} of 'instances' list. JSON object: "
                    f"{debug_string(row)} keys must be equal to: {','.join(names)}")
        else:
            if _is_element_object(row):
                raise errors.invalid_argument(f"Expecting value/list but got object at item {index} of input list")
            try:
                add(row, names[0])
            except errors.ServingError as e:
                raise errors.invalid_argument(
                    f"Failed to process element: {index} of 'instances' list. Error: {_status_string(e)}") from None
    inputs = {}
    for name, (shape, _, tensors) in values.items():
        merged = tensor_pb2.TensorProto(dtype=input_infos[name].dtype)
        for tensor in tensors:
            merged.MergeFrom(tensor)  # repeated typed fields concatenate
        _set_shape(merged, [len(rows), *shape])
        inputs[name] = merged
    return inputs


def _from_inputs(columns, input_infos):
    """FillTensorMapFromInputsMap: one value/list for one input, else an object naming each."""
    names = sorted(input_infos)
    if not isinstance(columns, dict) or _is_base64_object(columns):
        if len(names) > 1:
            raise errors.invalid_argument(
                "inputs is a plain value/list, but expecting an object as multiple input tensors required as "
                "per tensorinfo_map")
        selected = {names[0]: columns}
    else:
        selected = {}
        for name in names:
            if name not in columns:
                raise errors.invalid_argument(f"Missing named input: {name} in 'inputs' object.")
            selected[name] = columns[name]
    inputs = {}
    for name, value in selected.items():
        tensor, shape, _ = _tensor(value, input_infos[name].dtype)
        _set_shape(tensor, shape)
        inputs[name] = tensor
    return inputs


def signature_name(document):
    """The optional "signature_name" (FillSignature); "" when absent.

    Raises:
        ServingError: INVALID_ARGUMENT when it is not a JSON string.
    """
    if "signature_name" not in document:
        return ""
    value = document["signature_name"]
    if not isinstance(value, str):
        raise errors.invalid_argument(
            f"JSON Value: {debug_string(document)} not formatted correctly. 'signature_name' key must be a "
            "string value.")
    return text(value)


def predict_inputs(document, input_infos, signature):
    """FillPredictRequestFromJson: (inputs name -> TensorProto, ROW or COLUMNAR).

    Args:
        document: the parsed request object.
        input_infos: the signature's `inputs` map (name -> TensorInfo).
        signature: the signature's name, for the error when it has no inputs.

    Example:
    >>> from tensorflow.core.protobuf import meta_graph_pb2
    >>> infos = {"x": meta_graph_pb2.TensorInfo(dtype=types_pb2.DT_INT32)}
    >>> inputs, kind = predict_inputs({"instances": [[1, 2], [3, 4]]}, infos, "")
    >>> kind, list(inputs["x"].int_val), [d.size for d in inputs["x"].tensor_shape.dim]
    ('row', [1, 2, 3, 4], [2, 2])

    Raises:
        ServingError: INVALID_ARGUMENT with json_tensor.cc's message for any
            value, shape or key that does not fit the signature; UNIMPLEMENTED
            for an input dtype JSON cannot fill (half, complex, ...).
    """
    if not input_infos:
        raise errors.invalid_argument(f"Failed to get input map for signature: {signature or 'DEFAULT'}")
    if "instances" in document:
        if "inputs" in document:
            raise errors.invalid_argument(
                f"JSON Value: {debug_string(document)} Not formatted correctly expecting only one of 'inputs' "
                "or 'instances' keys to exist ")
        rows = document["instances"]
        if not isinstance(rows, list):
            raise errors.invalid_argument(
                f"JSON Value: {debug_string(document)} Expecting 'instances' to be an list/array")
        if not rows:
            raise errors.invalid_argument(f"JSON Value: {debug_string(document)} No values in 'instances' array")
        return _from_instances(rows, input_infos), ROW
    if "inputs" in document:
        return _from_inputs(document["inputs"], input_infos), COLUMNAR
    raise errors.invalid_argument("Missing 'inputs' or 'instances' key")


def _add_feature_value(v, name, feature):
    """AddValueToFeature: one JSON value into a tf.train.Feature of a single kind."""
    kind = feature.WhichOneof("kind")

    def require(wanted):
        if kind is not None and kind != wanted:
            raise errors.invalid_argument(
                f"Unexpected element type in feature: {name} expecting type: {kind.split('_')[0]}")

    if v is None or isinstance(v, list) or (isinstance(v, dict) and not _is_base64_object(v)):
        raise errors.invalid_argument(f"Feature: {name} has element with unexpected JSON type: {_json_type(v)}")
    if isinstance(v, bool):
        require("int64_list")
        feature.int64_list.value.append(int(v))
    elif isinstance(v, dict):
        require("bytes_list")
        feature.bytes_list.value.append(_decode_base64(v))
    elif isinstance(v, str):
        require("bytes_list")
        feature.bytes_list.value.append(_bytes(v))
    elif isinstance(v, float):
        require("float_list")
        with np.errstate(over="ignore"):
            feature.float_list.value.append(float(np.float32(float(v))))
    else:
        require("int64_list")
        if not _is_int_in(v, _INT64):
            raise errors.invalid_argument(f"Feature: {name} has uint64_t element. Only int64_t is supported.")
        feature.int64_list.value.append(v)


def _example(v):
    """MakeExampleFromJsonObject."""
    if not isinstance(v, dict):
        raise errors.invalid_argument(f"Example must be JSON object but got JSON {_json_type(v)}")
    example = example_pb2.Example()
    for name, content in v.items():
        feature = feature_pb2.Feature()
        for item in (content if isinstance(content, list) else [content]):
            _add_feature_value(item, name, feature)
        example.features.feature[text(name)].CopyFrom(feature)
    return example


def fill_examples(document, model_input):
    """FillClassifyRegressRequestFromJson: "context"? and "examples" into an `Input` proto."""
    has_context = "context" in document
    if has_context:
        model_input.example_list_with_context.context.CopyFrom(_example(document["context"]))
    if "examples" not in document:
        raise errors.invalid_argument(
            f"JSON Value: {debug_string(document)} When method is classify, key 'examples' is expected and "
            "was not found")
    examples = document["examples"]
    if not isinstance(examples, list):
        raise errors.invalid_argument(
            f"JSON Value: {debug_string(document)} Expecting 'examples' value to be an list/array")
    if not examples:
        raise errors.invalid_argument(f"JSON Value: {debug_string(document)} 'examples' value is an empty array")
    target = (model_input.example_list_with_context.examples if has_context
              else model_input.example_list.examples)
    for item in examples:
        target.add().CopyFrom(_example(item))


# Responses.


def decimal(value, dtype=np.float32):
    """WriteDecimal: how TF Serving prints a float or double.

    Example:
    >>> [decimal(0.2), decimal(3.0), decimal(9000000.0), decimal(float("nan"))]
    ['0.2', '3.0', '9e+06', 'NaN']
    """
    value = dtype(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    short = "%g" % value
    if dtype(float(short)) != value:
        short = "%.*g" % (9 if dtype == np.float32 else 17, value)
    if "." not in short and "e" not in short:
        short += ".0"
    return short


class _Writer:
    """rapidjson's PrettyWriter: 4-space indents; arrays on one line where asked."""

    def __init__(self):
        self.parts = []

    def value(self, v, indent=0, single_line=False):
        if isinstance(v, _Raw):
            self.parts.append(v.text)
        elif isinstance(v, dict):
            if not v:
                self.parts.append("{}")
                return
            self.parts.append("{")
            for i, (key, item) in enumerate(v.items()):
                self.parts.append(("," if i else "") + "\n" + " " * (indent + 4) + _quote(key) + ": ")
                self.value(item, indent + 4, single_line)
            self.parts.append("\n" + " " * indent + "}")
        elif isinstance(v, list):
            if not v:
                self.parts.append("[]")
            elif single_line or v[0].__class__ is not _Line:
                self.parts.append("[")
                for i, item in enumerate(v):
                    if i:
                        self.parts.append(", ")
                    self.value(item, indent, single_line=True)
                self.parts.append("]")
            else:
                self.parts.append("[")
                for i, item in enumerate(v):
                    self.parts.append(("," if i else "") + "\n" + " " * (indent + 4))
                    self.value(item.value, indent + 4, single_line=True)
                self.parts.append("\n" + " " * indent + "]")
        else:
            self.parts.append(json.dumps(v, ensure_ascii=False))


class _Raw:
    """Text written as is (a number already formatted)."""

    __slots__ = ("text",)

    def __init__(self, text_):
        self.text = text_


class _Line:
    """An element of a multi-line array (one per line, inner arrays on one line)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def dumps(document):
    """The JSON text of a response built from _Raw/_Line values."""
    writer = _Writer()
    writer.value(document)
    return "".join(writer.parts)


def _jsonable(name, array):
    """A response tensor as nested lists of JSON values (AddTensorValues).

    Raises:
        ServingError: INVALID_ARGUMENT for a dtype JSON cannot carry (half, complex, ...).
    """
    dtype = array.dtype
    if dtype == np.float32 or dtype == np.float64:
        kind = dtype.type
        leaf = lambda x: _Raw(decimal(x, kind))  # noqa: E731
    elif dtype.kind in ("O", "S"):
        if name.endswith("_bytes"):
            leaf = lambda x: {"b64": base64.b64encode(x).decode("ascii")}  # noqa: E731
        else:
            leaf = lambda x: x.decode("utf-8", "replace")  # noqa: E731
    elif dtype in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32, np.uint64, np.bool_):
        leaf = lambda x: _Raw(("true" if x else "false") if dtype == np.bool_ else str(int(x)))  # noqa: E731
    else:
        raise errors.invalid_argument(f"Failed to write JSON value for tensor type: {_numpy_dtype_string(dtype)}")

    return _map_nested(array.tolist(), leaf)


def _map_nested(value, leaf):
    if isinstance(value, list):
        return [_map_nested(v, leaf) for v in value]
    return leaf(value)


def _numpy_dtype_string(dtype):
    import tensorflow as tf

    try:
        return dtype_string(tf.dtypes.as_dtype(dtype).as_datatype_enum)
    except TypeError:
        return str(dtype)


def predict_json(outputs, response_format):
    """MakeJsonFromTensors: outputs (name -> ndarray) as `predictions` (ROW) or `outputs` (COLUMNAR).

    Example:
    >>> print(predict_json({"y": np.array([[0.5, 3.0]], np.float32)}, ROW))
    {
        "predictions": [
            [0.5, 3.0]
        ]
    }

    Raises:
        ServingError: INVALID_ARGUMENT for a scalar or batch-size mismatch in
            the row format, or an output dtype JSON cannot carry.
    """
    if not outputs:
        raise errors.invalid_argument("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    if response_format == COLUMNAR:
        columns = {name: _jsonable(name, outputs[name]) for name in names}
        return dumps({"outputs": columns[names[0]] if len(names) == 1 else columns})
    batch = None
    for name in names:
        array = outputs[name]
        if array.ndim == 0:
            raise errors.invalid_argument(f"Tensor name: {name} has no shape information ")
        if batch is not None and array.shape[0] != batch:
            raise errors.invalid_argument(
                f"Tensor name: {name} has inconsistent batch size: {array.shape[0]} expecting: {batch}")
        batch = array.shape[0]
    columns = {name: _jsonable(name, outputs[name]) for name in names}
    if len(names) == 1:
        rows = [_Line(row) for row in columns[names[0]]]
    else:
        rows = [_Line({name: columns[name][i] for name in names}) for i in range(batch)]
    return dumps({"predictions": rows})


def classify_json(result):
    """MakeJsonFromClassificationResult: `{"results": [[[label, score], ...], ...]}`."""
    if not result.classifications:
        raise errors.invalid_argument("Cannot convert empty ClassificationResults to JSON")
    rows = [_Line([[c.label, _Raw(decimal(c.score))] for c in row.classes]) for row in result.classifications]
    return dumps({"results": rows})


def regress_json(result):
    """MakeJsonFromRegressionResult: `{"results": [value, ...]}` on one line."""
    if not result.regressions:
        raise errors.invalid_argument("Cannot convert empty RegressionResults to JSON")
    return dumps({"results": [_Raw(decimal(r.value)) for r in result.regressions]})


def error_json(message):
    """MakeJsonFromStatus: `{"error": message}`."""
    return dumps({"error": text(message)})

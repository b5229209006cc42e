"""One loaded SavedModel version: its signatures, and calling them safely.

Any SavedModel works (tf.saved_model.load + its `signatures`); tensorflow_text
is imported first so SentencePiece / RoundRobinTrim ops resolve. Requests are
checked against the SignatureDef (input names, dtypes, shapes) before the
call, with TF Serving's codes and wording; TensorFlow runtime errors map to
the gRPC code of the same number.
"""

import os
import threading

import numpy as np
import tensorflow as tf

from . import errors

try:  # Registers the TF Text kernels an ALBERT raw-text signature needs.
    import tensorflow_text  # noqa: F401
except ImportError:  # pragma: no cover - serving plain models still works
    tensorflow_text = None

from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import saved_model_pb2

SERVE_TAG = "serve"
DEFAULT_SIGNATURE = "serving_default"
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
MAX_WARMUP_RECORDS = 1000  # TF Serving's limit.


def read_signature_defs(export_dir):
    """SignatureDefs of the "serve" MetaGraph, read from saved_model.pb(txt)."""
    saved_model = saved_model_pb2.SavedModel()
    pb = os.path.join(export_dir, "saved_model.pb")
    if os.path.exists(pb):
        with open(pb, "rb") as f:
            saved_model.ParseFromString(f.read())
    else:
        from google.protobuf import text_format

        with open(os.path.join(export_dir, "saved_model.pbtxt"), encoding="utf-8") as f:
            text_format.Parse(f.read(), saved_model)
    for meta_graph in saved_model.meta_graphs:
        if SERVE_TAG in meta_graph.meta_info_def.tags:
            return dict(meta_graph.signature_def)
    raise errors.failed_precondition(f"No MetaGraph tagged {SERVE_TAG!r} in {export_dir}.")


def _shape_of(tensor_info):
    shape = tensor_info.tensor_shape
    if shape.unknown_rank:
        return None
    return [d.size for d in shape.dim]


class LoadedVersion:
    """A loaded SavedModel version with an in-flight request count.

    The manager hands out a version only while it is AVAILABLE and counts each
    request in `acquire`/`release`; unloading waits in `wait_idle` until every
    request that got this version has finished.
    """

    def __init__(self, model_name, version, path):
        self.model_name = model_name
        self.version = int(version)
        self.path = path
        self.signature_defs = {}
        self._module = None
        self._functions = {}
        self._inflight = 0
        self._idle = threading.Condition()

    def load(self):
        self.signature_defs = read_signature_defs(self.path)
        self._module = tf.saved_model.load(self.path, tags=[SERVE_TAG])
        self._functions = dict(self._module.signatures)

    def unload(self):
        self._functions = {}
        self._module = None

    def acquire(self):
        with self._idle:
            self._inflight += 1

    def release(self):
        with self._idle:
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.notify_all()

    @property
    def inflight(self):
        return self._inflight

    def wait_idle(self, timeout=None):
        with self._idle:
            return self._idle.wait_for(lambda: self._inflight == 0, timeout=timeout)

    def warmup_records(self):
        """Serialized PredictionLog records of assets.extra/tf_serving_warmup_requests."""
        path = os.path.join(self.path, WARMUP_FILE)
        if not os.path.exists(path):
            return []
        records = []
        for record in tf.data.TFRecordDataset(path).take(MAX_WARMUP_RECORDS):
            records.append(record.numpy())
        return records

    # Calling signatures.

    def signature(self, name, *, missing_code="failed_precondition"):
        """The SignatureDef `name` ("" means serving_default); errors as TF Serving."""
        name = name or DEFAULT_SIGNATURE
        if name not in self.signature_defs or name not in self._functions:
            if missing_code == "failed_precondition":
                raise errors.failed_precondition(f'Serving signature key "{name}" not found.')
            raise errors.invalid_argument(f"No signature was found with the name: {name}")
        return name, self.signature_defs[name]

    def check_inputs(self, signature_def, inputs):
        """Checks names, dtypes and shapes of `inputs` (name -> tf.Tensor/ndarray)."""
        expected = signature_def.inputs
        if set(inputs) != set(expected):
            extra = sorted(set(inputs) - set(expected))
            missing = sorted(set(expected) - set(inputs))
            raise errors.invalid_argument(
                f"input size does not match signature: {len(inputs)}!={len(expected)} "
                f"len({{{','.join(sorted(inputs))}}}) != len({{{','.join(sorted(expected))}}}). "
                f"Sent extra: {{{','.join(extra)}}}. Missing but required: {{{','.join(missing)}}}."
            )
        for name, value in inputs.items():
            info = expected[name]
            want = tf.dtypes.as_dtype(info.dtype)
            got = tf.dtypes.as_dtype(value.dtype)
            if want != got:
                raise errors.invalid_argument(
                    f"Expected input {name} to be {_dt(info.dtype)} but got "
                    f"{_dt(got.as_datatype_enum)}."
                )
            shape = _shape_of(info)
            if shape is not None:
                got_shape = list(np.shape(value))
                if len(got_shape) != len(shape) or any(
                    w != -1 and w != g for w, g in zip(shape, got_shape)
                ):
                    raise errors.invalid_argument(
                        f"Input {name} has shape {got_shape}; the signature expects "
                        f"{[d if d != -1 else None for d in shape]} (None = any size)."
                    )

    def run(self, signature_name, inputs, output_filter=()):
        """Runs a signature on checked inputs; returns name -> np.ndarray of the kept outputs."""
        name, signature_def = self.signature(signature_name)
        self.check_inputs(signature_def, inputs)
        keep = _output_names(signature_def, output_filter)
        outputs = self.call(name, inputs)
        return {alias: outputs[alias] for alias in keep}, name

    def call(self, name, inputs):
        function = self._functions[name]
        try:
            outputs = function(**{k: tf.convert_to_tensor(v) for k, v in inputs.items()})
        except tf.errors.OpError as e:
            raise errors.from_number(e.error_code, e.message) from None
        except (TypeError, ValueError) as e:
            raise errors.invalid_argument(f"Signature {name!r} rejected the inputs: {e}") from None
        return {key: value.numpy() for key, value in outputs.items()}


def _dt(enum_value):
    return types_pb2.DataType.Name(enum_value)


def _output_names(signature_def, output_filter):
    if not output_filter:
        return list(signature_def.outputs)
    seen = set()
    for alias in output_filter:
        if alias not in signature_def.outputs:
            raise errors.invalid_argument(
                f"output tensor alias not found in signature: {alias} Outputs expected to be "
                f"in the set {{{','.join(sorted(signature_def.outputs))}}}."
            )
        if alias in seen:
            raise errors.invalid_argument(f"duplicate output tensor alias: {alias}")
        seen.add(alias)
    return list(output_filter)

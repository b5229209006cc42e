"""Which ops a SavedModel needs, and whether TF Serving can run them.

TF Serving 2.21 links TensorFlow's core kernels and every tensorflow-text
kernel of the same minor version, and no Python. A SavedModel is
servable when every op type in its graph (the graph_def and every
function of its library) is a TensorFlow core op or a tensorflow-text
op, and none of them calls back into Python (`py_function`,
`numpy_function`). `check_serving_ops` checks exactly that, without
loading the model; the export code runs it on every model it writes.

Example:
>>> class Lengths(tf.Module):
...     @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
...     def __call__(self, text):
...         return {"lengths": tf.strings.length(text)}
>>> module = Lengths()
>>> tf.saved_model.save(module, "lengths/1", signatures=module.__call__)
>>> "StringLength" in check_serving_ops("lengths/1")
True
"""

import os
import pathlib

import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

# Op types registered by tensorflow-text 2.21 (what `import tensorflow_text`
# adds to the op registry; tests/albert_tf/text/test_saved_model.py recomputes
# it from a fresh process, so a version bump that changes it is caught).
TF_TEXT_OPS = frozenset(
    {
        "CaseFoldUTF8",
        "ConstrainedSequence",
        "FastBertNormalize",
        "FastWordpieceTokenizeWithOffsets",
        "FindSourceOffsets",
        "MaxSpanningTree",
        "NormalizeUTF8",
        "NormalizeUTF8WithOffsetsMap",
        "PhraseTokenize",
        "RegexSplitWithOffsets",
        "RougeL",
        "SentenceFragments",
        "SentenceFragmentsV2",
        "SentencepieceDetokenizeOp",
        "SentencepieceIdToStringOp",
        "SentencepieceOp",
        "SentencepieceStringToIdOp",
        "SentencepieceTokenizeOp",
        "SentencepieceTokenizeWithOffsetsOp",
        "SentencepieceVocabSizeOp",
        "SplitMergeTokenizeWithOffsets",
        "TFText>BoiseTagsToOffsets",
        "TFText>ByteSplitByOffsets",
        "TFText>ByteSplitWithOffsets",
        "TFText>FastSentencepieceDetokenize",
        "TFText>FastSentencepieceTokenize",
        "TFText>FastWordpieceDetokenize",
        "TFText>NgramsStringJoin",
        "TFText>OffsetsToBoiseTags",
        "TFText>PhraseDetokenize",
        "TFText>RoundRobinGenerateMasks",
        "TFText>RoundRobinTrim",
        "TFText>Utf8Binarize",
        "TFText>WhitespaceTokenizeWithOffsetsV2",
        "TokenizerFromLogits",
        "UnicodeScriptTokenizeWithOffsets",
        "WhitespaceTokenizeWithOffsets",
        "WordpieceTokenizeWithOffsets",
    }
)

# Core ops that a model server cannot run: they call into Python.
PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})


def registered_op_types():
    """All op types registered in this process (core + loaded libraries)."""
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.python.client import pywrap_tf_session

    buffer = pywrap_tf_session.TF_GetAllOpList()
    try:
        op_list = op_def_pb2.OpList()
        op_list.ParseFromString(pywrap_tf_session.TF_GetBuffer(buffer))
    finally:
        pywrap_tf_session.TF_DeleteBuffer(buffer)
    return frozenset(op.name for op in op_list.op)


def _graph_defs(source):
    """GraphDefs (with their function libraries) held by `source`."""
    if isinstance(source, (str, os.PathLike)):
        path = pathlib.Path(source)
        pb_path = path / "saved_model.pb" if path.is_dir() else path
        if not pb_path.is_file():
            raise FileNotFoundError(f"No saved_model.pb at {str(pb_path)!r}")
        saved_model = saved_model_pb2.SavedModel()
        saved_model.ParseFromString(pb_path.read_bytes())
        return [meta_graph.graph_def for meta_graph in saved_model.meta_graphs]
    if isinstance(source, tf.compat.v1.GraphDef):
        return [source]
    if hasattr(source, "graph") and hasattr(source.graph, "as_graph_def"):
        return [source.graph.as_graph_def()]
    if hasattr(source, "get_concrete_function"):
        raise TypeError(
            "graph_op_types needs a ConcreteFunction, not a tf.function; "
            "call .get_concrete_function(...) with its input signature first"
        )
    raise TypeError(
        "graph_op_types expects a SavedModel directory, a saved_model.pb path, a GraphDef "
        f"or a ConcreteFunction, got {type(source).__name__}"
    )


def graph_op_types(source):
    """Every op type in a graph and in all functions of its library.

    Args:
        source: a SavedModel directory (or its `saved_model.pb`), a
            `tf.compat.v1.GraphDef`, or a `ConcreteFunction`.

    Returns:
        `set` of op type names. Calls of library functions (node ops that
        name a function of the library) are left out: their bodies are
        listed instead.

    Raises:
        FileNotFoundError: a path without `saved_model.pb`.
        TypeError: `source` is none of the above (e.g. a `tf.function`).

    Example:
    >>> lengths = tf.function(tf.strings.length, autograph=False)
    >>> sorted(graph_op_types(lengths.get_concrete_function(tf.TensorSpec([None], tf.string))))
    ['Identity', 'Placeholder', 'StringLength']
    """
    op_types = set()
    for graph_def in _graph_defs(source):
        functions = {f.signature.name for f in graph_def.library.function}
        op_types.update(node.op for node in graph_def.node)
        for function in graph_def.library.function:
            op_types.update(node.op for node in function.node_def)
        op_types -= functions
    return op_types


def unservable_ops(source, extra_allowed=()):
    """The op types of `source` that TF Serving 2.21 cannot run (sorted list)."""
    op_types = graph_op_types(source)
    core = registered_op_types() - TF_TEXT_OPS
    allowed = (core | TF_TEXT_OPS | frozenset(extra_allowed)) - PYTHON_OPS
    return sorted(op for op in op_types if op not in allowed)


def check_serving_ops(source, extra_allowed=()):
    """Raises if `source` uses an op TF Serving (2.21, with tensorflow-text) lacks.

    Allowed: TensorFlow core ops and tensorflow-text ops; refused: ops
    unknown to this process (custom libraries) and the Python-calling ops
    (`PyFunc`, `PyFuncStateless`, `EagerPyFunc`).

    Args:
        source: as for `graph_op_types`.
        extra_allowed: op types to accept anyway (a server built with
            extra custom kernels).

    Returns:
        The set of op types found (when all are servable).

    Raises:
        ValueError: naming the offending op types.

    Example:
    >>> in_python = tf.function(lambda x: tf.numpy_function(np.sqrt, [x], tf.float32), autograph=False)
    >>> check_serving_ops(in_python.get_concrete_function(tf.TensorSpec([None], tf.float32)))
    Traceback (most recent call last):
    ValueError: Not servable by TF Serving 2.21: op types ['PyFunc'] are neither ...
    """
    bad = unservable_ops(source, extra_allowed)
    if bad:
        python = [op for op in bad if op in PYTHON_OPS]
        hint = (
            f" {python} call Python (tf.py_function / tf.numpy_function), which a model server cannot run;"
            if python
            else ""
        )
        raise ValueError(
            f"Not servable by TF Serving 2.21: op types {bad} are neither TensorFlow core nor "
            f"tensorflow-text ops.{hint} Rewrite those parts with TensorFlow / tensorflow-text ops."
        )
    return graph_op_types(source)

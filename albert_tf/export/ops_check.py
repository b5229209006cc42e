"""Checks that an exported graph uses only ops TF Serving 2.21 links.

`tensorflow_model_server` 2.21 links TensorFlow 2.21's core ops and the
tensorflow-text 2.21 kernels (SentencePiece, RoundRobinTrim, ...). Anything
else (a custom op library, or a `tf.py_function` whose kernel exists only
inside a Python process) makes the server fail at load time with "Op type
not registered". The allowlist is the file `serving_ops_tf2.21.txt` beside
this module, pinned to the server we target rather than to whatever
TensorFlow runs the export; `python -m albert_tf.export.ops_check
--regenerate` rebuilds it from the installed tensorflow + tensorflow-text.

Example:
>>> from albert_tf.export import check_serving_ops
>>> check_serving_ops("exported/sentiment/1")  # raises UnservableOpError on a bad op
"""

import argparse
import functools
import os
import pathlib
import subprocess
import sys
import tempfile

SERVING_VERSION = "2.21"
ALLOWLIST_FILE = pathlib.Path(__file__).with_name(f"serving_ops_tf{SERVING_VERSION}.txt")

# Registered in TensorFlow core (so the server knows the op), but their
# kernels call back into the Python interpreter: no server can run them.
PYTHON_ONLY_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})


class UnservableOpError(ValueError):
    """The graph holds op types that TF Serving cannot run."""


@functools.lru_cache(maxsize=None)
def serving_ops():
    """The frozenset of op types TF Serving 2.21 links (core + tensorflow-text)."""
    names = set()
    for line in ALLOWLIST_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.add(line)
    return frozenset(names - PYTHON_ONLY_OPS)


def graph_op_types(graph):
    """Op types used by a graph: its nodes and every function of its library.

    Args:
        graph: a `tf.compat.v1.GraphDef`, a `MetaGraphDef`, a `SavedModel`
            proto, or the path of a SavedModel directory.

    Returns:
        {op_type: sorted list of "node" or "function <name>" where it occurs}.
    """
    from tensorflow.core.protobuf import saved_model_pb2

    if isinstance(graph, (str, os.PathLike)):
        pb = pathlib.Path(graph) / "saved_model.pb"
        if not pb.is_file():
            raise FileNotFoundError(f"No saved_model.pb in {graph}")
        graph = saved_model_pb2.SavedModel.FromString(pb.read_bytes())
    graph_defs = []
    if hasattr(graph, "meta_graphs"):
        graph_defs = [m.graph_def for m in graph.meta_graphs]
    elif hasattr(graph, "graph_def"):
        graph_defs = [graph.graph_def]
    elif hasattr(graph, "node") and hasattr(graph, "library"):
        graph_defs = [graph]
    else:
        raise TypeError(
            f"Expected a GraphDef, MetaGraphDef, SavedModel proto or SavedModel directory, "
            f"got {type(graph).__name__}"
        )
    where = {}
    function_names = set()
    for graph_def in graph_defs:
        for node in graph_def.node:
            where.setdefault(node.op, set()).add("graph")
        for function in graph_def.library.function:
            for node in function.node_def:
                where.setdefault(node.op, set()).add(f"function {function.signature.name}")
            function_names.add(function.signature.name)
    # Calls of library functions appear as nodes whose "op" is the function name.
    return {
        op: sorted(places) for op, places in where.items() if op not in function_names
    }


def check_serving_ops(graph):
    """Raises `UnservableOpError` naming every op TF Serving 2.21 does not link.

    Args:
        graph: what `graph_op_types` accepts (a SavedModel directory usually).

    Returns:
        The sorted list of op types found (all servable).
    """
    used = graph_op_types(graph)
    allowed = serving_ops()
    bad = {op: places for op, places in used.items() if op not in allowed}
    if bad:
        lines = []
        for op, places in sorted(bad.items()):
            why = (
                "its kernel runs Python (tf.py_function / tf.numpy_function)"
                if op in PYTHON_ONLY_OPS
                else "not a TensorFlow core or tensorflow-text op"
            )
            shown = ", ".join(places[:3]) + (" ..." if len(places) > 3 else "")
            lines.append(f"  {op}: {why}; used in {shown}")
        raise UnservableOpError(
            f"The graph uses {len(bad)} op type(s) that TF Serving {SERVING_VERSION} "
            "(TensorFlow core + tensorflow-text) cannot run:\n" + "\n".join(lines)
        )
    return sorted(used)


_LIST_OPS = r"""
import sys
from tensorflow.core.framework import op_def_pb2
from tensorflow.python.client import pywrap_tf_session as c_api

def registered():
    buf = c_api.TF_GetAllOpList()
    try:
        ops = op_def_pb2.OpList.FromString(c_api.TF_GetBuffer(buf))
    finally:
        c_api.TF_DeleteBuffer(buf)
    return {op.name for op in ops.op}

core = registered()
import tensorflow_text  # noqa: F401  (registers its kernels' ops)
text = registered() - core
import tensorflow as tf
print(tf.__version__, tensorflow_text.__version__)
for name in sorted(core):
    print("core", name)
for name in sorted(text):
    print("text", name)
"""


def regenerate(path=ALLOWLIST_FILE):
    """Rewrites the allowlist from the installed tensorflow + tensorflow-text.

    Runs in a fresh interpreter so that only TensorFlow's own ops count as
    core (this process may have loaded other op libraries).
    """
    result = subprocess.run(
        [sys.executable, "-c", _LIST_OPS], capture_output=True, text=True, check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    lines = result.stdout.splitlines()
    tf_version, text_version = lines[0].split()
    core = [line[5:] for line in lines[1:] if line.startswith("core ")]
    text = [line[5:] for line in lines[1:] if line.startswith("text ")]
    body = [
        f"# Op types TF Serving {SERVING_VERSION} links: TensorFlow {tf_version} core "
        f"({len(core)}) + tensorflow-text {text_version} ({len(text)}).",
        "# Generated by `python -m albert_tf.export.ops_check --regenerate`; do not edit.",
        "# Python-kernel ops (PyFunc, PyFuncStateless, EagerPyFunc) are refused separately.",
        *core,
        "# tensorflow-text",
        *text,
    ]
    path = pathlib.Path(path)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as f:
        f.write("\n".join(body) + "\n")
    os.replace(f.name, path)
    serving_ops.cache_clear()
    return core, text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("saved_models", nargs="*", help="SavedModel directories to check")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the allowlist file")
    args = parser.parse_args(argv)
    if args.regenerate:
        core, text = regenerate()
        print(f"wrote {ALLOWLIST_FILE}: {len(core)} core + {len(text)} tensorflow-text ops")
    status = 0
    for directory in args.saved_models:
        try:
            ops = check_serving_ops(directory)
            print(f"{directory}: OK ({len(ops)} op types)")
        except UnservableOpError as e:
            print(f"{directory}: {e}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())

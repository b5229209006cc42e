"""The tokenizer + packer exported as a SavedModel reload with only tensorflow_text."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from albert_tf.text import AlbertPreprocessor, check_serving_ops, graph_op_types
from albert_tf.text.ops_check import TF_TEXT_OPS, registered_op_types, unservable_ops

TEXTS = ["Hello World, 1,000,000 times!", "Zoë's café ``rocks''", "", "日本 😀 tabs\tand  spaces"]


@pytest.fixture(scope="module")
def exported(tokenizer, tmp_path_factory):
    directory = tmp_path_factory.mktemp("pre") / "1"
    module = tf.Module()
    module.pre = AlbertPreprocessor(tokenizer, seq_length=24)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve(texts):
        return module.pre(texts)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.string)])
    def serve_pairs(a, b):
        return module.pre(a, b)

    module.serve, module.serve_pairs = serve, serve_pairs
    tf.saved_model.save(module, str(directory), signatures={"serving_default": serve, "pairs": serve_pairs})
    expected = {k: v.numpy() for k, v in module.pre(tf.constant(TEXTS)).items()}
    return directory, expected


def test_reload_in_fresh_process_gives_identical_ids(exported, tmp_path):
    directory, expected = exported
    script = textwrap.dedent(f"""
        import numpy as np
        import tensorflow as tf, tensorflow_text  # noqa: F401
        loaded = tf.saved_model.load({str(directory)!r})
        out = loaded.signatures["serving_default"](texts=tf.constant({TEXTS!r}))
        np.savez({str(tmp_path / "out.npz")!r}, **{{k: v.numpy() for k, v in out.items()}})
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    got = np.load(tmp_path / "out.npz")
    assert set(got.files) == set(expected)
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])


def test_op_check_passes_on_export(exported):
    directory, _ = exported
    ops = check_serving_ops(directory)
    assert {"SentencepieceOp", "SentencepieceTokenizeOp", "NormalizeUTF8"} <= ops
    assert "TFText>RoundRobinTrim" not in ops  # closed-form trimming: servable by older servers too


def test_op_check_rejects_py_function_and_unknown_ops(tokenizer, tmp_path):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def bad(texts):
        ids = tokenizer.tokenize(texts).flat_values
        return tf.py_function(lambda x: x * 2, [ids], tf.int32)

    concrete = bad.get_concrete_function()
    assert "EagerPyFunc" in graph_op_types(concrete)
    with pytest.raises(ValueError, match="EagerPyFunc.*call Python"):
        check_serving_ops(concrete)

    graph_def = tf.function(lambda: tf.constant(1)).get_concrete_function().graph.as_graph_def()
    node = graph_def.node.add()
    node.name, node.op = "custom", "MyCustomKernelOp"
    assert unservable_ops(graph_def) == ["MyCustomKernelOp"]
    with pytest.raises(ValueError, match="MyCustomKernelOp"):
        check_serving_ops(graph_def)
    assert check_serving_ops(graph_def, extra_allowed=["MyCustomKernelOp"])
    with pytest.raises(FileNotFoundError):
        graph_op_types(tmp_path / "missing")
    with pytest.raises(TypeError, match="ConcreteFunction, not a tf.function"):
        graph_op_types(bad)


def test_tf_text_op_list_is_current():
    """TF_TEXT_OPS is exactly what `import tensorflow_text` registers."""
    script = textwrap.dedent("""
        import tensorflow as tf
        from albert_tf.text.ops_check import registered_op_types
        before = registered_op_types()
        import tensorflow_text  # noqa: F401
        print(sorted(registered_op_types() - before))
    """)
    # albert_tf.text imports tensorflow_text itself, so load ops_check by path.
    script = script.replace(
        "from albert_tf.text.ops_check import registered_op_types",
        "import importlib.util as u; s = u.spec_from_file_location('oc', "
        f"{str(__import__('albert_tf.text.ops_check', fromlist=['x']).__file__)!r}); "
        "m = u.module_from_spec(s); s.loader.exec_module(m); registered_op_types = m.registered_op_types",
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert eval(result.stdout.strip().splitlines()[-1]) == sorted(TF_TEXT_OPS)
    assert TF_TEXT_OPS <= registered_op_types()

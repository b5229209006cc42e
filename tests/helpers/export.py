"""Export test helpers: a fresh-process runner, array comparison, long QA contexts.

Exported SavedModels must load where albert_tf and Keras are absent (TF
Serving, a plain TF client), so reloads run in a subprocess that imports
only what the script names, and exchange arrays through pickle files.
"""

import gzip
import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np


def run_fresh(script, payload, tmp_path, env=None, timeout=300):
    """Runs `script` in a fresh interpreter with `payload` and returns its result.

    The script sees `payload` (unpickled) as the global `PAYLOAD` and must
    assign the global `RESULT`; both travel as pickle files.
    """
    inputs, outputs = tmp_path / "payload.pkl", tmp_path / "result.pkl"
    inputs.write_bytes(pickle.dumps(payload))
    program = (
        "import pickle, sys\n"
        f"PAYLOAD = pickle.loads(open({str(inputs)!r}, 'rb').read())\n"
        + textwrap.dedent(script)
        + f"\nopen({str(outputs)!r}, 'wb').write(pickle.dumps(RESULT))\n"
    )
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=full_env, timeout=timeout
    )
    if done.returncode != 0:
        raise AssertionError(f"fresh process failed:\n{done.stderr[-4000:]}")
    return pickle.loads(outputs.read_bytes())


def assert_close(actual, expected, atol=1e-6, what=""):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if actual.dtype.kind in "OSU":
        assert actual.tolist() == expected.tolist(), f"{what}: {actual!r} != {expected!r}"
    else:
        np.testing.assert_allclose(actual, expected, atol=atol, rtol=0, err_msg=what)


def long_contexts(count):
    """The `count` shortest shipped Disfl-QA contexts of 600+ characters (many QA windows)."""
    from albert_tf import resources

    with gzip.open(resources.path("disfl_qa.jsonl.gz"), "rt", encoding="utf-8") as f:
        contexts = {json.loads(line)["context"] for line in f}
    return sorted((c for c in contexts if len(c) >= 600), key=lambda c: (len(c), c))[:count]

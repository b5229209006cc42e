"""Every `>>>` example in a public docstring of albert_tf, training, serving
and pipeline runs here, as a doctest: its printed results must match.

Each docstring runs in a fresh temporary working directory (examples write
`runs/...`, `models/...` freely) with the module's own globals plus the
names an example may use without importing them: `albert_tf` and its public
names, `keras`, `tf`, `np`, `pathlib`, `json`.
"""

import doctest
import importlib
import json
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("albert_tf", "training", "serving", "pipeline")


def _module_names():
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__main__":
                continue
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _examples():
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = []
    for name in _module_names():
        if "._" in name:  # private modules document no public API
            continue
        module = importlib.import_module(name)
        for test in finder.find(module, name):
            if test.examples and not test.name.rpartition(".")[2].startswith("_"):
                found.append(test)
    return sorted(found, key=lambda t: t.name)


def _globals():
    import keras
    import numpy as np
    import tensorflow as tf

    import albert_tf

    names = {name: getattr(albert_tf, name) for name in albert_tf.__all__}
    names.update(albert_tf=albert_tf, keras=keras, tf=tf, np=np, pathlib=pathlib, json=json)
    return names


EXAMPLES = _examples()


@pytest.mark.parametrize("test", EXAMPLES, ids=[t.name for t in EXAMPLES])
def test_docstring_example(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    test.globs = {**test.globs, **_globals()}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures = []
    runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)


def test_examples_are_found():
    names = {t.name for t in EXAMPLES}
    assert "albert_tf.saving.atomic_write" in names

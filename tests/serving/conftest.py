"""Fixtures shared by the serving tests (helpers live in serving_test_helpers.py)."""

import os
import sys

import pytest

# The test modules import serving_test_helpers.py beside this file (importlib mode).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from serving_test_helpers import write_text_model  # noqa: E402


@pytest.fixture(scope="session")
def text_model_base(tmp_path_factory):
    """A base path holding version 1 of the tiny text model (bias 0)."""
    base = str(tmp_path_factory.mktemp("models") / "albert")
    write_text_model(base, 1, bias=0.0)
    return base

"""Shared fixtures of the export tests."""

import os
import sys

import pytest

# The test modules import export_test_helpers.py beside this file (importlib mode).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def tokenizer():
    from albert_tf.text import AlbertTokenizer

    return AlbertTokenizer()

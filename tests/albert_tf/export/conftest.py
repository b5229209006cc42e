"""Shared fixtures of the export tests."""

import pytest


@pytest.fixture(scope="session")
def tokenizer():
    from albert_tf.text import AlbertTokenizer

    return AlbertTokenizer()

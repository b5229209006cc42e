"""Fixtures shared by the serving tests (helpers live in tests/helpers/serving.py)."""

import pytest

from tests.helpers.serving import write_text_model


@pytest.fixture(scope="session")
def text_model_base(tmp_path_factory):
    """A base path holding version 1 of the tiny text model (bias 0)."""
    base = str(tmp_path_factory.mktemp("models") / "albert")
    write_text_model(base, 1, bias=0.0)
    return base

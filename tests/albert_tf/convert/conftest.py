"""Shared fixtures of the converter tests (helpers live in tests/helpers/convert.py)."""

import pytest

from tests.helpers.convert import CONFIG_NAMES, make_hf_model


@pytest.fixture(scope="session")
def hf_pretraining_models():
    """{config name: random AlbertForPreTraining}, built once per session."""
    return {name: make_hf_model(name) for name in CONFIG_NAMES}

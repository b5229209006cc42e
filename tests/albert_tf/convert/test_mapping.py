"""What every converter shares: the task a source converts into, and the model built for it."""

import pytest

from albert_tf import PRESETS, AlbertBackbone, AlbertClassifier
from albert_tf.convert import TASKS, ConversionError
from albert_tf.convert._mapping import build_model, check_task
from albert_tf.tasks import TASK_NAMES


def test_tasks_are_auto_plus_the_registry_names():
    assert TASKS == ("auto",) + TASK_NAMES


def test_check_task_resolves_auto_backbone_and_old_names():
    assert check_task("auto", "regression", "src") == "regression"
    assert check_task(None, "pretraining", "src") == "pretraining"
    assert check_task("auto", "pretraining", "src", auto="backbone") == "backbone"
    assert check_task("backbone", "span_qa", "src") == "backbone"
    with pytest.warns(FutureWarning, match="'token_classifier' is deprecated"):
        assert check_task("token_classifier", "token_classification", "src") == "token_classification"


def test_check_task_refuses_a_head_the_source_lacks():
    with pytest.raises(ConversionError, match=r"src carries a 'classification' model, so it cannot be "
                                              r"converted into task 'regression' \(only 'classification' "
                                              r"or 'backbone'\)"):
        check_task("regression", "classification", "src")
    with pytest.raises(ValueError, match="Unknown task 'sentiment'; expected one of"):
        check_task("sentiment", "classification", "src")


def test_build_model_goes_through_the_registry():
    config = PRESETS["albert_tiny"].replace(vocab_size=100)
    model = build_model(config, "regression", num_classes=1, dropout=0.0)
    assert isinstance(model, AlbertClassifier) and model.task_name == "regression"
    assert model.output_dense.name == "predictions" and model.dropout == 0.0
    assert isinstance(build_model(config, "backbone", num_classes=3), AlbertBackbone)

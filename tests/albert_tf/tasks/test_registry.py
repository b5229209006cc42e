"""The task registry: one vocabulary of task names, each built into its model class with its head."""

import pytest

from albert_tf import (
    PRESETS,
    AlbertBackbone,
    AlbertClassifier,
    AlbertMultipleChoice,
    AlbertPretrainer,
    AlbertSpanQA,
    AlbertTokenClassifier,
)
from albert_tf.tasks import (
    TASK_NAMES,
    build_task_model,
    canonical_task_name,
    task_model_class,
    task_name_of,
)

CONFIG = PRESETS["albert_tiny"].replace(vocab_size=100, num_hidden_layers=1)

# task name -> (class, head arguments given, expected head: attribute -> value)
EXPECTED = {
    "backbone": (AlbertBackbone, {}, {}),
    "pretraining": (AlbertPretrainer, {}, {}),
    "classification": (AlbertClassifier, {"num_classes": 3, "dropout": 0.2},
                       {"num_classes": 3, "dropout": 0.2, "problem_type": "classification"}),
    "regression": (AlbertClassifier, {"num_classes": 1, "dropout": 0.0},
                   {"num_classes": 1, "dropout": 0.0, "problem_type": "regression"}),
    "token_classification": (AlbertTokenClassifier, {"num_classes": 5, "dropout": 0.3},
                             {"num_classes": 5, "dropout": 0.3}),
    "span_qa": (AlbertSpanQA, {}, {}),
    "multiple_choice": (AlbertMultipleChoice, {"dropout": 0.0}, {"dropout": 0.0}),
}
OUTPUT_UNITS = {"classification": 3, "regression": 1, "token_classification": 5}


def test_the_vocabulary():
    assert TASK_NAMES == ("backbone", "pretraining", "classification", "regression",
                          "token_classification", "span_qa", "multiple_choice")


@pytest.mark.parametrize("name", TASK_NAMES)
def test_every_name_builds_its_class_with_its_head(name):
    cls, head_args, head = EXPECTED[name]
    backbone = AlbertBackbone(CONFIG)
    model = build_task_model(name, backbone, **head_args)
    assert type(model) is cls and task_model_class(name) is cls
    assert model is backbone if cls is AlbertBackbone else model.backbone is backbone
    for attribute, value in head.items():
        assert getattr(model, attribute) == value
    if name in OUTPUT_UNITS:
        assert model.output_dense.units == OUTPUT_UNITS[name]
    assert model.task_name == name
    assert task_name_of(model) == name


def test_head_arguments_another_task_takes_are_ignored_and_unknown_ones_raise():
    backbone = AlbertBackbone(CONFIG)
    span_qa = build_task_model("span_qa", backbone, num_classes=4, dropout=0.5)
    assert isinstance(span_qa, AlbertSpanQA)
    with pytest.raises(TypeError, match=r"Unknown head argument\(s\) \['num_labels'\]"):
        build_task_model("classification", backbone, num_labels=3)
    with pytest.raises(TypeError, match="backbone must be an AlbertBackbone"):
        build_task_model("span_qa", span_qa)
    with pytest.raises(ValueError, match="num_classes must be a positive int, got 0"):
        build_task_model("token_classification", backbone, num_classes=0)


@pytest.mark.parametrize(
    "model_fn, name",
    [
        (lambda b: b, "backbone"),
        (AlbertPretrainer, "pretraining"),
        (lambda b: AlbertClassifier(b, 4), "classification"),
        (lambda b: AlbertClassifier(b, 2, problem_type="regression"), "regression"),
        (lambda b: AlbertTokenClassifier(b, 3), "token_classification"),
        (AlbertSpanQA, "span_qa"),
        (AlbertMultipleChoice, "multiple_choice"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_task_name_of_round_trips_through_the_registry(model_fn, name):
    model = model_fn(AlbertBackbone(CONFIG))
    assert task_name_of(model) == name
    rebuilt = build_task_model(task_name_of(model), AlbertBackbone(CONFIG),
                               num_classes=getattr(model, "num_classes", None) or 1)
    assert type(rebuilt) is type(model) and task_name_of(rebuilt) == name


def test_task_name_survives_keras_serialization(tmp_path):
    import keras

    model = AlbertClassifier(AlbertBackbone(CONFIG), 1, problem_type="regression")
    model.save(tmp_path / "regression.keras")
    assert task_name_of(keras.models.load_model(tmp_path / "regression.keras")) == "regression"


@pytest.mark.parametrize(
    "old, new",
    [("pretrainer", "pretraining"), ("classifier", "classification"),
     ("token_classifier", "token_classification")],
)
def test_old_names_warn_and_map(old, new):
    with pytest.warns(FutureWarning, match=f"task name '{old}' is deprecated; use '{new}'"):
        assert canonical_task_name(old) == new
    with pytest.warns(FutureWarning):
        assert task_model_class(old) is EXPECTED[new][0]
    with pytest.warns(FutureWarning):
        assert task_name_of(build_task_model(old, AlbertBackbone(CONFIG), num_classes=2)) == new


def test_new_names_do_not_warn(recwarn):
    for name in TASK_NAMES:
        assert canonical_task_name(name) == name
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)]


def test_unknown_name_raises_naming_the_choices():
    with pytest.raises(ValueError, match=r"Unknown task 'sentiment'; expected one of \('backbone', "
                                         r"'pretraining', 'classification', 'regression'"):
        canonical_task_name("sentiment")
    with pytest.raises(ValueError, match="Unknown task 'qa'"):
        build_task_model("qa", AlbertBackbone(CONFIG))


def test_task_name_of_a_non_model_raises():
    with pytest.raises(TypeError, match="expects an albert_tf task model .* got dict"):
        task_name_of({})


def test_span_qa_has_the_original_squad_v2_head_as_a_variant():
    from albert_tf import AlbertSpanQAV2

    backbone = AlbertBackbone(CONFIG)
    assert task_model_class("span_qa") is AlbertSpanQA  # the default head is unchanged
    assert task_model_class("span_qa", variant="squad_v2") is AlbertSpanQAV2
    model = build_task_model("span_qa", backbone, variant="squad_v2", start_n_top=3, end_n_top=2,
                             dropout=0.0, num_classes=7)  # num_classes: another head's argument
    assert type(model) is AlbertSpanQAV2 and (model.start_n_top, model.end_n_top, model.dropout) == (3, 2, 0.0)
    assert model.task_name == task_name_of(model) == "span_qa"
    rebuilt = AlbertSpanQAV2.from_config(model.get_config())
    assert (rebuilt.start_n_top, rebuilt.end_n_top) == (3, 2)
    with pytest.raises(ValueError, match=r"Task 'classification' has no variant 'squad_v2'; its variants: none"):
        build_task_model("classification", backbone, variant="squad_v2")
    with pytest.raises(ValueError, match=r"Task 'span_qa' has no variant 'v3'; its variants: \['squad_v2'\]"):
        task_model_class("span_qa", variant="v3")
    with pytest.raises(ValueError, match="start_n_top must be a positive int, got 0"):
        build_task_model("span_qa", backbone, variant="squad_v2", start_n_top=0)

"""The task registry: one vocabulary of task names, one way to build a task model.

Every model class declares the task names it serves and the constructor
arguments of its head (`task_names`, `head_args`, `task_arg`, `variant`; see
`AlbertTask`); the registry is built from those declarations, so adding a
task is adding a class, and no other module switches on task names.

    backbone               AlbertBackbone         (no head)
    pretraining            AlbertPretrainer       (no head arguments)
    classification         AlbertClassifier       num_classes, dropout
    regression             AlbertClassifier       num_classes, dropout
    token_classification   AlbertTokenClassifier  num_classes, dropout
    span_qa                AlbertSpanQA           (no head arguments)
      variant "squad_v2"   AlbertSpanQAV2         start_n_top, end_n_top, dropout
    multiple_choice        AlbertMultipleChoice   dropout

A variant is another head for the same task (the original run_squad_v2
head for span_qa); `build_task_model(..., variant=...)` picks it.

The older spellings "pretrainer", "classifier" and "token_classifier" are
still accepted, with a warning.
"""

import warnings

from albert_tf.backbone import AlbertBackbone
from albert_tf.tasks.classifier import AlbertClassifier
from albert_tf.tasks.multiple_choice import AlbertMultipleChoice
from albert_tf.tasks.pretrainer import AlbertPretrainer
from albert_tf.tasks.span_qa import AlbertSpanQA, AlbertSpanQAV2
from albert_tf.tasks.token_classifier import AlbertTokenClassifier

_CLASSES = (
    AlbertBackbone,
    AlbertPretrainer,
    AlbertClassifier,
    AlbertTokenClassifier,
    AlbertSpanQA,
    AlbertSpanQAV2,
    AlbertMultipleChoice,
)
# (task name, variant) -> class; variant None is the task's default head.
_CLASS_OF = {(name, cls.variant): cls for cls in _CLASSES for name in cls.task_names}

TASK_NAMES = tuple(dict.fromkeys(name for name, _ in _CLASS_OF))

_OLD_NAMES = {
    "pretrainer": "pretraining",
    "classifier": "classification",
    "token_classifier": "token_classification",
}

# Every head argument some task takes; any other keyword is a mistake.
_HEAD_ARGS = {arg for cls in _CLASSES for arg in cls.head_args}


def canonical_task_name(name):
    """The registry spelling of task `name`; old spellings warn and map.

    Raises:
        ValueError: an unknown name (the message lists the choices).

    Example:
    >>> canonical_task_name("span_qa")
    'span_qa'
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     canonical_task_name("classifier")
    'classification'
    >>> str(caught[0].message)
    "task name 'classifier' is deprecated; use 'classification'"
    """
    if name in TASK_NAMES:
        return name
    if name in _OLD_NAMES:
        warnings.warn(
            f"task name {name!r} is deprecated; use {_OLD_NAMES[name]!r}", FutureWarning, stacklevel=2
        )
        return _OLD_NAMES[name]
    raise ValueError(f"Unknown task {name!r}; expected one of {TASK_NAMES}")


def task_model_class(name, variant=None):
    """The model class that serves task `name` (old spellings warn and map).

    Args:
        name: a task name.
        variant: None for the task's default head, or a variant name.

    Raises:
        ValueError: an unknown name, or a variant the task does not have.

    Example:
    >>> task_model_class("regression").__name__
    'AlbertClassifier'
    >>> task_model_class("span_qa", variant="squad_v2").__name__
    'AlbertSpanQAV2'
    """
    name = canonical_task_name(name)
    if (name, variant) not in _CLASS_OF:
        variants = sorted(v for task, v in _CLASS_OF if task == name and v is not None)
        raise ValueError(
            f"Task {name!r} has no variant {variant!r}; its variants: {variants or 'none'}"
        )
    return _CLASS_OF[(name, variant)]


def task_name_of(model):
    """The registry task name of an albert_tf model instance.

    Raises:
        TypeError: `model` is not an albert_tf backbone or task model.

    Example:
    >>> backbone = AlbertBackbone.from_preset("albert_tiny")
    >>> task_name_of(AlbertClassifier(backbone, 1, problem_type="regression"))
    'regression'
    >>> task_name_of(backbone)
    'backbone'
    """
    if not isinstance(model, _CLASSES):
        raise TypeError(
            "task_name_of expects an albert_tf task model "
            f"({', '.join(cls.__name__ for cls in _CLASSES[1:])}) or an AlbertBackbone, "
            f"got {type(model).__name__}"
        )
    return model.task_name


def build_task_model(name, backbone, variant=None, **head_args):
    """Builds the model of task `name` on `backbone`.

    Args:
        name: a task name of `TASK_NAMES` (old spellings warn and map).
        backbone: the `AlbertBackbone` the head goes on; "backbone" returns
            it unchanged.
        variant: None for the task's default head, or another head of the
            task ("squad_v2" for span_qa).
        **head_args: head constructor arguments (`num_classes`, `dropout`,
            `start_n_top`, `end_n_top`). Those another head takes are
            ignored here, so one call site can build any task.

    Returns:
        The model; its `task_name` is `name` (canonical).

    Raises:
        ValueError: an unknown task name or variant, or a head argument with
            a bad value.
        TypeError: `backbone` is not an `AlbertBackbone`, or a keyword that is
            no task's head argument.

    Example:
    >>> backbone = AlbertBackbone.from_preset("albert_tiny")
    >>> model = build_task_model("regression", backbone, num_classes=1, dropout=0.0)
    >>> type(model).__name__, model.problem_type, model.num_classes
    ('AlbertClassifier', 'regression', 1)
    >>> build_task_model("backbone", backbone, num_classes=3) is backbone
    True
    >>> type(build_task_model("span_qa", backbone, variant="squad_v2", start_n_top=3)).__name__
    'AlbertSpanQAV2'
    """
    name = canonical_task_name(name)
    cls = task_model_class(name, variant)
    unknown = sorted(set(head_args) - _HEAD_ARGS)
    if unknown:
        raise TypeError(f"Unknown head argument(s) {unknown}; task heads take {sorted(_HEAD_ARGS)}")
    if not isinstance(backbone, AlbertBackbone):
        raise TypeError(f"backbone must be an AlbertBackbone, got {type(backbone).__name__}")
    if cls is AlbertBackbone:
        return backbone
    args = {key: value for key, value in head_args.items() if key in cls.head_args}
    if cls.task_arg:
        args[cls.task_arg] = name
    return cls(backbone, **args)

"""What every converter shares: name-map entries, validation, assignment.

A format module builds a list of `Entry` (its one explicit name map) and a
`TensorSource` over the external tensors; `apply_name_map` then checks
everything (missing tensors, shapes, dtypes, finiteness, unused tensors)
BEFORE any variable of the albert_tf model is touched, so a bad checkpoint
fails with an error naming the tensor and leaves no half-converted model.
"""

import dataclasses
import logging
import re
import warnings

import numpy as np

from albert_tf.backbone import AlbertBackbone
from albert_tf.config import AlbertConfig
from albert_tf.tasks.registry import TASK_NAMES, build_task_model, canonical_task_name

logger = logging.getLogger("albert_tf.convert")

# What a converter can build (the task registry's names); "auto" picks the
# head the source carries.
TASKS = ("auto",) + TASK_NAMES

# Names that are training state, not model weights: skipped (and counted in
# the report). The rule: a name ending in `global_step`, `beta1_power`,
# `beta2_power`, `good_steps`, `loss_scale` or `current_loss_scale`, or an
# optimizer slot `<variable>/{adam_m, adam_v, Adam, Adam_1, Momentum, LAMB,
# LAMB_1, ExponentialMovingAverage}` (GR's LAMB/Adam, tf.compat.v1
# optimizers), or the TF2 object graph. Every other tensor is a weight: it
# is converted, dropped as a head another albert_tf model holds, or refused.
_TRAINING_STATE = re.compile(
    r"(^|/)(global_step|beta1_power|beta2_power|good_steps|loss_scale|current_loss_scale)$"
    r"|/(adam_m|adam_v|Adam|Adam_1|Momentum|LAMB|LAMB_1|ExponentialMovingAverage)$"
    r"|^_CHECKPOINTABLE_OBJECT_GRAPH$"
)


class ConversionError(ValueError):
    """A source checkpoint does not fit the albert_tf model it should fill."""


def is_training_state(name):
    """True for optimizer slots, step counters and similar non-weights."""
    return bool(_TRAINING_STATE.search(name))


@dataclasses.dataclass(frozen=True)
class Entry:
    """One line of a name map: external tensor -> albert_tf variable.

    Attributes:
        source: the tensor's name in the external format.
        target: the albert_tf variable path (`variable.path`).
        shape: the shape the source tensor must have (from the config).
        transpose: the source is [out, in] (PyTorch Linear, or GR's
            `output_weights`); it is transposed before reshaping.
        aliases: other names the same tensor has had in older releases.
    """

    source: str
    target: str
    shape: tuple
    transpose: bool = False
    aliases: tuple = ()


@dataclasses.dataclass
class TensorSource:
    """Read access to the tensors of an external checkpoint.

    Attributes:
        shapes: {name: shape tuple} of every tensor the source holds.
        dtypes: {name: numpy dtype (or a name for dtypes numpy lacks)}.
        read: callable(name) -> numpy array.
        description: how errors refer to the source (e.g. its path).
    """

    shapes: dict
    dtypes: dict
    read: object
    description: str

    @classmethod
    def from_arrays(cls, arrays, description):
        arrays = dict(arrays)
        return cls(
            shapes={k: tuple(v.shape) for k, v in arrays.items()},
            dtypes={k: v.dtype for k, v in arrays.items()},
            read=arrays.__getitem__,
            description=description,
        )


@dataclasses.dataclass
class ConversionReport:
    """What a conversion did, for the CLI and for logs.

    Attributes:
        source: the source's description (its path, or the object's class).
        format: the external format's name.
        task: the task registry name of the model built.
        converted: source tensors assigned.
        skipped_training_state: optimizer slots and step counters skipped.
        dropped_heads: head tensors the task has no use for.
        unused: tensors that are no ALBERT weight (with allow_unused).
        left_initialized: model variables the source does not hold.
    """

    source: str
    format: str
    task: str
    converted: list = dataclasses.field(default_factory=list)
    skipped_training_state: list = dataclasses.field(default_factory=list)
    dropped_heads: list = dataclasses.field(default_factory=list)
    unused: list = dataclasses.field(default_factory=list)
    left_initialized: list = dataclasses.field(default_factory=list)

    def summary(self):
        lines = [
            f"converted {len(self.converted)} tensors from {self.format} source "
            f"{self.source} into an albert_tf {self.task!r} model",
        ]
        if self.skipped_training_state:
            lines.append(f"skipped {len(self.skipped_training_state)} optimizer/step tensors")
        if self.dropped_heads:
            lines.append(f"dropped head tensors (task {self.task!r} has no use for them): "
                         f"{self.dropped_heads}")
        if self.unused:
            lines.append(f"UNUSED tensors (not part of ALBERT as this format defines it): {self.unused}")
        if self.left_initialized:
            lines.append(f"left freshly initialized (absent from the source): {self.left_initialized}")
        return "\n".join(lines)


def resolve_config(config):
    """Accepts an `AlbertConfig`, a dict, a preset name or a JSON path."""
    if config is None or isinstance(config, AlbertConfig):
        return config
    if isinstance(config, dict):
        return AlbertConfig.from_dict(config)
    config = str(config)
    if config.endswith(".json"):
        return AlbertConfig.from_json_file(config)
    return AlbertConfig.from_preset(config)


def build_model(config, task, num_classes=None, dropout=0.1, variant=None):
    """Builds the albert_tf model of `task` that a converter fills (random weights).

    Returns the model; for "backbone" that is an `AlbertBackbone`. `variant`
    picks another head of the task (see `build_task_model`). Head arguments
    the task's head does not take are ignored.
    """
    return build_task_model(task, AlbertBackbone(config), variant=variant,
                            num_classes=num_classes, dropout=dropout)


def check_task(task, available, description, auto=None):
    """Resolves the requested `task` against the head the source carries.

    Args:
        task: "auto" (or None), or a task name (old spellings warn and map).
        available: the task of the model the source holds.
        description: how errors refer to the source.
        auto: what "auto" means; default `available`.

    Returns:
        The canonical task name: `available`, or "backbone" (any source's
        encoder alone).

    Raises:
        ValueError: an unknown task name.
        ConversionError: a task whose head the source does not carry.
    """
    if task is None or task == "auto":
        return auto or available
    task = canonical_task_name(task)
    convertible = (available, "backbone")
    if task not in convertible:
        raise ConversionError(
            f"{description} carries a {available!r} model, so it cannot be converted into "
            f"task {task!r} (only {' or '.join(repr(t) for t in dict.fromkeys(convertible))}); "
            "a new head is not a conversion"
        )
    return task


def source_names(entries):
    """Every external name `entries` read, aliases included (a set)."""
    return {name for entry in entries for name in (entry.source, *entry.aliases)}


def _find(source, entry):
    for name in (entry.source, *entry.aliases):
        if name in source.shapes:
            return name
    return None


def _shape_text(shape):
    return "(" + ", ".join(str(d) for d in shape) + ")"


def apply_name_map(
    model,
    entries,
    source,
    *,
    format_name,
    task,
    head_names=(),
    ignore=(),
    allow_unused=False,
    allow_uninitialized=(),
):
    """Validates `source` against `entries`, then assigns into `model`.

    Every check runs before the first assignment; all problems of one kind
    are reported together, each naming its tensor.

    Args:
        model: the albert_tf model (from `build_model`).
        entries: the format's name map for this config and task.
        source: a `TensorSource`.
        format_name: used in messages ("Hugging Face", "TF1 checkpoint", ...).
        task: the task being built (for the report).
        head_names: source names of every head some albert_tf task model
            holds (the format's head maps, `source_names`); those present
            that this task does not use are dropped with a warning. A
            tensor that is neither mapped, such a head, training state
            (`is_training_state`) nor ignored is held by no albert_tf model.
        ignore: further source names to skip silently (e.g. tied copies
            the format module has checked itself).
        allow_unused: tensors no albert_tf model holds are an error unless
            this is True (then a warning and `report.unused`): converting
            without them would silently drop part of the source's model.
        allow_uninitialized: target paths that may stay as initialized
            (e.g. the SOP head of a masked-LM-only source).

    Returns:
        A `ConversionReport`.

    Raises:
        ConversionError: naming the missing, mis-shaped, non-float,
            non-finite or unused tensors.
    """
    where = f"{format_name} source {source.description}"
    report = ConversionReport(source=source.description, format=format_name, task=task)

    # 1. Every mapped tensor exists.
    found = {}
    missing = []
    for entry in entries:
        name = _find(source, entry)
        if name is None:
            missing.append(entry.source)
        else:
            found[entry] = name
    if missing:
        raise ConversionError(
            f"{where} is missing {len(missing)} tensor(s) the model needs: {missing}"
        )

    # 2. Shapes and dtypes match what the config implies.
    problems = []
    for entry, name in found.items():
        shape = tuple(source.shapes[name])
        if shape != tuple(entry.shape):
            problems.append(
                f"tensor {name!r}: expected shape {_shape_text(entry.shape)}, "
                f"found {_shape_text(shape)}"
            )
        dtype = source.dtypes[name]
        if not _is_numpy_dtype(dtype):  # e.g. safetensors BF16
            problems.append(f"tensor {name!r}: dtype {dtype} cannot be read with numpy; "
                            "re-save the source in float32 or float16")
        elif np.dtype(dtype).kind != "f":
            problems.append(f"tensor {name!r}: expected a floating-point dtype, found {np.dtype(dtype)}")
    if problems:
        raise ConversionError(f"{where} does not match the config:\n  " + "\n  ".join(problems))

    # 3. Everything else in the source is accounted for.
    used = set(found.values())
    head_names = set(head_names)
    ignore = set(ignore)
    for name in sorted(source.shapes):
        if name in used or name in ignore:
            continue
        if is_training_state(name):
            report.skipped_training_state.append(name)
        elif name in head_names:
            report.dropped_heads.append(name)
        else:
            report.unused.append(name)
    if report.unused and not allow_unused:
        raise ConversionError(
            f"{where} holds {len(report.unused)} tensor(s) that no albert_tf model holds: "
            f"{report.unused}. They are neither ALBERT weights, a head of an albert_tf task "
            "model, nor training state (global_step, optimizer slots such as <variable>/adam_m); "
            "converting would drop them. Pass allow_unused=True (CLI: --allow-unused) to "
            "convert without them."
        )
    if report.unused:
        warnings.warn(f"{where}: ignoring unused tensors {report.unused}", stacklevel=3)
    if report.dropped_heads:
        warnings.warn(
            f"{where}: dropping head tensors that task {task!r} does not use: "
            f"{report.dropped_heads}",
            stacklevel=3,
        )

    # 4. The map covers the model exactly.
    variables = {v.path: v for v in model.weights}
    targets = [entry.target for entry in entries]
    unknown = [t for t in targets if t not in variables]
    if unknown:
        raise RuntimeError(f"albert_tf name map names variables the model lacks: {unknown}")
    duplicated = sorted({t for t in targets if targets.count(t) > 1})
    if duplicated:
        raise RuntimeError(f"albert_tf name map assigns these variables twice: {duplicated}")
    uncovered = sorted(set(variables) - set(targets) - set(allow_uninitialized))
    if uncovered:
        raise RuntimeError(f"albert_tf name map leaves these variables unset: {uncovered}")
    report.left_initialized = sorted(set(allow_uninitialized) & set(variables))

    # 5. Read and transform every value, then check it is finite.
    values = {}
    for entry, name in found.items():
        try:
            value = np.asarray(source.read(name))
        except Exception as error:  # unreadable data: name the tensor
            raise ConversionError(f"{where}: cannot read tensor {name!r}: {error}") from error
        if value.shape != tuple(entry.shape):
            raise ConversionError(
                f"{where}: tensor {name!r} read with shape {_shape_text(value.shape)}, "
                f"its header says {_shape_text(entry.shape)}"
            )
        value = value.astype(np.float32) if value.dtype != np.float32 else value
        if not np.all(np.isfinite(value)):
            raise ConversionError(f"{where}: tensor {name!r} holds NaN or infinite values")
        if entry.transpose:
            value = value.T
        variable = variables[entry.target]
        values[entry.target] = value.reshape(tuple(variable.shape)).astype(variable.dtype)
        report.converted.append(name)

    # 6. Only now touch the model.
    for target, value in values.items():
        variables[target].assign(value)
    logger.info(report.summary())
    return report


def _is_numpy_dtype(dtype):
    try:
        np.dtype(dtype)
        return True
    except TypeError:
        return False

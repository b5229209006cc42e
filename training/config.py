"""Typed experiment configs: one name per concept, shared by pretraining and fine-tuning.

An experiment is a tree of dataclass sections. The sections that both
kinds of run have say each concept once, under the same name:

    runtime     strategy, tpu_address, precision, jit_compile, seed
    vocabulary  spiece_model, do_lower_case, keep_accents
    optimizer   name, learning_rate, weight_decay, clip_norm, beta_1, beta_2,
                epsilon (+ warmup_ratio when fine-tuning)
    model       preset, config (AlbertConfig overrides)
                (+ pretrained, dropout when fine-tuning)
    data        ..., seq_length (the packed length T)
    train       batch size, steps or epochs, logging
    output_dir

`PretrainingConfig` adds `schedule`; `FinetuningConfig` adds `task`,
`task_options`, `evaluation` and `overwrite`. Their defaults are the
documented recipe defaults.

`load` starts from the defaults, applies a YAML / JSON file or a dict, then
`--set KEY=VALUE` overrides, and checks every key on the way:

- an unknown key raises ValueError naming its dotted path and the keys
  known there, so a typo never silently falls back to a default;
- a value of the wrong type raises ValueError naming the key, the expected
  type and the value given (an int is a float; PyYAML reads `1e-3`, without
  a dot, as a string, so a float key also takes a string that is a number;
  a path-like object is a str);
- free-form sections take any keys: `model.config`, `task_options`, and the
  reader's `data.options` and `data.max_examples`;
- the old key names (each class's `RENAMED`) still load, with a
  FutureWarning naming old -> new.

`to_dict()` gives the plain nested dict and `save(path)` writes it as YAML
(JSON for a `.json` path) atomically.

Example:
>>> config = PretrainingConfig.load({"train": {"steps": 200}}, overrides=["runtime.precision=mixed_bfloat16"])
>>> config.train.steps, config.runtime.precision, config.data.seq_length
(200, 'mixed_bfloat16', 128)
>>> config.save("runs/pretrain/config.yaml")
PosixPath('runs/pretrain/config.yaml')
>>> PretrainingConfig.load("runs/pretrain/config.yaml") == config
True
"""

import copy
import dataclasses
import json
import os
import pathlib
import types
import typing
import warnings

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


# --- sections ---


@dataclasses.dataclass
class RuntimeConfig:
    """Where and how the steps run.

    Args:
        strategy: a `training.distribute.STRATEGIES` name; None is the
            default strategy (no distribution).
        tpu_address: the TPU for strategy "tpu" ("" = local).
        precision: one of `PRECISIONS` (the Keras dtype policy).
        jit_compile: XLA-compile the train step.
        seed: the training seed (initialization, shuffling, dropout).

    Raises:
        ValueError: `precision` is not one of `PRECISIONS`.
    """

    strategy: str | None = "one_device"
    tpu_address: str = ""
    precision: str = "float32"
    jit_compile: bool = True
    seed: int = 0

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"Unknown precision {self.precision!r} (runtime.precision); expected one of {PRECISIONS}")


@dataclasses.dataclass
class VocabularyConfig:
    """The SentencePiece model and the normalization before it.

    Args:
        spiece_model: a SentencePiece model file; None: the pretrained
            model directory's `spiece.model`, else the shipped 30k-clean one.
        do_lower_case: lowercase the text (and strip accents, unless
            `keep_accents`).
        keep_accents: keep accents when lowercasing.
    """

    spiece_model: str | None = None
    do_lower_case: bool = True
    keep_accents: bool = False


@dataclasses.dataclass
class OptimizerConfig:
    """The optimizer (`training.optimization.create_optimizer`).

    Args:
        name: "lamb" or "adamw".
        learning_rate: the peak learning rate.
        weight_decay: decoupled weight decay (not on LayerNorm or biases).
        clip_norm: global gradient-norm clip; None or 0 turns it off.
        beta_1, beta_2, epsilon: the Adam constants.
    """

    name: str = "lamb"
    learning_rate: float = 0.00176
    weight_decay: float = 0.01
    clip_norm: float | None = 1.0
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-6


@dataclasses.dataclass
class FinetuningOptimizerConfig(OptimizerConfig):
    """AdamW, linear warmup over `warmup_ratio` of the updates, then linear decay to 0."""

    name: str = "adamw"
    learning_rate: float = 3e-5
    warmup_ratio: float = 0.1


@dataclasses.dataclass
class ScheduleConfig:
    """Pretraining's learning rate: linear warmup, then polynomial decay.

    Args:
        warmup_steps: updates of linear warmup.
        end_learning_rate: the rate at the last update.
        power: the decay's power (1.0 = linear).
    """

    warmup_steps: int = 0
    end_learning_rate: float = 0.0
    power: float = 1.0


@dataclasses.dataclass
class ModelConfig:
    """The model's shape.

    Args:
        preset: an `albert_tf.PRESETS` name.
        config: `AlbertConfig` fields that override the preset's (free-form).
    """

    preset: str = "albert_tiny"
    config: dict | None = None

    def albert_config(self):
        """The `AlbertConfig`: the preset with `config` applied.

        Example:
        >>> ModelConfig("albert_tiny", {"hidden_size": 128}).albert_config().hidden_size
        128
        """
        from albert_tf.config import AlbertConfig

        config = AlbertConfig.from_preset(self.preset)
        return config.replace(**self.config) if self.config else config


@dataclasses.dataclass
class FinetuningModelConfig(ModelConfig):
    """The model to fine-tune.

    Args:
        preset, config: the shape of a random start (see `ModelConfig`).
        pretrained: an albert_tf model directory (backbone, pretrainer or
            task model) whose backbone weights start the run instead.
        dropout: dropout before the task head.
    """

    preset: str = "albert_base_v2"
    pretrained: str | None = None
    dropout: float = 0.1


@dataclasses.dataclass
class PretrainingDataConfig:
    """Pretraining data: ready TFRecords, or raw text made into them (or masked on the fly).

    Args:
        tfrecords, eval_tfrecords: TFRecord globs (a str or a list).
        text_files: raw text files, globs or `resource:NAME`, converted to
            TFRecords under `output_dir/data` ("tfrecord" `mode`) or read
            on the fly ("on_the_fly").
        mode: "tfrecord" or "on_the_fly".
        seq_length: the packed length T.
        max_predictions_per_seq, masked_lm_prob, max_ngram, short_seq_prob,
        dupe_factor: the original `create_pretraining_data` recipe.
        holdout_every: every k-th document goes to the held-out set (0: none).
        num_workers: processes writing TFRecords.
        seed: the data creation seed.
        length_buckets: sequence lengths to batch by (e.g. [32, 64, 96]):
            each batch is cut to its bucket; None: off.
    """

    tfrecords: str | list[str] | None = None
    eval_tfrecords: str | list[str] | None = None
    text_files: str | list[str] | None = None
    mode: str = "tfrecord"
    seq_length: int = 128
    max_predictions_per_seq: int = 20
    masked_lm_prob: float = 0.15
    max_ngram: int = 3
    short_seq_prob: float = 0.1
    dupe_factor: int = 1
    holdout_every: int = 0
    num_workers: int = 1
    seed: int = 12345
    length_buckets: list[int] | None = None


@dataclasses.dataclass
class FinetuningDataConfig:
    """A fine-tuning data set: a shipped one by `name`, or files of a `format`.

    Args:
        name: a shipped data set ("movie_reviews", "vitaminc", "disfl_qa").
        format: the reader of `train` / `dev` / `test` files ("glue_tsv",
            "squad_json", "conll", "multiple_choice").
        train, dev, test: the file of each split (for a shipped set, an
            optional replacement file).
        options: reader options (free-form, e.g. GLUE column names).
        max_examples: {split: n}, a seeded subset of each split.
        seq_length: the packed length T.
    """

    name: str | None = None
    format: str | None = None
    train: str | None = None
    dev: str | None = None
    test: str | None = None
    options: dict = dataclasses.field(default_factory=dict)
    max_examples: dict | None = None
    seq_length: int = 128

    def source(self):
        """The reader's data spec: the keys that are set, without `seq_length`.

        Example:
        >>> FinetuningDataConfig(name="vitaminc", max_examples={"test": 24}).source()
        {'name': 'vitaminc', 'max_examples': {'test': 24}}
        """
        spec = {k: v for k, v in dataclasses.asdict(self).items() if v is not None and v != {}}
        spec.pop("seq_length")
        return spec


@dataclasses.dataclass
class PretrainingTrainConfig:
    """The pretraining run.

    Args:
        steps: optimizer updates.
        batch_size: sequences per micro-batch (global, over all replicas).
        gradient_accumulation_steps: micro-batches per update.
        log_every: updates per logging interval (a Keras epoch).
        checkpoint_every: updates between checkpoints.
        keep_checkpoints: checkpoints kept.
        eval_steps: held-out batches evaluated at the end.
        steps_per_execution: steps per compiled call.
        verbose: Keras progress output (0, 1 or 2).
    """

    steps: int = 1000
    batch_size: int = 32
    gradient_accumulation_steps: int = 1
    log_every: int = 50
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    eval_steps: int = 20
    steps_per_execution: int = 1
    verbose: int = 1


@dataclasses.dataclass
class FinetuningTrainConfig:
    """The fine-tuning run.

    Args:
        batch_size, eval_batch_size: examples per training / scoring batch.
        epochs: passes (of `steps_per_epoch` batches when set, else the
            whole training split).
        steps_per_epoch: batches per epoch; None: one pass over the data.
        early_stopping_patience: epochs without dev improvement before
            stopping; 0: off.
        monitor: the dev metric that picks the best epoch; None: the task's
            primary metric.
        verbose: progress output (0 or 1).
    """

    batch_size: int = 32
    eval_batch_size: int = 64
    epochs: int = 3
    steps_per_epoch: int | None = None
    early_stopping_patience: int = 2
    monitor: str | None = None
    verbose: int = 1


@dataclasses.dataclass
class EvaluationConfig:
    """The splits the best fine-tuned model is scored on."""

    splits: list[str] = dataclasses.field(default_factory=lambda: ["dev", "test"])


# --- loading ---


class _Mismatch(Exception):
    """A value that does not fit a type (turned into a ValueError naming the key)."""


def _describe(kind):
    if isinstance(kind, types.UnionType):
        return " or ".join(_describe(option) for option in typing.get_args(kind))
    if kind is type(None):
        return "null"
    if typing.get_origin(kind) is list:
        return f"a list of {_describe(typing.get_args(kind)[0])}"
    return kind.__name__


def _conform(value, kind):
    """`value` as an instance of annotation `kind`; raises _Mismatch."""
    if isinstance(kind, types.UnionType):
        for option in typing.get_args(kind):
            try:
                return _conform(value, option)
            except _Mismatch:
                pass
        raise _Mismatch
    if kind is type(None):
        if value is None:
            return None
    elif kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif kind is str:
        if isinstance(value, (str, os.PathLike)):
            return os.fspath(value)
    elif kind is dict:
        if isinstance(value, dict):
            return copy.deepcopy(value)
    elif typing.get_origin(kind) is list:
        if isinstance(value, (list, tuple)):
            return [_conform(item, typing.get_args(kind)[0]) for item in value]
    raise _Mismatch


def _fields(section):
    return {field.name: field.type for field in dataclasses.fields(section)}


def _unknown(where, known):
    return ValueError(f"Unknown config key {where!r}; known keys here: {', '.join(sorted(known)) or '(none)'}")


def _value(value, kind, where):
    try:
        return _conform(value, kind)
    except _Mismatch:
        raise ValueError(
            f"Config key {where!r} must be {_describe(kind)}, got {type(value).__name__} {value!r}"
        ) from None


def _merge(section, values, path):
    """A copy of dataclass `section` with the nested mapping `values` applied.

    Sections merge key by key; any other value (free-form dicts included)
    replaces the default.
    """
    if not isinstance(values, dict):
        raise ValueError(f"Config key {path!r} must be a mapping, got {type(values).__name__} {values!r}")
    fields = _fields(section)
    changes = {}
    for key, value in values.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in fields:
            raise _unknown(where, fields)
        if dataclasses.is_dataclass(fields[key]):
            changes[key] = _merge(getattr(section, key), value, where)
        else:
            changes[key] = _value(value, fields[key], where)
    return dataclasses.replace(section, **changes)


def _set(section, keys, value, path=""):
    """A copy of dataclass `section` with the one dotted key `keys` set to `value`.

    Unlike `_merge`, a key inside a free-form dict sets that entry only.
    """
    key, rest = keys[0], keys[1:]
    where = f"{path}.{key}" if path else key
    fields = _fields(section)
    if key not in fields:
        raise _unknown(where, fields)
    kind = fields[key]
    if dataclasses.is_dataclass(kind):
        new = _set(getattr(section, key), rest, value, where) if rest else _merge(getattr(section, key), value, where)
    elif rest:
        free_form = kind is dict or (isinstance(kind, types.UnionType) and dict in typing.get_args(kind))
        if not free_form:
            raise ValueError(f"Config key {where!r} is {_describe(kind)}, not a mapping: it has no key {rest[0]!r}")
        new = copy.deepcopy(getattr(section, key)) or {}
        entry = new
        for part in rest[:-1]:
            entry = entry.setdefault(part, {})
            if not isinstance(entry, dict):
                raise ValueError(f"Config key '{where}.{part}' is not a mapping: it has no key {rest[-1]!r}")
        entry[rest[-1]] = value
    else:
        new = _value(value, kind, where)
    return dataclasses.replace(section, **{key: new})


def _pop_path(values, keys):
    """Removes and returns the value at `keys` in nested dict `values` (KeyError if absent)."""
    parent = values
    for key in keys[:-1]:
        parent = parent[key]
        if not isinstance(parent, dict):
            raise KeyError(key)
    return parent.pop(keys[-1])


def _has_path(values, keys):
    for key in keys:
        if not isinstance(values, dict) or key not in values:
            return False
        values = values[key]
    return True


def read_config_file(path):
    """Reads a YAML (`.yaml`, `.yml`) or JSON (`.json`) config file into a dict.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: another suffix, or the file does not hold a mapping.

    Example:
    >>> _ = pathlib.Path("run.yaml").write_text("train:\\n  steps: 10\\n")
    >>> read_config_file("run.yaml")
    {'train': {'steps': 10}}
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No config file at {path}")
    text = path.read_text()
    if path.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    elif path.suffix == ".json":
        data = json.loads(text)
    else:
        raise ValueError(f"Config {path} must end in .yaml, .yml or .json")
    if not isinstance(data, dict):
        raise ValueError(f"Config {path} must hold a mapping at top level, got {type(data).__name__}")
    return data


def parse_override(text):
    """Splits one `--set KEY=VALUE` into (dotted key, value); the value is read as YAML.

    Raises:
        ValueError: no `=`, an empty key, or a value that is not YAML.

    Example:
    >>> parse_override("data.length_buckets=[32, 48]")
    ('data.length_buckets', [32, 48])
    >>> parse_override("model.pretrained=runs/pretrain/model")
    ('model.pretrained', 'runs/pretrain/model')
    """
    import yaml

    key, sep, value = str(text).partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ValueError(f"--set {text!r} must be KEY=VALUE with a dotted KEY, e.g. train.steps=100")
    try:
        return key, yaml.safe_load(value)
    except yaml.YAMLError as error:
        raise ValueError(f"--set {text!r}: the value is not YAML ({getattr(error, 'problem', None) or error})") from None


class _Experiment:
    """What both experiment configs share: load, overrides, old names, save.

    `RENAMED` maps an old dotted key to its new dotted key.
    """

    RENAMED = {}

    @classmethod
    def _renamed(cls, key):
        """The new dotted key of `key` (itself unless it starts with an old name)."""
        for old, new in cls.RENAMED.items():
            if key == old or key.startswith(old + "."):
                return new + key[len(old):]
        return key

    @classmethod
    def _rename_old_keys(cls, values):
        """Moves old keys of the nested dict `values` to their new places.

        Returns:
            (a new dict, the (old, new) key pairs that were moved).
        """
        values, moved = copy.deepcopy(values), []
        for old, new in cls.RENAMED.items():
            old_keys, new_keys = old.split("."), new.split(".")
            if not _has_path(values, old_keys):
                continue
            if _has_path(values, new_keys):
                raise ValueError(f"Config sets both {old!r} (its old name) and {new!r}: keep {new!r}")
            value = _pop_path(values, old_keys)
            parent = values
            for key in new_keys[:-1]:
                parent = parent.setdefault(key, {})
                if not isinstance(parent, dict):
                    raise ValueError(f"Config key {key!r} must be a mapping, got {parent!r}")
            parent[new_keys[-1]] = value
            moved.append((old, new))
        # An old section that is gone (e.g. fine-tuning's `training`) must be
        # empty now: what is left in it is a typo.
        for section in sorted({old.split(".")[0] for old in cls.RENAMED if "." in old} - set(_fields(cls))):
            leftover = values.pop(section, None)
            if leftover:
                known = sorted(old.split(".", 1)[1] for old in cls.RENAMED if old.startswith(section + "."))
                first = next(iter(leftover)) if isinstance(leftover, dict) else "?"
                places = sorted({cls.RENAMED[f"{section}.{key}"].split(".")[0] for key in known})
                raise ValueError(
                    f"Unknown config key '{section}.{first}'; known keys here: {', '.join(known)} "
                    f"(the old section {section!r} is deprecated: its keys moved to {', '.join(places)})"
                )
        return values, moved

    @classmethod
    def load(cls, source=None, overrides=()):
        """The defaults, then a file or dict, then overrides; each key checked.

        Args:
            source: a YAML / JSON file path, a nested dict, a config of
                this class (returned with the overrides applied), or None
                (the defaults).
            overrides: a dict {dotted key: value}, or a sequence of
                `"KEY=VALUE"` strings (`--set`, the value read as YAML) and
                (dotted key, value) pairs; applied in order. Inside a
                free-form section a key sets that one entry.

        Returns:
            A new config of this class.

        Raises:
            ValueError: an unknown key (named with its dotted path), a value
                of the wrong type, or a malformed override.
            FileNotFoundError: no file at `source`.
        """
        if isinstance(source, cls):
            config = copy.deepcopy(source)
        else:
            values = {} if source is None else source if isinstance(source, dict) else read_config_file(source)
            values, moved = cls._rename_old_keys(values)
            for old, new in moved:
                warnings.warn(f"config key {old!r} is deprecated; use {new!r}", FutureWarning, stacklevel=2)
            config = _merge(cls(), values, "")
        if isinstance(overrides, dict):
            items = overrides.items()
        else:
            items = (parse_override(item) if isinstance(item, str) else tuple(item) for item in overrides)
        for key, value in items:
            new_key = cls._renamed(key)
            if new_key != key:
                warnings.warn(f"config key {key!r} is deprecated; use {new_key!r}", FutureWarning, stacklevel=2)
            config = _set(config, new_key.split("."), value)
        return config

    def to_dict(self):
        """The config as a plain nested dict (what `save` writes)."""
        return dataclasses.asdict(self)

    def save(self, path):
        """Writes the config as YAML (JSON for a `.json` path), atomically; returns the path."""
        from albert_tf.saving import atomic_write

        path = pathlib.Path(path)
        if path.suffix == ".json":
            text = json.dumps(self.to_dict(), indent=2)
        else:
            import yaml

            text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        return atomic_write(path, text)


@dataclasses.dataclass
class PretrainingConfig(_Experiment):
    """A pretraining experiment (`training.loops.pretrain`).

    Every default is the documented one; see the section classes for the
    keys. `RENAMED` lists the old key names that still load.

    Example:
    >>> config = PretrainingConfig.load({"runtime": {"strategy": "cpu"}, "data": {"seq_length": 64}})
    >>> config.runtime.strategy, config.data.seq_length, config.optimizer.name
    ('cpu', 64, 'lamb')
    >>> PretrainingConfig.RENAMED["strategy"]
    'runtime.strategy'
    """

    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    vocabulary: VocabularyConfig = dataclasses.field(default_factory=VocabularyConfig)
    data: PretrainingDataConfig = dataclasses.field(default_factory=PretrainingDataConfig)
    optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = dataclasses.field(default_factory=ScheduleConfig)
    train: PretrainingTrainConfig = dataclasses.field(default_factory=PretrainingTrainConfig)
    runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig)
    output_dir: str = "runs/pretrain"

    RENAMED = {
        "strategy": "runtime.strategy",
        "tpu_address": "runtime.tpu_address",
        "precision": "runtime.precision",
        "train.jit_compile": "runtime.jit_compile",
        "train.seed": "runtime.seed",
        "optimizer.clipnorm": "optimizer.clip_norm",
        "data.spm_model": "vocabulary.spiece_model",
    }


@dataclasses.dataclass
class FinetuningConfig(_Experiment):
    """A fine-tuning experiment (`training.loops.finetune`).

    `task` (a name of `training.tasks.TASKS`; the old spellings that
    `albert_tf.tasks.registry` maps, such as "classifier", map here too,
    with a warning) and a `data` source (`data.name` or `data.format` with
    files) are what a run needs; everything else has its documented
    default. `RENAMED` lists the old key names that still load (the old
    `training` section is split into `train`, `optimizer` and `runtime`).

    Example:
    >>> config = FinetuningConfig.load({"task": "classification", "data": {"name": "movie_reviews"}},
    ...                                overrides=["optimizer.learning_rate=1e-3"])
    >>> config.optimizer.learning_rate, config.optimizer.name, config.data.seq_length
    (0.001, 'adamw', 128)
    >>> FinetuningConfig.RENAMED["training.learning_rate"]
    'optimizer.learning_rate'
    """

    task: str | None = None
    task_options: dict = dataclasses.field(default_factory=dict)
    model: FinetuningModelConfig = dataclasses.field(default_factory=FinetuningModelConfig)
    vocabulary: VocabularyConfig = dataclasses.field(default_factory=VocabularyConfig)
    data: FinetuningDataConfig = dataclasses.field(default_factory=FinetuningDataConfig)
    optimizer: FinetuningOptimizerConfig = dataclasses.field(default_factory=FinetuningOptimizerConfig)
    train: FinetuningTrainConfig = dataclasses.field(default_factory=FinetuningTrainConfig)
    runtime: RuntimeConfig = dataclasses.field(
        default_factory=lambda: RuntimeConfig(strategy=None, jit_compile=False)
    )
    evaluation: EvaluationConfig = dataclasses.field(default_factory=EvaluationConfig)
    output_dir: str | None = None
    overwrite: bool = False

    def __post_init__(self):
        if self.task is not None:
            from albert_tf.tasks.registry import canonical_task_name

            try:
                self.task = canonical_task_name(self.task)
            except ValueError:
                # Not a model task name: fine-tuning also has tasks of its own
                # (`training.tasks.TASKS`), which the loop checks the name against.
                pass

    RENAMED = {
        "seq_length": "data.seq_length",
        "verbose": "train.verbose",
        "model.spiece_model": "vocabulary.spiece_model",
        "model.do_lower_case": "vocabulary.do_lower_case",
        "training.batch_size": "train.batch_size",
        "training.eval_batch_size": "train.eval_batch_size",
        "training.epochs": "train.epochs",
        "training.steps_per_epoch": "train.steps_per_epoch",
        "training.early_stopping_patience": "train.early_stopping_patience",
        "training.monitor": "train.monitor",
        "training.learning_rate": "optimizer.learning_rate",
        "training.warmup_ratio": "optimizer.warmup_ratio",
        "training.weight_decay": "optimizer.weight_decay",
        "training.clip_norm": "optimizer.clip_norm",
        "training.precision": "runtime.precision",
        "training.jit_compile": "runtime.jit_compile",
        "training.distribution_strategy": "runtime.strategy",
        "training.seed": "runtime.seed",
    }

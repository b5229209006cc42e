"""Typed experiment configs: the defaults are the old DEFAULTS key by key, a
file round-trips, every old key name still loads (with a warning naming the
new one), unknown keys and wrong types are named, `--set` overrides."""

import json
import pathlib
import warnings

import pytest
import yaml

from training.config import FinetuningConfig, PretrainingConfig, parse_override

REPO = pathlib.Path(__file__).resolve().parents[2]

# The untyped DEFAULTS dicts the loops merged configs over before the typed
# configs (training/pretrain.py and training/finetune.py at commit 0721884):
# the typed defaults must give every one of these values, under its new name.
OLD_PRETRAINING_DEFAULTS = {
    "model": {"preset": "albert_tiny", "config": None},
    "data": {
        "tfrecords": None, "eval_tfrecords": None, "text_files": None, "mode": "tfrecord",
        "spm_model": None, "seq_length": 128, "max_predictions_per_seq": 20, "masked_lm_prob": 0.15,
        "max_ngram": 3, "short_seq_prob": 0.1, "dupe_factor": 1, "holdout_every": 0, "num_workers": 1,
        "seed": 12345, "length_buckets": None,
    },
    "optimizer": {"name": "lamb", "learning_rate": 0.00176, "weight_decay": 0.01, "clipnorm": 1.0,
                  "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-6},
    "schedule": {"warmup_steps": 0, "end_learning_rate": 0.0, "power": 1.0},
    "train": {"steps": 1000, "batch_size": 32, "gradient_accumulation_steps": 1, "log_every": 50,
              "checkpoint_every": 100, "keep_checkpoints": 3, "eval_steps": 20, "jit_compile": True,
              "steps_per_execution": 1, "seed": 0, "verbose": 1},
    "strategy": "one_device",
    "tpu_address": "",
    "precision": "float32",
    "output_dir": "runs/pretrain",
}
OLD_FINETUNING_DEFAULTS = {
    "task": None,
    "model": {"preset": "albert_base_v2", "pretrained": None, "dropout": 0.1, "spiece_model": None,
              "do_lower_case": True},
    "seq_length": 128,
    "task_options": {},
    "training": {"batch_size": 32, "eval_batch_size": 64, "epochs": 3, "steps_per_epoch": None,
                 "learning_rate": 3e-5, "warmup_ratio": 0.1, "weight_decay": 0.01, "clip_norm": 1.0,
                 "early_stopping_patience": 2, "monitor": None, "precision": "float32",
                 "jit_compile": False, "distribution_strategy": None, "seed": 0},
    "evaluation": {"splits": ["dev", "test"]},
    "output_dir": None,
    "overwrite": False,
    "verbose": 1,
}
# Keys the old dicts did not have, and the value the old code used for each
# (create_optimizer's defaults for fine-tuning's AdamW, the tokenizer's).
NEW_PRETRAINING_KEYS = {"vocabulary.do_lower_case": True, "vocabulary.keep_accents": False}
NEW_FINETUNING_KEYS = {
    "vocabulary.keep_accents": False, "model.config": None, "optimizer.name": "adamw",
    "optimizer.beta_1": 0.9, "optimizer.beta_2": 0.999, "optimizer.epsilon": 1e-6,
    "runtime.tpu_address": "", **{f"data.{key}": None for key in
                                   ("name", "format", "train", "dev", "test", "max_examples")},
    "data.options": {},
}

# One value for every old key name, different from the default.
OLD_NAME_VALUES = {
    PretrainingConfig: {
        "strategy": "cpu", "tpu_address": "grpc://10.0.0.2:8470", "precision": "mixed_bfloat16",
        "train.jit_compile": False, "train.seed": 7, "optimizer.clipnorm": 0.5,
        "data.spm_model": "vocab/spiece.model",
    },
    FinetuningConfig: {
        "seq_length": 64, "verbose": 0, "model.spiece_model": "vocab/spiece.model",
        "model.do_lower_case": False, "training.batch_size": 8, "training.eval_batch_size": 16,
        "training.epochs": 1, "training.steps_per_epoch": 5, "training.early_stopping_patience": 0,
        "training.monitor": "f1", "training.learning_rate": 1e-3, "training.warmup_ratio": 0.2,
        "training.weight_decay": 0.0, "training.clip_norm": 5.0, "training.precision": "mixed_float16",
        "training.jit_compile": True, "training.distribution_strategy": "mirrored", "training.seed": 3,
    },
}


def _leaves(tree, prefix=""):
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from _leaves(value, path + ".")
        else:
            yield path, value


def _get(config, dotted):
    value = config.to_dict()
    for key in dotted.split("."):
        value = value[key]
    return value


def _nested(dotted, value):
    for key in reversed(dotted.split(".")):
        value = {key: value}
    return value


@pytest.mark.parametrize("cls, old_defaults, new_keys", [
    (PretrainingConfig, OLD_PRETRAINING_DEFAULTS, NEW_PRETRAINING_KEYS),
    (FinetuningConfig, OLD_FINETUNING_DEFAULTS, NEW_FINETUNING_KEYS),
], ids=["pretraining", "finetuning"])
def test_defaults_equal_the_old_defaults_key_by_key(cls, old_defaults, new_keys):
    config = cls()
    expected = dict(new_keys)
    for old, value in _leaves(old_defaults):
        expected[cls._renamed(old)] = value
    expected.pop("data", None)  # fine-tuning's old `data: None`: no data source set
    assert {path: _get(config, path) for path in expected} == expected
    # ... and the typed config has no key beyond those.
    assert {path for path, _ in _leaves(config.to_dict())} == set(expected)
    assert cls.load() == config


def test_finetuning_data_source_is_what_the_reader_needs():
    assert FinetuningConfig().data.source() == {}
    config = FinetuningConfig.load({"data": {"format": "glue_tsv", "train": "t.tsv", "options": {"a": 1}}})
    assert config.data.source() == {"format": "glue_tsv", "train": "t.tsv", "options": {"a": 1}}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "configs").glob("*.yaml")))
def test_shipped_configs_use_the_new_names_and_round_trip(name, suffix, tmp_path):
    cls = PretrainingConfig if name.startswith("pretrain") else FinetuningConfig
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = cls.load(REPO / "configs" / name)
    written = config.save(tmp_path / f"config{suffix}")
    assert cls.load(written) == config
    text = written.read_text()
    assert (json.loads(text) if suffix == ".json" else yaml.safe_load(text)) == config.to_dict()
    assert not [p for p in tmp_path.iterdir() if p.name != written.name]  # no temporary left


def test_pretraining_file_values_land_in_their_sections():
    config = PretrainingConfig.load(REPO / "configs" / "pretrain_tiny.yaml")
    assert config.model.albert_config().hidden_size == 128
    assert config.data.seq_length == 64 and config.data.length_buckets == [32, 48]
    assert config.optimizer.learning_rate == 0.001 and config.optimizer.clip_norm == 1.0
    assert (config.runtime.strategy, config.runtime.jit_compile) == ("cpu", True)
    assert config.train.steps == 4000 and config.schedule.warmup_steps == 400


@pytest.mark.parametrize("cls, old, value", [
    (cls, old, value) for cls, values in OLD_NAME_VALUES.items() for old, value in values.items()
], ids=lambda item: item if isinstance(item, str) else None)
def test_every_old_name_maps_to_its_new_name_with_a_warning(cls, old, value):
    new = cls.RENAMED[old]
    with pytest.warns(FutureWarning, match=f"'{old}' is deprecated; use '{new}'"):
        config = cls.load(_nested(old, value))
    assert _get(config, new) == value
    assert config == cls.load(_nested(new, value))
    # The old name also works in a --set override.
    with pytest.warns(FutureWarning, match=f"'{old}' is deprecated; use '{new}'"):
        assert cls.load(overrides={old: value}) == config


def test_the_old_name_table_is_tested_in_full():
    for cls, values in OLD_NAME_VALUES.items():
        assert set(values) == set(cls.RENAMED), cls.__name__


def test_old_and_new_name_together_is_an_error():
    with pytest.raises(ValueError, match="both 'strategy' .* and 'runtime.strategy'"):
        PretrainingConfig.load({"strategy": "cpu", "runtime": {"strategy": "mirrored"}})


def test_unknown_keys_name_their_path_and_the_known_keys(tmp_path):
    with pytest.raises(ValueError, match=r"Unknown config key 'train.stepz'; known keys here: batch_size, .*steps,"):
        PretrainingConfig.load({"train": {"stepz": 3}})
    with pytest.raises(ValueError, match="Unknown config key 'runtime.strategee'"):
        FinetuningConfig.load(overrides=["runtime.strategee=cpu"])
    with pytest.raises(ValueError, match="Unknown config key 'optimiser'; known keys here: data, model, optimizer"):
        PretrainingConfig.load({"optimiser": {}})
    # A typo inside fine-tuning's old `training` section lists that section's keys.
    with pytest.raises(ValueError, match=r"Unknown config key 'training.learning_rat'; known keys here: .*learning_rate"):
        FinetuningConfig.load({"training": {"learning_rat": 1.0}})
    (tmp_path / "typo.yaml").write_text("data:\n  seq_lenght: 64\n")
    with pytest.raises(ValueError, match="Unknown config key 'data.seq_lenght'"):
        PretrainingConfig.load(tmp_path / "typo.yaml")


def test_free_form_sections_take_any_key():
    config = FinetuningConfig.load({"task_options": {"n_best_size": 5, "anything": [1]},
                                    "data": {"options": {"text_a_column": "sentence"}},
                                    "model": {"preset": "albert_tiny", "config": {"hidden_size": 128}}})
    assert config.task_options == {"n_best_size": 5, "anything": [1]}
    assert config.data.options == {"text_a_column": "sentence"}
    assert config.model.albert_config().hidden_size == 128


def test_set_overrides_scalars_lists_and_nested_keys():
    config = PretrainingConfig.load(
        {"model": {"config": {"hidden_size": 128}}, "train": {"steps": 100}},
        overrides=["train.steps=20", "data.length_buckets=[32, 48]", "model.config.embedding_size=64",
                   "optimizer.learning_rate=1e-3", "runtime.jit_compile=false", "data.tfrecords=a-*.tfrecord",
                   "vocabulary.spiece_model=", "train.steps=30"],
    )
    assert config.train.steps == 30  # applied in order: the last one wins
    assert config.data.length_buckets == [32, 48]
    assert config.model.config == {"hidden_size": 128, "embedding_size": 64}  # one entry set, the other kept
    assert config.optimizer.learning_rate == 0.001 and config.runtime.jit_compile is False
    assert config.data.tfrecords == "a-*.tfrecord" and config.vocabulary.spiece_model is None
    finetuning = FinetuningConfig.load(overrides={"task_options.max_answer_length": 10, "output_dir": "runs/x",
                                                  "evaluation.splits": ["test"]})
    assert finetuning.task_options == {"max_answer_length": 10}
    assert (finetuning.output_dir, finetuning.evaluation.splits) == ("runs/x", ["test"])
    assert parse_override("data.options.label_names=['0', '1']") == ("data.options.label_names", ["0", "1"])
    assert parse_override("output_dir=runs/a=b") == ("output_dir", "runs/a=b")


@pytest.mark.parametrize("item", ["train.steps", "=3", "train..steps=3", "train.steps=[1"])
def test_malformed_set_is_an_error(item):
    with pytest.raises(ValueError, match="--set"):
        PretrainingConfig.load(overrides=[item])


@pytest.mark.parametrize("values, message", [
    ({"train": {"steps": "ten"}}, "'train.steps' must be int, got str 'ten'"),
    ({"train": {"steps": 10.0}}, "'train.steps' must be int, got float 10.0"),
    ({"runtime": {"jit_compile": 1}}, "'runtime.jit_compile' must be bool, got int 1"),
    ({"optimizer": {"learning_rate": "fast"}}, "'optimizer.learning_rate' must be float, got str 'fast'"),
    ({"data": {"length_buckets": [32, "48"]}}, "'data.length_buckets' must be a list of int or null"),
    ({"data": {"text_files": 3}}, "'data.text_files' must be str or a list of str or null, got int 3"),
    ({"train": 5}, "'train' must be a mapping, got int 5"),
    ({"runtime": {"precision": "float8"}}, "Unknown precision 'float8'"),
], ids=["int", "int-not-float", "bool", "float", "list", "union", "section", "precision"])
def test_wrong_types_name_the_key_the_expected_type_and_the_value(values, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        PretrainingConfig.load(values)


def test_numbers_convert_where_the_meaning_is_unchanged():
    config = PretrainingConfig.load({"optimizer": {"learning_rate": 1, "epsilon": "1e-8"},
                                     "output_dir": pathlib.Path("runs/p")})
    assert config.optimizer.learning_rate == 1.0 and isinstance(config.optimizer.learning_rate, float)
    assert config.optimizer.epsilon == 1e-8  # PyYAML reads 1e-8 (no dot) as a string
    assert config.output_dir == "runs/p"
    with pytest.raises(ValueError, match="'train.steps' is int, not a mapping"):
        PretrainingConfig.load(overrides=["train.steps.x=1"])


def test_task_names_are_the_registry_names():
    assert FinetuningConfig.load({"task": "span_qa"}).task == "span_qa"
    with pytest.warns(FutureWarning, match="'classifier' is deprecated; use 'classification'"):
        assert FinetuningConfig.load(overrides=["task=classifier"]).task == "classification"
    # Fine-tuning's own task names (training.tasks) pass; the loop checks them.
    assert FinetuningConfig.load({"task": "answer_selection"}).task == "answer_selection"

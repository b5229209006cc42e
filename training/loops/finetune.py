"""`albert-tf finetune`: fine-tune a task model from a YAML/JSON config.

The recipe is the original `run_classifier` / `run_squad` one, through
`model.fit`: tokenization and packing in tf.data (`albert_tf.text`),
AdamW with linear warmup then linear decay, weight decay off for
LayerNorm and biases, gradient clipping; after every epoch the full dev
metric (e.g. SQuAD F1, not a batch average) is computed, the best model
is kept on disk and early stopping watches it. Mixed precision, XLA
(`jit_compile`) and any tf.distribute strategy are options.

Config (every key optional except `task` and `data`; see `DEFAULTS` and
configs/finetune_*.yaml):

    task: classification          # or regression, token_classification, span_qa, multiple_choice
    data: {name: movie_reviews}   # or {format: glue_tsv, train: ..., dev: ..., test: ..., options: {...}}
    model:
      preset: albert_tiny         # shape for a random start, or
      pretrained: DIR             # an albert_tf model directory (backbone, pretrainer or task model)
      dropout: 0.1
    seq_length: 128
    training: {batch_size: 32, epochs: 3, learning_rate: 3.0e-5, ...}
    output_dir: runs/finetune_movies

Outputs in `output_dir`: `model/` (the best model, loadable with
`albert_tf.load`, with `spiece.model` and `task.json` beside it),
`metrics.json`, `history.json`, `training_curves.png` and, for
classification, `confusion_matrix.png`. The directory appears only when
the run has finished (it is assembled in a staging directory).

Example:
>>> from training.finetune import run_finetuning
>>> result = run_finetuning({"task": "classification", "data": {"name": "movie_reviews"},
...                          "model": {"preset": "albert_tiny"}, "output_dir": "runs/movies"})
>>> result["metrics"]["test"]["accuracy"]
"""

import json
import math
import os
import pathlib
import shutil
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

from training.data.sources import SHIPPED, read_data  # noqa: E402
from training.tasks import TASKS, get_task  # noqa: E402

DEFAULTS = {
    "task": None,
    "data": None,
    "model": {
        "preset": "albert_base_v2",
        "pretrained": None,
        "dropout": 0.1,
        "spiece_model": None,
        "do_lower_case": True,
    },
    "seq_length": 128,
    "task_options": {},
    "training": {
        "batch_size": 32,
        "eval_batch_size": 64,
        "epochs": 3,
        "steps_per_epoch": None,
        "learning_rate": 3e-5,
        "warmup_ratio": 0.1,
        "weight_decay": 0.01,
        "clip_norm": 1.0,
        "early_stopping_patience": 2,
        "monitor": None,
        "precision": "float32",
        "jit_compile": False,
        "distribution_strategy": None,
        "seed": 0,
    },
    "evaluation": {"splits": ["dev", "test"]},
    "output_dir": None,
    "overwrite": False,
    "verbose": 1,
}
# Free-form sections: reader options and task options vary by data set and task.
OPEN_KEYS = ("data", "task_options")


def resolve_config(config):
    """Merges `config` (dict or a YAML/JSON path) over `DEFAULTS`; checks it.

    Unknown keys raise, naming the key (`training.experiment.load_config`),
    so a typo never silently falls back to a default.
    """
    from training import experiment

    merged = experiment.load_config(config, DEFAULTS, open_keys=OPEN_KEYS)
    if merged["task"] is None and isinstance(merged["data"], dict) and merged["data"].get("name") in SHIPPED:
        merged["task"] = SHIPPED[merged["data"]["name"]][0]
    if merged["task"] not in TASKS:
        raise ValueError(f"config['task'] is {merged['task']!r}; expected one of {sorted(TASKS)}")
    if not isinstance(merged["data"], dict):
        raise ValueError("config['data'] is required: {name: <shipped dataset>} or {format: ..., train: ..., dev: ...}")
    if merged["output_dir"] is None:
        raise ValueError("config['output_dir'] is required")
    training = merged["training"]
    experiment.check_precision(training["precision"])
    for key in ("batch_size", "eval_batch_size", "epochs"):
        if not isinstance(training[key], int) or training[key] < 1:
            raise ValueError(f"training.{key} must be a positive int, got {training[key]!r}")
    if not 0.0 <= training["warmup_ratio"] < 1.0:
        raise ValueError(f"training.warmup_ratio must be in [0, 1), got {training['warmup_ratio']!r}")
    if training["learning_rate"] <= 0:
        raise ValueError(f"training.learning_rate must be positive, got {training['learning_rate']!r}")
    return merged


def _load_config_file(path):
    from training import experiment

    return experiment.read_config_file(path)


# --- model ---


def _find_backbone(model):
    import albert_tf

    if isinstance(model, albert_tf.AlbertBackbone):
        return model
    backbone = getattr(model, "backbone", None)
    if isinstance(backbone, albert_tf.AlbertBackbone):
        return backbone
    raise ValueError(f"{type(model).__name__} holds no AlbertBackbone to fine-tune")


def build_backbone(model_config, dtype=None):
    """A backbone from `model.pretrained` (weights copied) or `model.preset` (random)."""
    import albert_tf

    if model_config.get("pretrained"):
        source = _find_backbone(albert_tf.load(model_config["pretrained"]))
        # A fresh backbone (in the current strategy scope, with the chosen
        # dtype policy) receives the pretrained weights.
        backbone = albert_tf.AlbertBackbone(source.config, dtype=dtype)
        backbone.set_weights(source.get_weights())
        return backbone
    return albert_tf.AlbertBackbone.from_preset(model_config["preset"], dtype=dtype)


def _tokenizer_for(model_config):
    """The vocabulary named in the config, else the pretrained model's, else the shipped one."""
    from albert_tf import saving
    from albert_tf.text import AlbertTokenizer

    if model_config.get("spiece_model"):
        return AlbertTokenizer(model_config["spiece_model"], do_lower_case=model_config["do_lower_case"])
    return saving.load_tokenizer(model_config.get("pretrained"), do_lower_case=model_config["do_lower_case"])


def build_optimizer(training, total_steps):
    """AdamW, linear warmup then linear decay to 0, no decay on LayerNorm/bias."""
    from training import optimization

    return optimization.create_optimizer(
        name="adamw",
        learning_rate=training["learning_rate"],
        num_train_steps=total_steps,
        num_warmup_steps=int(round(training["warmup_ratio"] * total_steps)),
        weight_decay=training["weight_decay"],
        clipnorm=training["clip_norm"],
    )


def _strategy(name):
    from training import distribute

    return distribute.get_strategy(name or "default")


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _write_json(path, payload):
    from albert_tf.saving import atomic_write

    atomic_write(path, json.dumps(payload, indent=2, sort_keys=True, default=_json_default))


# --- the run ---


def run_finetuning(config):
    """Fine-tunes, keeps the best dev checkpoint, evaluates it; returns a summary.

    Args:
        config: a dict or the path of a YAML/JSON file (see the module doc).

    Returns:
        dict with `metrics` ({split: {metric: value}} of the best model),
        `best_epoch` (1-based), `best_dev` (its dev `monitor` value),
        `monitor`, `history` (per-epoch logs), `model_dir` and `output_dir`.
    """
    import keras

    from training.callbacks import DevEvaluation
    from training.plots import plot_confusion_matrix, plot_history

    config = resolve_config(config)
    training, model_config = config["training"], config["model"]
    output_dir = pathlib.Path(config["output_dir"])
    if output_dir.exists() and any(output_dir.iterdir()):
        if not config["overwrite"]:
            raise FileExistsError(f"{output_dir} exists and is not empty; set overwrite: true to replace it")
    keras.utils.set_random_seed(training["seed"])
    verbose = config["verbose"]

    tokenizer = _tokenizer_for(model_config)
    task = get_task(config["task"], tokenizer, config["seq_length"], **config["task_options"])
    train_data = read_data(config["data"], "train", config["task"])
    dev_data = read_data(config["data"], "dev", config["task"])
    monitor = training["monitor"] or task.primary_metric
    mode = "min" if monitor in ("mse", "loss") else "max"

    batch_size = training["batch_size"]
    steps_per_epoch = training["steps_per_epoch"] or math.ceil(len(train_data) / batch_size)
    total_steps = steps_per_epoch * training["epochs"]
    train_ds = task.dataset(train_data, batch_size, training=True, seed=training["seed"])
    if training["steps_per_epoch"]:
        train_ds = train_ds.repeat()

    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
    try:
        strategy = _strategy(training["distribution_strategy"])
        with strategy.scope():
            dtype = None if training["precision"] == "float32" else training["precision"]
            backbone = build_backbone(model_config, dtype=dtype)
            model = task.build_model(backbone, train_data, dropout=model_config["dropout"])
            optimizer = build_optimizer(training, total_steps)
            if training["precision"] == "mixed_float16":
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            model.compile(optimizer=optimizer, jit_compile=training["jit_compile"], **task.compile_args())

        # Evaluation reads this to rebuild the same task and packing.
        task_info = {"task": config["task"], "seq_length": config["seq_length"],
                     "do_lower_case": model_config["do_lower_case"], "task_options": config["task_options"]}
        best_dir = staging / "model"
        dev_callback = DevEvaluation(
            task, dev_data, monitor, mode, training["eval_batch_size"], best_dir, tokenizer, task_info, verbose
        )
        callbacks = [dev_callback]
        if training["early_stopping_patience"]:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor=f"dev_{monitor}", mode=mode, patience=training["early_stopping_patience"]
            ))
        history = model.fit(
            train_ds, epochs=training["epochs"], steps_per_epoch=steps_per_epoch,
            callbacks=callbacks, verbose=verbose,
        ).history
        model.set_weights(dev_callback.best_weights)

        results = {}
        for split in config["evaluation"]["splits"]:
            data = dev_data if split == "dev" else read_data(config["data"], split, config["task"])
            results[split] = task.score(model, data, batch_size=training["eval_batch_size"], verbose=verbose)
            if "confusion_matrix" in results[split]:
                plot_confusion_matrix(
                    results[split]["confusion_matrix"], results[split]["label_names"],
                    staging / (f"confusion_matrix_{split}.png" if split != "test" else "confusion_matrix.png"),
                    title=f"{config['task']} ({split})",
                )
        history = {k: [float(v) for v in values] for k, values in history.items()}
        summary = {
            "metrics": results,
            "best_epoch": dev_callback.best_epoch + 1,
            "best_dev": float(dev_callback.best),
            "monitor": monitor,
            "history": history,
            "config": config,
        }
        _write_json(staging / "metrics.json", summary)
        _write_json(staging / "history.json", history)
        plot_history(history, staging / "training_curves.png")
        if output_dir.exists():
            shutil.rmtree(output_dir)
        os.replace(staging, output_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    summary.update(model_dir=str(output_dir / "model"), output_dir=str(output_dir))
    return summary


# --- command line ---


def add_arguments(parser):
    parser.add_argument("--config", required=True, help="YAML or JSON fine-tuning config (see configs/finetune_*.yaml)")
    parser.add_argument("--output-dir", help="override config output_dir")
    parser.add_argument("--pretrained", help="override config model.pretrained (an albert_tf model directory)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args):
    config = _load_config_file(args.config)
    if args.output_dir:
        config["output_dir"] = args.output_dir
    if args.pretrained:
        config.setdefault("model", {})["pretrained"] = args.pretrained
    if args.overwrite:
        config["overwrite"] = True
    if args.quiet:
        config["verbose"] = 0
    summary = run_finetuning(config)
    print(json.dumps({"output_dir": summary["output_dir"], "best_epoch": summary["best_epoch"],
                      "metrics": _scalars(summary["metrics"])}, indent=2))
    return 0


def _scalars(metrics):
    return {split: {k: v for k, v in m.items() if isinstance(v, (int, float))} for split, m in metrics.items()}

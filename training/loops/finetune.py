"""`albert-tf finetune`: fine-tune a task model from a YAML/JSON config.

The recipe is the original `run_classifier` / `run_squad` one, through
`model.fit`: tokenization and packing in tf.data (`albert_tf.text`),
AdamW with linear warmup then linear decay, weight decay off for
LayerNorm and biases, gradient clipping; after every epoch the full dev
metric (e.g. SQuAD F1, not a batch average) is computed, the best model
is kept on disk and early stopping watches it. Mixed precision, XLA
(`runtime.jit_compile`) and any tf.distribute strategy are options.

The config is a `training.config.FinetuningConfig` (every key and its
default are there; see configs/finetune_*.yaml); `task` and `data` are the
keys a run needs:

    task: classification          # or regression, token_classification, span_qa, multiple_choice
    data: {name: movie_reviews, seq_length: 128}   # or {format: glue_tsv, train: ..., dev: ..., options: {...}}
    model:
      preset: albert_tiny         # shape for a random start, or
      pretrained: DIR             # an albert_tf model directory (backbone, pretrainer or task model)
      dropout: 0.1
    optimizer: {learning_rate: 3.0e-5, warmup_ratio: 0.1}
    train: {batch_size: 32, epochs: 3}
    runtime: {precision: float32, strategy: default}
    output_dir: runs/finetune_movies

    albert-tf finetune --config configs/finetune_movie_reviews.yaml --set train.epochs=1

Outputs in `output_dir`: `model/` (the best model, loadable with
`albert_tf.load`, with `spiece.model` and `task.json` beside it),
`metrics.json`, `history.json`, `training_curves.png` and, for
classification, `confusion_matrix.png`. The directory appears only when
the run has finished (it is assembled in a staging directory).

Example:
>>> result = run_finetuning({"task": "classification", "model": {"preset": "albert_tiny"},
...                          "data": {"name": "movie_reviews", "seq_length": 32,
...                                   "max_examples": {"train": 16, "dev": 8, "test": 8}},
...                          "train": {"batch_size": 8, "epochs": 1, "verbose": 0}, "output_dir": "runs/movies"})
>>> result["best_epoch"], result["monitor"], 0.0 <= result["metrics"]["test"]["accuracy"] <= 1.0
(1, 'accuracy', True)
"""

import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

from albert_tf import cli_flags  # noqa: E402
from albert_tf.config import check_seq_length  # noqa: E402
from albert_tf.saving import atomic_directory  # noqa: E402
from training.config import FinetuningConfig  # noqa: E402
from training.data.sources import SHIPPED, read_data  # noqa: E402
from training.tasks import TASKS, get_task  # noqa: E402


def resolve_config(config):
    """The `FinetuningConfig` of `config`, checked for what a run needs.

    Args:
        config: a `training.config.FinetuningConfig`, a dict or the path of
            a YAML / JSON file (see `FinetuningConfig.load`: unknown keys
            raise, old key names warn).

    Returns:
        The config; an unset `task` is the shipped data set's.

    Raises:
        ValueError: no known task, no data source, no output_dir, or a
            value out of range.
    """
    config = FinetuningConfig.load(config)
    if config.task is None and config.data.name in SHIPPED:
        config.task = SHIPPED[config.data.name][0]
    if config.task not in TASKS:
        raise ValueError(f"task is {config.task!r}; expected one of {sorted(TASKS)}")
    if not config.data.name and not config.data.format:
        raise ValueError("data needs a source: {name: <shipped dataset>} or {format: ..., train: ..., dev: ...}")
    if config.output_dir is None:
        raise ValueError("output_dir is required")
    for key in ("batch_size", "eval_batch_size", "epochs"):
        if getattr(config.train, key) < 1:
            raise ValueError(f"train.{key} must be a positive int, got {getattr(config.train, key)!r}")
    if not 0.0 <= config.optimizer.warmup_ratio < 1.0:
        raise ValueError(f"optimizer.warmup_ratio must be in [0, 1), got {config.optimizer.warmup_ratio!r}")
    if config.optimizer.learning_rate <= 0:
        raise ValueError(f"optimizer.learning_rate must be positive, got {config.optimizer.learning_rate!r}")
    return config


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
    """A backbone from `model.pretrained` (weights copied) or `model.preset` + `model.config` (random).

    Args:
        model_config: a `training.config.FinetuningModelConfig`.
        dtype: the Keras dtype policy (None: float32).
    """
    import albert_tf

    if model_config.pretrained:
        source = _find_backbone(albert_tf.load(model_config.pretrained))
        # A fresh backbone (in the current strategy scope, with the chosen
        # dtype policy) receives the pretrained weights.
        backbone = albert_tf.AlbertBackbone(source.config, dtype=dtype)
        backbone.set_weights(source.get_weights())
        return backbone
    return albert_tf.AlbertBackbone(model_config.albert_config(), dtype=dtype)


def _tokenizer_for(config):
    """The vocabulary named in the config, else the pretrained model's, else the shipped one."""
    from albert_tf import saving
    from albert_tf.text import AlbertTokenizer

    vocabulary = config.vocabulary
    settings = {"do_lower_case": vocabulary.do_lower_case, "keep_accents": vocabulary.keep_accents}
    if vocabulary.spiece_model:
        return AlbertTokenizer(vocabulary.spiece_model, **settings)
    return saving.load_tokenizer(config.model.pretrained, **settings)


def build_optimizer(optimizer, total_steps):
    """The optimizer section's optimizer: linear warmup over `warmup_ratio`, then linear decay to 0.

    Weight decay is off for LayerNorm and biases.

    Args:
        optimizer: a `training.config.FinetuningOptimizerConfig`.
        total_steps: optimizer updates of the whole run.
    """
    from training import optimization

    return optimization.create_optimizer(
        name=optimizer.name,
        learning_rate=optimizer.learning_rate,
        num_train_steps=total_steps,
        num_warmup_steps=int(round(optimizer.warmup_ratio * total_steps)),
        weight_decay=optimizer.weight_decay,
        clipnorm=optimizer.clip_norm,
        beta_1=optimizer.beta_1,
        beta_2=optimizer.beta_2,
        epsilon=optimizer.epsilon,
    )


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
        config: a `training.config.FinetuningConfig`, a dict or the path of
            a YAML / JSON file (see the module doc and `resolve_config`).

    Returns:
        dict with `metrics` ({split: {metric: value}} of the best model),
        `best_epoch` (1-based), `best_dev` (its dev `monitor` value),
        `monitor`, `history` (per-epoch logs), `model_dir` and `output_dir`.
    """
    import keras

    from training import distribute
    from training.callbacks import DevEvaluation, TimeEstimate
    from training.plots import plot_confusion_matrix, plot_history

    config = resolve_config(config)
    train, runtime = config.train, config.runtime
    output_dir = pathlib.Path(config.output_dir)
    if output_dir.exists() and any(output_dir.iterdir()):
        if not config.overwrite:
            raise FileExistsError(f"{output_dir} exists and is not empty; set overwrite: true to replace it")
    keras.utils.set_random_seed(runtime.seed)
    verbose = train.verbose

    tokenizer = _tokenizer_for(config)
    task = get_task(config.task, tokenizer, config.data.seq_length, **config.task_options)
    # The backbone comes before the data: a packed length beyond its
    # positions fails here, naming the limit, before any data is read.
    strategy = distribute.get_strategy(runtime.strategy or "default", runtime.tpu_address)
    with strategy.scope():
        dtype = None if runtime.precision == "float32" else runtime.precision
        backbone = build_backbone(config.model, dtype=dtype)
    check_seq_length(config.data.seq_length, backbone.config.max_position_embeddings, "data.seq_length")
    source = config.data.source()
    train_data = read_data(source, "train", config.task)
    dev_data = read_data(source, "dev", config.task)
    monitor = train.monitor or task.primary_metric
    mode = "min" if monitor in ("mse", "loss") else "max"

    steps_per_epoch = train.steps_per_epoch or task.num_batches(train_data, train.batch_size)
    total_steps = steps_per_epoch * train.epochs
    train_ds = task.dataset(train_data, train.batch_size, training=True, seed=runtime.seed)
    if train.steps_per_epoch:
        train_ds = train_ds.repeat()

    with atomic_directory(output_dir, replace=True) as staging:
        with strategy.scope():
            model = task.build_model(backbone, train_data, dropout=config.model.dropout)
            optimizer = build_optimizer(config.optimizer, total_steps)
            if runtime.precision == "mixed_float16":
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            model.compile(optimizer=optimizer, jit_compile=runtime.jit_compile, **task.compile_args())

        # Evaluation reads this to rebuild the same task and packing.
        task_info = {"task": config.task, "seq_length": config.data.seq_length,
                     "do_lower_case": tokenizer.do_lower_case, "task_options": config.task_options}
        best_dir = staging / "model"
        dev_callback = DevEvaluation(
            task, dev_data, monitor, mode, train.eval_batch_size, best_dir, tokenizer, task_info, verbose
        )
        callbacks = [dev_callback] + ([TimeEstimate("fine-tuning")] if verbose else [])
        if train.early_stopping_patience:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor=f"dev_{monitor}", mode=mode, patience=train.early_stopping_patience
            ))
        history = model.fit(
            train_ds, epochs=train.epochs, steps_per_epoch=steps_per_epoch,
            callbacks=callbacks, verbose=verbose,
            shuffle=False,  # the tf.data pipeline shuffles; Keras only warns that it cannot
        ).history
        model.set_weights(dev_callback.best_weights)

        results = {}
        for split in config.evaluation.splits:
            data = dev_data if split == "dev" else read_data(source, split, config.task)
            results[split] = task.score(model, data, batch_size=train.eval_batch_size, verbose=verbose)
            if "confusion_matrix" in results[split]:
                plot_confusion_matrix(
                    results[split]["confusion_matrix"], results[split]["label_names"],
                    staging / (f"confusion_matrix_{split}.png" if split != "test" else "confusion_matrix.png"),
                    title=f"{config.task} ({split})",
                )
        history = {k: [float(v) for v in values] for k, values in history.items()}
        summary = {
            "metrics": results,
            "best_epoch": dev_callback.best_epoch + 1,
            "best_dev": float(dev_callback.best),
            "monitor": monitor,
            "history": history,
            "config": config.to_dict(),
        }
        _write_json(staging / "metrics.json", summary)
        _write_json(staging / "history.json", history)
        plot_history(history, staging / "training_curves.png")
    summary.update(model_dir=str(output_dir / "model"), output_dir=str(output_dir))
    return summary


# --- command line ---


def add_arguments(parser):
    cli_flags.add_config(parser, help="YAML or JSON fine-tuning config (see configs/finetune_*.yaml)")
    parser.add_argument("--output-dir", help="shorthand for --set output_dir=DIR")
    parser.add_argument("--pretrained", help="shorthand for --set model.pretrained=DIR (an albert_tf model directory)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output directory (shorthand for --set overwrite=true)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars (shorthand for --set train.verbose=0)")


def run(args):
    shorthands = [("output_dir", args.output_dir), ("model.pretrained", args.pretrained),
                  ("overwrite", True if args.overwrite else None), ("train.verbose", 0 if args.quiet else None)]
    overrides = [*args.set, *((key, value) for key, value in shorthands if value is not None)]
    summary = run_finetuning(FinetuningConfig.load(args.config, overrides=overrides))
    print(json.dumps({"output_dir": summary["output_dir"], "best_epoch": summary["best_epoch"],
                      "metrics": _scalars(summary["metrics"])}, indent=2))
    return 0


def _scalars(metrics):
    return {split: {k: v for k, v in m.items() if isinstance(v, (int, float))} for split, m in metrics.items()}

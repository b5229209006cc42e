"""ALBERT pretraining (masked LM + sentence order) with `model.fit`.

`albert-tf pretrain --config FILE [--set KEY=VALUE ...]` and
`run_pretraining(config)` train an `albert_tf.AlbertPretrainer` from a
`training.config.PretrainingConfig` (YAML / JSON / dict; every key and its
default is there):

- loss = MLM sparse cross-entropy averaged over the real predictions
  (weighted by masked_lm_weights) + SOP cross-entropy, in float32 (the
  heads emit float32 logits under mixed precision too);
- metrics: MLM accuracy (weighted) and SOP accuracy;
- batches of similar length cut to their bucket (`data.length_buckets`),
  so short sequences do not pay for padding;
- XLA-compiled steps (`runtime.jit_compile`), `train.steps_per_execution`,
  precision policy (`runtime.precision`), gradient accumulation
  (`train.gradient_accumulation_steps`, inside the optimizer), a
  `tf.distribute` strategy by name (`runtime.strategy`);
- checkpoints every `train.checkpoint_every` updates
  (`tf.train.CheckpointManager`); rerunning the same command after a crash
  or kill restores model, optimizer, step and data position (the input
  pipeline is deterministic and skips the batches already consumed);
- TensorBoard logs and metrics.jsonl under `output_dir/logs`, a progress
  bar, `curves.png`, the resolved `config.yaml`, the final model
  (`output_dir/model`, see `albert_tf.saving`) and `final_metrics.json`.

After training, the model is evaluated on held-out data (eval shards or
the held-out documents) and compared with the unigram baseline: the
accuracy of always predicting the most frequent masked token of the
training data.

Example:
>>> config = {"data": {"text_files": ["resource:moby_dick.txt.gz"], "mode": "on_the_fly", "seq_length": 32,
...                    "max_predictions_per_seq": 4},
...           "train": {"steps": 2, "batch_size": 4, "log_every": 2, "checkpoint_every": 2, "eval_steps": 1,
...                     "verbose": 0},
...           "runtime": {"jit_compile": False}, "output_dir": "runs/pretrain"}
>>> metrics = run_pretraining(config)
>>> metrics["step"], metrics["eval_on"], sorted(p.name for p in pathlib.Path("runs/pretrain").iterdir())
(2, 'train', ['checkpoints', 'config.yaml', 'curves.png', 'final_metrics.json', 'logs', 'model'])
"""

import json
import pathlib
import shutil
import time

from albert_tf import cli_flags

# Keras log names -> reported names.
RENAME = {
    "mlm_logits_loss": "mlm_loss",
    "sop_logits_loss": "sop_loss",
    "mlm_logits_accuracy": "mlm_accuracy",
    "sop_logits_accuracy": "sop_accuracy",
}
CURVE_PANELS = {
    "loss": ["loss", "mlm_loss", "sop_loss"],
    "accuracy": ["mlm_accuracy", "sop_accuracy"],
}


def _check(cfg):
    train = cfg.train
    for key in ("steps", "batch_size", "gradient_accumulation_steps", "log_every",
                "checkpoint_every", "keep_checkpoints", "steps_per_execution"):
        if getattr(train, key) < 1:
            raise ValueError(f"train.{key} must be a positive int, got {getattr(train, key)!r}")
    if train.steps % train.log_every or train.checkpoint_every % train.log_every:
        raise ValueError(
            f"train.steps={train.steps} and train.checkpoint_every={train.checkpoint_every} "
            f"must be multiples of train.log_every={train.log_every}"
        )
    data = cfg.data
    if not data.tfrecords and not data.text_files:
        raise ValueError("Config needs data.tfrecords (TFRecord globs) or data.text_files (raw text)")
    if data.mode not in ("tfrecord", "on_the_fly"):
        raise ValueError(f"data.mode must be 'tfrecord' or 'on_the_fly', got {data.mode!r}")
    if not cfg.vocabulary.do_lower_case or cfg.vocabulary.keep_accents:
        raise ValueError(
            "Pretraining data is normalized the ALBERT way (lowercased, accents stripped): "
            "vocabulary.do_lower_case must be true and vocabulary.keep_accents false"
        )
    from training.data.pipelines import check_length_buckets

    check_length_buckets(data.length_buckets, data.seq_length)
    if data.length_buckets and cfg.runtime.strategy == "tpu":
        raise ValueError("data.length_buckets gives batches of several shapes; TPUs need one: set it to null")


def _datasets(cfg, output_dir, skip_batches):
    """Returns (train_ds, eval_ds or None, eval_name) for the data section."""
    from training.data import creation, pipelines

    data, train, seed = cfg.data, cfg.train, cfg.runtime.seed
    spiece_model = cfg.vocabulary.spiece_model
    common = dict(
        batch_size=train.batch_size, seq_length=data.seq_length,
        max_predictions_per_seq=data.max_predictions_per_seq,
        length_buckets=data.length_buckets,
    )
    if data.tfrecords or data.mode == "tfrecord":
        if data.tfrecords:
            train_files, eval_files = data.tfrecords, data.eval_tfrecords
        else:
            data_dir = output_dir / "data"
            if not (data_dir / creation.METADATA_FILE).is_file():
                creation.create_pretraining_data(
                    data.text_files, data_dir, spm_model=spiece_model,
                    max_seq_length=data.seq_length,
                    max_predictions_per_seq=data.max_predictions_per_seq,
                    masked_lm_prob=data.masked_lm_prob, max_ngram=data.max_ngram,
                    short_seq_prob=data.short_seq_prob, dupe_factor=data.dupe_factor,
                    holdout_every=data.holdout_every, seed=data.seed,
                    num_workers=data.num_workers,
                )
            train_files = str(data_dir / "train-*.tfrecord")
            eval_files = str(data_dir / "eval-*.tfrecord") if data.holdout_every else None
        train_ds = pipelines.tfrecord_dataset(train_files, seed=seed, skip_batches=skip_batches, **common)
        if eval_files:
            return train_ds, pipelines.tfrecord_dataset(eval_files, training=False, **common), "eval"
        return train_ds, pipelines.tfrecord_dataset(train_files, seed=seed + 1, **common), "train"
    text = dict(
        input_files=data.text_files, spm_model=spiece_model,
        masked_lm_prob=data.masked_lm_prob, max_ngram=data.max_ngram,
        short_seq_prob=data.short_seq_prob, holdout_every=data.holdout_every, **common,
    )
    train_ds = pipelines.text_dataset(seed=seed, skip_batches=skip_batches, split="train", **text)
    if data.holdout_every:
        return train_ds, pipelines.text_dataset(seed=seed + 1, split="eval", **text), "eval"
    return train_ds, pipelines.text_dataset(seed=seed + 1, split="train", **text), "train"


def build_pretrainer(cfg):
    """Builds and compiles the pretrainer and optimizer (call inside the strategy scope).

    Args:
        cfg: a `training.config.PretrainingConfig`.

    Returns:
        (the compiled `AlbertPretrainer`, its optimizer with slots built).
    """
    import keras

    from albert_tf import AlbertBackbone, AlbertPretrainer
    from training.distribute import fix_keras_distributed_fit
    from training.optimization import create_optimizer
    from training.tasks.pretraining import compile_pretrainer

    config = cfg.model.albert_config()
    if cfg.data.seq_length > config.max_position_embeddings:
        raise ValueError(
            f"data.seq_length={cfg.data.seq_length} exceeds the model's "
            f"max_position_embeddings={config.max_position_embeddings}"
        )
    precision = cfg.runtime.precision
    backbone = AlbertBackbone(config, dtype=None if precision == "float32" else precision)
    model = AlbertPretrainer(backbone)
    opt, sched, train = cfg.optimizer, cfg.schedule, cfg.train
    optimizer = create_optimizer(
        opt.name, opt.learning_rate, num_train_steps=train.steps,
        num_warmup_steps=sched.warmup_steps, weight_decay=opt.weight_decay,
        clipnorm=opt.clip_norm, beta_1=opt.beta_1, beta_2=opt.beta_2,
        epsilon=opt.epsilon, end_learning_rate=sched.end_learning_rate,
        power=sched.power, gradient_accumulation_steps=train.gradient_accumulation_steps,
    )
    if precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    compile_pretrainer(model, optimizer, cfg.runtime.jit_compile, train.steps_per_execution)
    fix_keras_distributed_fit(model)
    # Optimizer slots must exist before a checkpoint restore fills them.
    optimizer.build(model.trainable_variables)
    return model, optimizer


def run_pretraining(config):
    """Runs (or resumes) a pretraining experiment; returns the final metrics.

    Args:
        config: a `training.config.PretrainingConfig`, a dict or the path
            of a YAML / JSON file (see `PretrainingConfig.load`: unknown
            keys raise, old key names warn).

    Returns:
        dict with `step`, the last logging interval's training `loss`,
        `mlm_loss`, `sop_loss`, `mlm_accuracy`, `sop_accuracy`, the held-out
        `eval_*` metrics over `eval_sequences` held-out sequences,
        `mlm_unigram_baseline`, `eval_on` ("eval" or
        "train" when no held-out data), `resumed_from_step`,
        `train_seconds` and the output paths.
    """
    import keras
    import tensorflow as tf

    from albert_tf import saving
    from training.callbacks import (
        CheckpointEveryNSteps,
        MetricsLogger,
        TimeEstimate,
        optimizer_step,
        read_metrics,
    )
    from training.plots import save_curves
    from training.tasks.pretraining import unigram_baseline
    from training.distribute import get_strategy, is_chief, shard_for_workers, xla_can_compile_step
    from training.config import PretrainingConfig
    from training.data.creation import RESOURCE_PREFIX, resolve_path

    cfg = PretrainingConfig.load(config)
    _check(cfg)
    train = cfg.train
    output_dir = pathlib.Path(cfg.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(cfg.runtime.seed)

    strategy = get_strategy(cfg.runtime.strategy or "default", cfg.runtime.tpu_address)
    chief = is_chief(strategy)
    if cfg.runtime.jit_compile and not xla_can_compile_step(strategy):
        print(f"Note: XLA cannot compile the all-reduce of strategy {cfg.runtime.strategy!r} on CPUs; "
              "the train step runs without XLA", flush=True)
        cfg.runtime.jit_compile = False
    if chief:
        cfg.save(output_dir / "config.yaml")
    with strategy.scope():
        model, optimizer = build_pretrainer(cfg)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
    # Every worker takes part in saving (it may run collectives); only the
    # chief's checkpoints are kept, the others go to a scratch directory.
    checkpoint_dir = output_dir / "checkpoints"
    scratch_dir = None
    if not chief:
        scratch_dir = output_dir / f".worker-{strategy.cluster_resolver.task_id}"
        checkpoint_dir = scratch_dir / "checkpoints"
    manager = tf.train.CheckpointManager(
        checkpoint, str(checkpoint_dir), max_to_keep=train.keep_checkpoints
    )
    resumed_from = 0
    latest = tf.train.latest_checkpoint(str(output_dir / "checkpoints"))
    if latest:
        checkpoint.restore(latest).assert_existing_objects_matched()
        resumed_from = optimizer_step(optimizer)
        print(f"Resumed from {latest} at step {resumed_from}", flush=True)

    accumulation = train.gradient_accumulation_steps
    train_ds, eval_ds, eval_on = _datasets(cfg, output_dir, skip_batches=resumed_from * accumulation)
    train_ds, eval_ds = (shard_for_workers(ds, strategy) for ds in (train_ds, eval_ds))
    if not list(eval_ds.take(1)):
        data = cfg.data
        source = data.eval_tfrecords or f"holdout_every={data.holdout_every} over {data.text_files}"
        raise ValueError(
            f"The held-out pretraining data is empty ({source}): give a corpus with more documents "
            "(blank lines between them), a smaller holdout_every, or 0 to evaluate on training data"
        )
    callbacks = [CheckpointEveryNSteps(manager, optimizer, train.checkpoint_every)]
    if chief:
        callbacks.append(MetricsLogger(output_dir / "logs", optimizer, rename=RENAME))
        if train.verbose:
            callbacks.append(TimeEstimate("pretraining"))
    start = time.perf_counter()
    if resumed_from < train.steps:
        model.fit(
            train_ds,
            epochs=train.steps // train.log_every,
            initial_epoch=resumed_from // train.log_every,
            steps_per_epoch=train.log_every * accumulation,
            callbacks=callbacks,
            verbose=train.verbose if chief else 0,
            shuffle=False,  # the tf.data pipeline shuffles; Keras only warns that it cannot
        )
    train_seconds = time.perf_counter() - start
    if scratch_dir:
        shutil.rmtree(scratch_dir, ignore_errors=True)

    records = read_metrics(output_dir / "logs" / "metrics.jsonl") if chief else []
    metrics = {"step": optimizer_step(optimizer), "resumed_from_step": resumed_from,
               "train_seconds": round(train_seconds, 1), "eval_on": eval_on}
    if records:
        metrics.update({k: v for k, v in records[-1].items() if k != "step"})
    # At most eval_steps batches: a small held-out set may hold fewer.
    evaluation = model.evaluate(eval_ds.take(train.eval_steps), return_dict=True, verbose=0)
    metrics.update({f"eval_{RENAME.get(k, k)}": float(v) for k, v in evaluation.items()})
    # How many held-out pairs the eval accuracies average over (their standard error).
    metrics["eval_sequences"] = sum(int(y["sop_logits"].shape[0]) for _, y, _ in eval_ds.take(train.eval_steps))
    baseline, token = unigram_baseline(train_ds, eval_ds, train.eval_steps)
    metrics["mlm_unigram_baseline"] = baseline
    metrics["mlm_unigram_token"] = token

    model_dir = output_dir / "model"
    metrics["model"] = str(model_dir)
    if not chief:
        return metrics
    if records:
        metrics["curves"] = str(save_curves(records, output_dir / "curves.png", CURVE_PANELS))
    if not model_dir.exists():
        # The vocabulary travels with the model: fine-tuning and export read it there.
        spiece_model = resolve_path(cfg.vocabulary.spiece_model or f"{RESOURCE_PREFIX}albert-30k-clean.model")
        from albert_tf.text import AlbertTokenizer

        tokenizer = AlbertTokenizer(spiece_model, do_lower_case=cfg.vocabulary.do_lower_case,
                                    keep_accents=cfg.vocabulary.keep_accents)
        saving.save(model, model_dir, tokenizer=tokenizer)
    saving.atomic_write(output_dir / "final_metrics.json", json.dumps(metrics, indent=2, sort_keys=True))
    return metrics


def add_arguments(parser):
    cli_flags.add_config(parser, help="pretraining config (.yaml, .yml or .json), e.g. configs/pretrain_tiny.yaml")
    parser.add_argument("--output-dir", default=None, help="shorthand for --set output_dir=DIR")
    parser.add_argument("--steps", type=int, default=None, help="shorthand for --set train.steps=N")


def run(args):
    from training.config import PretrainingConfig

    shorthands = [(key, value) for key, value in (("output_dir", args.output_dir), ("train.steps", args.steps))
                  if value is not None]
    metrics = run_pretraining(PretrainingConfig.load(args.config, overrides=[*args.set, *shorthands]))
    print(json.dumps(metrics, indent=2))
    return 0

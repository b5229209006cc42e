"""Keras callbacks shared by pretraining and fine-tuning.

- `CheckpointEveryNSteps`: saves a `tf.train.CheckpointManager` every N
  optimizer updates and at the end (TensorFlow writes each checkpoint under
  temporary names and updates the `checkpoint` index last, so a kill never
  leaves a half-written latest checkpoint).
- `MetricsLogger`: at each epoch end writes the logs as TensorBoard
  scalars and as one JSON line (metrics.jsonl), both keyed by the global
  optimizer step, so curves continue across resumed runs.
- `TimeEstimate`: early in `fit` (after the epoch that compiles), prints
  how long the rest will take.
- `DevEvaluation`: scores the dev set with the task's full metric after
  each epoch (e.g. SQuAD F1, not a batch average) and keeps the best model
  directory on disk, for early stopping and model selection.

With `model.fit(..., steps_per_epoch=k)` an "epoch" is a logging interval
of k steps, and Keras' epoch-end logs are averages over that interval.
"""

import json
import pathlib
import time

import keras


def optimizer_step(optimizer):
    """Number of optimizer updates so far (micro-batches // accumulation steps)."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
    return int(keras.ops.convert_to_numpy(inner.iterations))


class CheckpointEveryNSteps(keras.callbacks.Callback):
    """Saves `manager` every `every_n_steps` optimizer updates and when training ends.

    Args:
        manager: a `tf.train.CheckpointManager` over the model and optimizer.
        optimizer: the optimizer whose update count numbers checkpoints.
        every_n_steps: interval N; a killed run loses at most N updates.

    Example:
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
    >>> manager = tf.train.CheckpointManager(checkpoint, "run/checkpoints", max_to_keep=3)
    >>> ds = tf.data.Dataset.from_tensors((tf.ones((4, 2)), tf.zeros((4, 1)))).repeat(7)
    >>> _ = model.fit(ds, callbacks=[CheckpointEveryNSteps(manager, model.optimizer, 3)], verbose=0)
    >>> [path.rsplit("-", 1)[-1] for path in manager.checkpoints]
    ['3', '6', '7']
    """

    def __init__(self, manager, optimizer, every_n_steps):
        super().__init__()
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be >= 1, got {every_n_steps!r}")
        self.manager = manager
        self.optimizer = optimizer
        self.every_n_steps = int(every_n_steps)
        self._last_saved = 0

    def on_train_begin(self, logs=None):
        latest = self.manager.latest_checkpoint
        saved = int(latest.rsplit("-", 1)[-1]) if latest else 0
        self._last_saved = max(saved, optimizer_step(self.optimizer))

    def _maybe_save(self, force=False):
        step = optimizer_step(self.optimizer)
        if step > self._last_saved and (force or step - self._last_saved >= self.every_n_steps):
            self.manager.save(checkpoint_number=step)
            self._last_saved = step

    def on_train_batch_end(self, batch, logs=None):
        self._maybe_save()

    def on_train_end(self, logs=None):
        self._maybe_save(force=True)


def _scalar_metadata():
    # tf.summary.scalar lives in the tensorboard package, which TensorFlow
    # does not install; tf.summary.write with the scalars plugin's metadata
    # writes the same event TensorBoard reads.
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata(data_class=summary_pb2.DATA_CLASS_SCALAR)
    metadata.plugin_data.plugin_name = "scalars"
    return metadata


class MetricsLogger(keras.callbacks.Callback):
    """Logs epoch-end metrics to TensorBoard and `metrics.jsonl` by global step.

    Args:
        log_dir: directory for the TensorBoard event files and metrics.jsonl.
        optimizer: gives the global step.
        rename: optional {keras log name: reported name}.
    """

    def __init__(self, log_dir, optimizer, rename=None):
        super().__init__()
        import tensorflow as tf

        self.log_dir = pathlib.Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.optimizer = optimizer
        self.rename = dict(rename or {})
        self._writer = tf.summary.create_file_writer(str(self.log_dir / "train"))
        self.last = {}

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        step = optimizer_step(self.optimizer)
        record = {"step": step}
        for key, value in (logs or {}).items():
            record[self.rename.get(key, key)] = float(value)
        with self._writer.as_default():
            for key, value in record.items():
                if key != "step":
                    tf.summary.write(key, tf.constant(value, tf.float32), step=step,
                                     metadata=_scalar_metadata())
        self._writer.flush()
        with open(self.log_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
        self.last = record

    def on_train_end(self, logs=None):
        self._writer.close()


def read_metrics(path):
    """Reads metrics.jsonl; a later record for the same step replaces an earlier one
    (a resumed run repeats the steps after its last checkpoint)."""
    by_step = {}
    path = pathlib.Path(path)
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                by_step[record["step"]] = record
    return [by_step[s] for s in sorted(by_step)]


class TimeEstimate(keras.callbacks.Callback):
    """Prints once, early in `fit`, how long the rest of it will take.

    The first epoch compiles a graph for each batch shape it meets (each
    length bucket, each padded length), so its step time says little; the
    estimate times the steps of the second epoch (of the first when there
    are only two) and multiplies by the steps left. One epoch: no line.

    Args:
        label: what is estimated, e.g. "pretraining".
        print_fn: where the line goes.

    Example:
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> lines = []
    >>> _ = model.fit(np.ones((40, 2)), np.ones((40, 1)), batch_size=4, epochs=3, verbose=0,
    ...               callbacks=[TimeEstimate("training", lines.append)])
    >>> len(lines), lines[0].startswith("training: about "), lines[0].endswith("a step over 10 more steps)")
    (1, True, True)
    """

    def __init__(self, label, print_fn=print):
        super().__init__()
        self.label = label
        self.print_fn = print_fn
        self._begin = self._end = None

    def on_epoch_begin(self, epoch, logs=None):
        self._begin = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        # The epoch's last step, not on_epoch_end: validation runs in between.
        self._end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        steps, epochs = self.params.get("steps"), self.params.get("epochs")
        if not steps or epochs is None or epoch != (1 if epochs >= 3 else 0) or epoch + 1 >= epochs:
            return
        per_step = (self._end - self._begin) / steps
        left = steps * (epochs - epoch - 1)
        self.print_fn(f"{self.label}: about {per_step * left / 60:.1f} min to go "
                      f"({per_step * 1000:.0f} ms a step over {left:,} more steps)")


class DevEvaluation(keras.callbacks.Callback):
    """Scores the dev set after each epoch; keeps the best model on disk.

    Adds every scalar dev metric to the epoch logs as `dev_<name>` (so
    EarlyStopping and the history see them) and, when `dev_<monitor>`
    improves, keeps the weights in memory and saves the model directory
    (`albert_tf.saving.save`, with its tokenizer and task metadata) to
    `best_dir`, replacing the previous best only once the new one is
    complete.

    Args:
        task: a `training.tasks.Task` (its `score` gives the metrics).
        dev_data: the dev examples, as the task's reader returns them.
        monitor: the metric to select on, e.g. "accuracy" or "f1".
        mode: "max" or "min".
        batch_size: evaluation batch size.
        best_dir: where the best model directory goes.
        tokenizer: the tokenizer saved with the model.
        task_info: the `task.json` content saved with the model.
        verbose: print the dev metric each epoch.
    """

    def __init__(self, task, dev_data, monitor, mode, batch_size, best_dir, tokenizer, task_info, verbose=1):
        super().__init__()
        self.task, self.dev_data, self.monitor, self.mode = task, dev_data, monitor, mode
        self.batch_size, self.best_dir = batch_size, pathlib.Path(best_dir)
        self.tokenizer, self.task_info, self.verbose = tokenizer, task_info, verbose
        self.best, self.best_epoch, self.best_weights = None, None, None

    def on_epoch_end(self, epoch, logs=None):
        from albert_tf import saving

        scores = self.task.score(self.model, self.dev_data, batch_size=self.batch_size)
        for name, value in scores.items():
            if isinstance(value, (int, float)):
                logs[f"dev_{name}"] = float(value)
        value = scores[self.monitor]
        better = self.best is None or (value > self.best if self.mode == "max" else value < self.best)
        if self.verbose:
            print(f"epoch {epoch + 1}: dev {self.monitor} = {value:.4f}{' (best)' if better else ''}")
        if better:
            self.best, self.best_epoch = value, epoch
            self.best_weights = self.model.get_weights()
            saving.save(self.model, self.best_dir, tokenizer=self.tokenizer, task_info=self.task_info,
                        replace=True)

"""`Task`: what fine-tuning and evaluation need to know about one kind of task.

A task (in tensorflow/models' sense) is data + loss + metrics: it turns a
reader's examples into a tf.data pipeline for its `albert_tf` task model,
names the model's loss and Keras metrics, and scores a model with the
task's official metrics. The loops in `training.loops` run any task the
same way; `training.tasks` lists them.
"""

import math


class Task:
    """What fine-tuning and evaluation need to know about one kind of task.

    Subclasses set `name` and `primary_metric` (the dev metric that picks
    the best epoch) and implement `build_model`, `compile_args`, `score`
    and `_batches` (or `dataset` itself).

    Example:
    >>> from training.tasks import get_task
    >>> task = get_task("classification", albert_tf.AlbertTokenizer(), seq_length=16)
    >>> isinstance(task, Task), task.name, sorted(task.compile_args())
    (True, 'classification', ['loss', 'metrics'])
    """

    name = None
    primary_metric = None

    def __init__(self, tokenizer, seq_length=128):
        if seq_length < 8:
            raise ValueError(f"seq_length must be at least 8, got {seq_length}")
        self.tokenizer = tokenizer
        self.seq_length = seq_length

    def num_outputs(self, data):
        return None

    def build_model(self, backbone, data, dropout=0.1):
        raise NotImplementedError

    def compile_args(self):
        raise NotImplementedError

    def num_batches(self, data, batch_size):
        """Batches in one pass over `data` (one epoch of `dataset`)."""
        return math.ceil(len(data) / batch_size)

    def _batches(self, data, batch_size, training=False, seed=0):
        """Batches (x, y, *extras) of `data`; the extras serve `score` (e.g. offsets)."""
        raise NotImplementedError

    def dataset(self, data, batch_size, training=False, seed=0, labels=True):
        """Batches (x, y) of `data`, or x alone when not `labels`; shuffled when `training`."""
        import tensorflow as tf

        ds = self._batches(data, batch_size, training, seed)
        ds = ds.map(lambda x, y, *extras: (x, y) if labels else x)
        return ds.prefetch(tf.data.AUTOTUNE)

    def score(self, model, data, batch_size=32, verbose=0):
        raise NotImplementedError


def batched_examples(columns, size, batch_size, training, seed, pack):
    """Slices `columns` into examples, shuffles them (when `training`), batches, maps `pack`.

    Args:
        columns: a (nested) tuple of [N, ...] tensors, one row per example.
        size: N, the shuffle buffer (at most 100,000).
        batch_size: B; the last batch may be smaller.
        training: reshuffle each epoch with `seed`; else keep the order.
        seed: the shuffle seed.
        pack: batch of columns -> (x, y, *extras).

    Example:
    >>> ds = batched_examples((tf.constant([1, 2, 3]),), 3, 2, False, 0, lambda v: (v, v * 10))
    >>> [y.numpy().tolist() for _, y in ds]
    [[10, 20], [30]]
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(columns)
    if training:
        ds = ds.shuffle(min(size, 100_000), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).map(pack, num_parallel_calls=tf.data.AUTOTUNE)

"""Choosing a `tf.distribute` strategy by name (one flag in the experiment config).

Names:
    "default": TensorFlow's default strategy (no distribution).
    "one_device": one accelerator if present, else the CPU.
    "cpu": `OneDeviceStrategy("/cpu:0")`, even when a GPU is present.
    "mirrored": `MirroredStrategy` over the local GPUs (or the CPU).
    "multi_worker": `MultiWorkerMirroredStrategy`; the cluster comes from the
        TF_CONFIG environment variable, which must be set.
    "tpu": `TPUStrategy` on the TPU named by `tpu_address` ("" = local).

Build the model and optimizer inside `strategy.scope()`; `model.fit` then
splits each global batch across replicas (call `fix_keras_distributed_fit`
on the compiled model first). Under "multi_worker" only the chief writes
(`is_chief`); XLA cannot compile cross-device collectives for CPUs
(`xla_can_compile_step`).
"""

import json
import os

STRATEGIES = ("default", "one_device", "cpu", "mirrored", "multi_worker", "tpu")


def get_strategy(name="one_device", tpu_address=""):
    """Returns the `tf.distribute.Strategy` called `name` (see the module docstring).

    Example:
    >>> strategy = get_strategy("mirrored")
    >>> with strategy.scope():
    ...     model = AlbertPretrainer(AlbertBackbone.from_preset("albert_tiny"))
    """
    import tensorflow as tf

    name = str(name).lower()
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}; expected one of {STRATEGIES}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "cpu":
        return tf.distribute.OneDeviceStrategy("/cpu:0")
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        tf_config = os.environ.get("TF_CONFIG")
        if not tf_config:
            raise ValueError(
                "strategy 'multi_worker' needs the TF_CONFIG environment variable "
                "(cluster and task), which is not set"
            )
        try:
            json.loads(tf_config)
        except json.JSONDecodeError as error:
            raise ValueError(f"TF_CONFIG is not valid JSON: {error}") from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_address)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def _is_distributed(strategy):
    """More than one replica, or one of several workers."""
    import tensorflow as tf

    return strategy.num_replicas_in_sync > 1 or isinstance(
        strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy):
    """Whether this process writes checkpoints, logs and the final model.

    True except on the non-chief workers of a `MultiWorkerMirroredStrategy`.
    """
    return bool(strategy.extended.should_checkpoint)


def xla_can_compile_step(strategy):
    """Whether a train step with this strategy's gradient all-reduce can be XLA-compiled.

    XLA does not implement collectives on CPU devices, so a multi-replica or
    multi-worker strategy on CPUs must run its step without XLA.
    """
    on_cpu = all("CPU" in device.upper() for device in strategy.extended.worker_devices)
    return not (_is_distributed(strategy) and on_cpu)


def shard_for_workers(dataset, strategy):
    """Shards `dataset` by element across the workers of a multi-worker strategy.

    tf.data's default shards by input file, which fails when there are fewer
    files than workers (a small held-out set is often one file); by element
    always works: each worker reads every file and keeps its 1/N share.
    Returns `dataset` unchanged for single-worker strategies.
    """
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return dataset
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def fix_keras_distributed_fit(model):
    """Lets `model.fit` / `evaluate` run under multi-replica and multi-worker strategies.

    Works around two Keras 3 bugs (checked on 3.15, keras-team/keras#20329):

    - Keras builds the model from the first distributed batch with
      `strategy.reduce("MEAN", batch)`, which TensorFlow rejects for a nested
      batch such as the pretrainer's (x, y, sample_weight) dicts. Building
      needs only shapes and dtypes, so this builds from the local replica's
      part of that batch instead.
    - Under `MultiWorkerMirroredStrategy` Keras averages the step's logs with
      `strategy.reduce("MEAN", value, axis=0)`, which fails for the scalar
      metric results. Here the step returns them with shape [1], so that
      reduction yields the (already synchronized) scalar.

    A no-op for single-replica, single-worker strategies. Returns `model`.
    """
    import tensorflow as tf
    from keras import tree

    strategy = model.distribute_strategy
    if not _is_distributed(strategy):
        return model
    keras_build = model._maybe_symbolic_build

    def local_part(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tree.map_structure(local_part, next(batches))
                break
        return keras_build(data_batch=data_batch)

    model._maybe_symbolic_build = build
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        for name in ("train_step", "test_step"):
            step = getattr(model, name)
            setattr(model, name, lambda data, step=step: tree.map_structure(
                lambda value: tf.reshape(value, [1]), step(data)))
    return model

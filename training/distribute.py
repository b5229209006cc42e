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
splits each global batch across replicas.
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

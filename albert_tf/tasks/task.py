"""`AlbertTask`: what every task model shares (backbone, registry declaration, serialization)."""

import keras


def head_dense(backbone, units, name):
    """A float32 dense output layer initialized like the backbone's kernels."""
    return keras.layers.Dense(
        units,
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=backbone.config.initializer_range),
        dtype="float32",
        name=name,
    )


def check_num_classes(num_classes):
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")


class AlbertTask(keras.Model):
    """Base of the task models: a functional model over an `AlbertBackbone`.

    Each subclass declares, as class attributes, what the task registry
    (`albert_tf.tasks.registry`) is built from:

        task_names: the task names the class serves, e.g. ("span_qa",).
        head_args: the constructor arguments that shape its head
            (`num_classes`, `dropout`); `build_task_model` passes them.
        task_arg: for a class that serves several tasks, the constructor
            argument holding the task name (`AlbertClassifier`'s
            `problem_type`); None otherwise.
        variant: None for the class a task name builds by default; a name
            (e.g. "squad_v2") for another head of the same task, built
            with `build_task_model(name, backbone, variant=...)`.

    `get_config` returns exactly `head_args`, `task_arg` and the serialized
    backbone, so each task round-trips through `.keras` files.
    """

    task_names = ()
    head_args = ()
    task_arg = None
    variant = None

    @property
    def task_name(self):
        """The registry name of this model's task, e.g. "regression" for a regression classifier."""
        return getattr(self, self.task_arg) if self.task_arg else self.task_names[0]

    def get_config(self):
        config = {
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "name": self.name,
            "trainable": self.trainable,
        }
        keys = self.head_args + ((self.task_arg,) if self.task_arg else ())
        config.update({key: getattr(self, key) for key in keys})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)

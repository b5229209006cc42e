"""`AlbertTask`: what every task model shares (backbone + serialization)."""

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

    Subclasses build their graph in `__init__` and list their own
    constructor arguments in `_config_keys`; `get_config` returns exactly
    those plus the serialized backbone, so each task round-trips through
    `.keras` files.
    """

    _config_keys = ()

    def get_config(self):
        config = {
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "name": self.name,
            "trainable": self.trainable,
        }
        config.update({key: getattr(self, key) for key in self._config_keys})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)

"""`AlbertTask`: what every task model shares (backbone + serialization)."""

import keras


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


"""Saving and loading albert_tf models as directories holding `model.keras`.

Writes are atomic: the model goes to a temporary sibling directory that is
renamed into place only when complete, so a failure leaves nothing behind.
"""

import os
import pathlib
import shutil
import tempfile

import keras

MODEL_FILE = "model.keras"


def save(model, directory, extra_files=None):
    """Saves `model` to `directory/model.keras`, atomically.

    Args:
        model: a Keras model (any albert_tf model).
        directory: target directory; it must not exist yet.
        extra_files: optional {name: bytes} written beside the model
            (e.g. the SentencePiece model as `spiece.model`).

    Returns:
        The directory as a `pathlib.Path`.
    """
    directory = pathlib.Path(directory)
    if directory.exists():
        raise FileExistsError(f"{directory} already exists; refusing to overwrite it")
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        model.save(staging / MODEL_FILE)
        for name, data in (extra_files or {}).items():
            (staging / name).write_bytes(data)
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def load(path, compile=False):
    """Loads an albert_tf model from a directory written by `save` or a `.keras` file.

    Example:
    >>> model = albert_tf.load("converted/albert_base_v2")
    """
    import albert_tf.tasks  # noqa: F401  (registers the task classes for deserialization)

    path = pathlib.Path(path)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"No albert_tf model at {path}")
    return keras.models.load_model(path, compile=compile)

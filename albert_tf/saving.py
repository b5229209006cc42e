"""Saving and loading albert_tf models as directories holding `model.keras`.

Writes are atomic: the model goes to a temporary sibling directory that is
renamed into place only when complete, so a failure leaves nothing behind.
"""

import contextlib
import os
import pathlib
import shutil
import tempfile

import keras

MODEL_FILE = "model.keras"


@contextlib.contextmanager
def atomic_directory(target):
    """Yields a hidden staging directory that becomes `target` on success.

    The staging directory is a sibling of `target` (same filesystem, so the
    final `os.replace` is atomic); any exception removes it and re-raises,
    leaving no trace of a half-written model or export.
    """
    target = pathlib.Path(target)
    if target.exists():
        raise FileExistsError(f"{target} already exists; refusing to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield staging
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


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
    with atomic_directory(directory) as staging:
        model.save(staging / MODEL_FILE)
        for name, data in (extra_files or {}).items():
            (staging / name).write_bytes(data)
    return pathlib.Path(directory)


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

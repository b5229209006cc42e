"""Atomic directory writes shared by every exporter here."""

import contextlib
import os
import pathlib
import shutil
import tempfile


@contextlib.contextmanager
def atomic_directory(target):
    """Yields a hidden staging directory that becomes `target` on success.

    The staging directory is a sibling of `target` (same filesystem, so the
    final `os.replace` is atomic); any exception removes it and re-raises,
    leaving no trace of a half-written export.
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

"""Helpers for the handle tests: hubs and caches that never touch the network.

`serve_directory` serves a directory over HTTP on 127.0.0.1 (with files
that can be cut short or answered with an error status, as a flaky network
would); `fill_huggingface_cache` and `fill_kagglehub_cache` lay a checkpoint
directory out the way huggingface_hub and kagglehub cache a download, so
their own offline paths find it; `write_google_tarball` writes an archive
in the layout of Google's ALBERT release tarballs.
"""

import contextlib
import http.server
import pathlib
import shutil
import tarfile
import threading

# A commit hash of the shape huggingface_hub records in refs/ (any 40 hex digits).
HF_COMMIT = "0123456789abcdef0123456789abcdef01234567"


@contextlib.contextmanager
def serve_directory(root, truncate=None, fail=None):
    """Serves the files under `root` at http://127.0.0.1:PORT/ in a thread.

    Args:
        root: the directory served; URL paths are relative to it.
        truncate: {file name: bytes}: announce the full Content-Length but
            send only the first `bytes`, then close the connection.
        fail: {file name: HTTP status}: answer with that status, no body.

    Yields:
        An object with `url(name)` and `requests` (the paths asked for, in order).
    """
    root = pathlib.Path(root)
    truncate = truncate or {}
    fail = fail or {}
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            name = self.path.split("?")[0].lstrip("/")
            requests.append(self.path)
            path = root / name
            if name in fail:
                self.send_error(fail[name])
                return
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:truncate.get(name, len(data))])
            self.close_connection = True

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class Served:
        def url(self, name):
            return f"http://127.0.0.1:{server.server_port}/{name}"

    served = Served()
    served.requests = requests
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


def fill_huggingface_cache(cache, repo_id, source, revision="main"):
    """Copies a `save_pretrained` directory into a huggingface_hub cache.

    Lays out `models--OWNER--NAME/snapshots/<commit>/` with `refs/<revision>`
    naming the commit, which `snapshot_download(..., local_files_only=True)`
    (and `HF_HUB_OFFLINE=1`) resolves. Returns the snapshot directory.
    """
    repo = pathlib.Path(cache) / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / HF_COMMIT
    shutil.copytree(source, snapshot)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / revision).write_text(HF_COMMIT)
    return snapshot


def fill_kagglehub_cache(cache, handle, source):
    """Copies a directory into a kagglehub cache under a versioned model handle.

    `handle` is "owner/model/framework/variation/version"; kagglehub reads
    `models/<handle>/` once the marker `models/<...variation>/<version>.complete`
    exists. Returns the model directory.
    """
    parts = handle.split("/")
    if len(parts) != 5:
        raise ValueError(f"a versioned Kaggle model handle has 5 parts, got {handle!r}")
    target = pathlib.Path(cache, "models", *parts)
    shutil.copytree(source, target)
    pathlib.Path(cache, "models", *parts[:4], f"{parts[4]}.complete").touch()
    return target


def write_google_tarball(path, folder="albert_tiny", files=None):
    """Writes a .tar.gz in the layout of Google's release tarballs.

    One top-level `folder` holding `albert_config.json`, a TF1 checkpoint
    (`model.ckpt-best.index`, `.data-00000-of-00001`, `.meta`) and the
    SentencePiece files, with placeholder bytes unless `files` ({name: bytes})
    gives them. Returns `path`.
    """
    files = files or {
        "albert_config.json": b'{"vocab_size": 30000}',
        "model.ckpt-best.index": b"index",
        "model.ckpt-best.data-00000-of-00001": b"\0" * 4096,
        "model.ckpt-best.meta": b"meta",
        "30k-clean.model": b"spm",
        "30k-clean.vocab": b"vocab",
    }
    path = pathlib.Path(path)
    staging = path.parent / f".{path.name}.src" / folder
    staging.mkdir(parents=True)
    for name, data in files.items():
        (staging / name).write_bytes(data)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(staging, arcname=folder)
    shutil.rmtree(staging.parent)
    return path

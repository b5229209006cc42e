"""Handles: where a checkpoint lives, resolved to a local directory of its files.

`resolve(handle)` turns any of the handle kinds users hold (ALBERT_REFERENCE
section 10) into a local directory, downloading into a cache when needed;
`detect_format(directory)` says which checkpoint format the directory holds.

    hf://owner/name[@revision]            Hugging Face Hub, through huggingface_hub
    kaggle://owner/model/framework/variation[/version]
                                          Kaggle Models, through kagglehub
    https://tfhub.dev/..., https://www.kaggle.com/models/...
                                          TF Hub modules, fetched as tensorflow_hub does
    https://.../albert_base_v2.tar.gz     Google's release tarballs (any archive URL)
    a local directory or archive          (.tar.gz, .tgz, .tar, .zip)

Hugging Face and Kaggle handles live in their libraries' own caches
(`HF_HUB_CACHE`, `KAGGLEHUB_CACHE`), shared with transformers and keras-hub;
everything else is extracted under `default_cache_dir()`: `ALBERT_TF_CACHE`, else
`$XDG_CACHE_HOME/albert_tf`, else `~/.cache/albert_tf`. A download is
written, verified (size, sha256 where a digest is known) and extracted in a
hidden staging directory that is renamed into place only when complete, so
the cache never holds anything half-written. `ALBERT_TF_OFFLINE=1` (or
`HF_HUB_OFFLINE=1`) forbids the network: a handle that is not cached fails
with `OfflineError`.

This module does pure I/O: no TensorFlow or Keras import, so it sits in the
bottom room of the import graph and every room above may use it.
"""

import fnmatch
import gzip
import hashlib
import http.client
import os
import pathlib
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib

# Examples shown in every "which handle did you mean" error.
HANDLE_KINDS = (
    ("Hugging Face Hub", "hf://albert/albert-base-v2[@revision]"),
    ("Kaggle Models", "kaggle://keras/albert/keras/albert_base_en_uncased[/version]"),
    ("TF Hub module", "https://tfhub.dev/tensorflow/albert_en_base/3"),
    ("release tarball URL", "https://storage.googleapis.com/albert_models/albert_base_v2.tar.gz"),
    ("local directory", "/path/to/checkpoint_dir"),
    ("local archive (.tar.gz, .tgz, .tar, .zip)", "/path/to/albert_base_v2.tar.gz"),
)

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")

# sha256 of published archives, by URL. Google publishes no digests for the
# ALBERT tarballs, so entries are added only from a verified download; until
# then `resolve(..., sha256=...)` is how a user pins one.
KNOWN_SHA256 = {}

# Hosts whose model URLs are TF Hub modules. tensorflow_hub fetches them as a
# tarball by adding `tf-hub-format=compressed` to the query, except the China
# mirror, whose tarballs it reads straight from its GCS mirror.
TFHUB_HOSTS = ("tfhub.dev", "www.kaggle.com", "kaggle.com", "hub.tensorflow.google.cn")
_TFHUB_FORMAT_QUERY = ("tf-hub-format", "compressed")
_TFHUB_CN_HOST = "hub.tensorflow.google.cn"
_TFHUB_CN_TARBALL = "https://gcs.tensorflow.google.cn/tfhub-modules/{}.tar.gz"

# Checkpoint formats, in the order they are tried: each needs one file
# matching some pattern of every group (a trailing "/" means a directory).
FORMATS = (
    # albert_tf.saving's model directory (its MODEL_FILE; saving imports
    # Keras, so the name is repeated here rather than imported upward).
    ("albert_tf", (("model.keras",),)),
    ("keras_hub_preset", (("config.json",), ("metadata.json",), ("model.weights.h5",))),
    ("huggingface", (("config.json",), ("model.safetensors", "model.safetensors.index.json",
                                        "pytorch_model.bin", "pytorch_model.bin.index.json"))),
    ("tf1_checkpoint", (("albert_config.json",), ("*.ckpt*.index",))),
    ("tfhub_saved_model", (("saved_model.pb",), ("variables/",))),
)

_TRUE = ("1", "true", "yes", "on")
_CHUNK_BYTES = 1 << 20


class OfflineError(ConnectionError):
    """A handle is not in the cache and the network is forbidden."""


class DownloadError(OSError):
    """A download failed or arrived truncated, or an archive does not match its sha256."""


def default_cache_dir():
    """The directory where albert_tf keeps downloaded and extracted checkpoints.

    Returns:
        `pathlib.Path`: `$ALBERT_TF_CACHE` if set, else
        `$XDG_CACHE_HOME/albert_tf`, else `~/.cache/albert_tf` (not created).

    Example:

    >>> import os
    >>> os.environ["ALBERT_TF_CACHE"] = "/data/albert_cache"
    >>> str(default_cache_dir())
    '/data/albert_cache'
    >>> del os.environ["ALBERT_TF_CACHE"]
    """
    if os.environ.get("ALBERT_TF_CACHE"):
        return pathlib.Path(os.environ["ALBERT_TF_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base).expanduser() / "albert_tf"


def offline_variable():
    """The environment variable that forbids the network, or None.

    `ALBERT_TF_OFFLINE` is ours; `HF_HUB_OFFLINE` is honoured too, so one
    switch keeps a whole Hugging Face + albert_tf setup off the network.

    Returns:
        The name of the first of the two set to 1/true/yes/on, else None.

    Example:

    >>> import os
    >>> os.environ["ALBERT_TF_OFFLINE"] = "1"
    >>> offline_variable()
    'ALBERT_TF_OFFLINE'
    >>> del os.environ["ALBERT_TF_OFFLINE"]
    """
    for name in ("ALBERT_TF_OFFLINE", "HF_HUB_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in _TRUE:
            return name
    return None


def resolve(handle, cache_dir=None, sha256=None):
    """The local directory holding the files of the checkpoint at `handle`.

    Downloads and extracts what is not cached yet; a cached handle costs no
    network access. The handle kinds are listed in the module docstring.

    Args:
        handle: a handle string (`hf://...`, `kaggle://...`, an https URL)
            or a local path (str or `pathlib.Path`) to a directory or archive.
        cache_dir: where URL downloads and local archives are extracted;
            default `default_cache_dir()`. Hugging Face and Kaggle handles always
            use their libraries' caches.
        sha256: expected hex digest of a downloaded or local archive;
            default `KNOWN_SHA256[url]` where known, else not checked.
            Refused for hub handles and directories.

    Returns:
        `pathlib.Path` of a directory; for an archive holding a single
        top-level folder (Google's tarballs), that folder.

    Raises:
        ValueError: the handle has no known kind (the message lists them),
            or an archive is corrupt or has a member outside its root.
        FileNotFoundError: a local path that does not exist.
        DownloadError: a download failed, was truncated or has the wrong
            sha256 (nothing is left in the cache).
        OfflineError: offline mode is on and the handle is not cached.

    Example:

    >>> import tarfile
    >>> pathlib.Path("albert_tiny").mkdir()
    >>> _ = pathlib.Path("albert_tiny/albert_config.json").write_text("{}")
    >>> with tarfile.open("albert_tiny.tar.gz", "w:gz") as tar:
    ...     tar.add("albert_tiny")
    >>> local = resolve("albert_tiny.tar.gz", cache_dir="cache")
    >>> local.name, sorted(p.name for p in local.iterdir())
    ('albert_tiny', ['albert_config.json'])
    >>> resolve("albert_tiny") == pathlib.Path("albert_tiny").resolve()
    True
    """
    if isinstance(handle, os.PathLike):
        handle = os.fspath(handle)
    if not isinstance(handle, str) or not handle:
        raise ValueError(f"a handle must be a non-empty string or path, got {handle!r}; {_kinds_text()}")
    cache = pathlib.Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    scheme = urllib.parse.urlsplit(handle).scheme.lower()
    if sha256 is not None and (scheme in ("hf", "kaggle") or pathlib.Path(handle).is_dir()):
        raise ValueError(f"sha256= checks an archive, but {handle!r} is not one "
                         "(hub libraries verify their own downloads)")
    if scheme == "hf":
        return _resolve_huggingface(handle)
    if scheme == "kaggle":
        return _resolve_kaggle(handle)
    if scheme in ("http", "https"):
        return _resolve_url(handle, cache, sha256)
    path = pathlib.Path(handle).expanduser()
    if path.is_dir():
        return path.resolve()
    if path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES):
        return _resolve_local_archive(handle, path, cache, sha256)
    if path.exists():
        raise ValueError(f"{handle!r} is a file but not an archive ({', '.join(ARCHIVE_SUFFIXES)}); {_kinds_text()}")
    if scheme or "://" in handle:
        raise ValueError(f"unknown handle scheme {scheme!r} in {handle!r}; {_kinds_text()}")
    raise FileNotFoundError(f"no such local directory or archive: {handle!r}; {_kinds_text()}")


def detect_format(directory):
    """The checkpoint format a directory holds, judged by its files.

    Formats are tried in the order of `FORMATS`: "albert_tf" (a model
    directory written by `albert_tf.save`), "keras_hub_preset",
    "huggingface" (`save_pretrained` output), "tf1_checkpoint" (Google's
    release layout) and "tfhub_saved_model".

    Args:
        directory: a local directory (str or `pathlib.Path`).

    Returns:
        The format's name, one of the names in `FORMATS`.

    Raises:
        NotADirectoryError: `directory` is not a directory.
        ValueError: no format matches; the message lists every format with
            the files it expects, and the files found.

    Example:

    >>> pathlib.Path("hf_model").mkdir()
    >>> for name in ("config.json", "model.safetensors", "spiece.model"):
    ...     _ = (pathlib.Path("hf_model") / name).write_bytes(b"")
    >>> detect_format("hf_model")
    'huggingface'
    """
    directory = pathlib.Path(directory)
    if not directory.is_dir():
        raise NotADirectoryError(f"{directory} is not a directory, so it holds no checkpoint")
    names = sorted(p.name + "/" if p.is_dir() else p.name for p in directory.iterdir())
    for name, groups in FORMATS:
        if all(any(fnmatch.filter(names, pattern) for pattern in group) for group in groups):
            return name
    expected = "; ".join(
        f"{name}: " + " + ".join(" or ".join(group) for group in groups) for name, groups in FORMATS)
    found = ", ".join(names[:30]) + (f", ... ({len(names)} in all)" if len(names) > 30 else "")
    raise ValueError(f"{directory} holds no known checkpoint format. Tried {expected}. "
                     f"Found: {found or 'nothing (empty directory)'}")


def _kinds_text():
    return "known handle kinds: " + "; ".join(f"{kind}, e.g. {example}" for kind, example in HANDLE_KINDS)


def _offline_message(handle, cache, variable):
    return (f"{handle!r} is not in the cache ({cache}) and {variable} is set, so nothing is downloaded. "
            f"Ways out: unset {variable} to download it; pass a local directory or archive of the "
            "checkpoint instead; or build the model without weights (from_preset(..., load_weights=False)).")


def _resolve_huggingface(handle):
    spec = handle[len("hf://"):]
    repo_id, _, revision = spec.partition("@")
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts) or (spec.count("@") and not revision):
        raise ValueError(f"{handle!r} is not a Hugging Face handle of the form "
                         "hf://owner/name[@revision], e.g. hf://albert/albert-base-v2")
    import huggingface_hub  # deferred: only Hugging Face handles need it

    variable = offline_variable()
    try:
        return pathlib.Path(huggingface_hub.snapshot_download(
            repo_id, revision=revision or None, local_files_only=variable is not None))
    except huggingface_hub.errors.LocalEntryNotFoundError as e:
        cache = huggingface_hub.constants.HF_HUB_CACHE
        if variable is not None:
            raise OfflineError(_offline_message(handle, cache, variable)) from e
        raise DownloadError(f"{handle!r}: could not reach the Hugging Face Hub and it is not in the "
                            f"cache ({cache}): {e}") from e


def _resolve_kaggle(handle):
    parts = handle[len("kaggle://"):].split("/")
    if len(parts) not in (4, 5) or not all(parts) or (len(parts) == 5 and not parts[4].isdigit()):
        raise ValueError(f"{handle!r} is not a Kaggle handle of the form "
                         "kaggle://owner/model/framework/variation[/version], "
                         "e.g. kaggle://keras/albert/keras/albert_base_en_uncased/2")
    import kagglehub  # deferred: only Kaggle handles need it

    variable = offline_variable()
    if variable is not None:
        # kagglehub has no offline switch: it asks the server for the latest
        # version of an unversioned handle, and downloads a versioned one
        # its cache lacks (its `<version>.complete` marker says complete).
        cache = kagglehub.config.get_cache_folder()
        if len(parts) == 4:
            raise OfflineError(_offline_message(handle, cache, variable) + " A Kaggle handle needs its "
                               "version (kaggle://.../variation/VERSION) to be found in the cache offline.")
        marker = pathlib.Path(cache, "models", *parts[:4], f"{parts[4]}.complete")
        if not marker.is_file():
            raise OfflineError(_offline_message(handle, cache, variable))
    return pathlib.Path(kagglehub.model_download("/".join(parts)))


def _resolve_url(handle, cache, sha256):
    parsed = urllib.parse.urlsplit(handle)
    host = parsed.hostname or ""
    if host in TFHUB_HOSTS:
        # The cache key is tensorflow_hub's own (sha1 of the handle), so a
        # module it already fetched into TFHUB_CACHE_DIR is used as is.
        key = hashlib.sha1(handle.encode("utf8")).hexdigest()
        tfhub_cache = os.environ.get("TFHUB_CACHE_DIR")
        if tfhub_cache and _is_populated(pathlib.Path(tfhub_cache, key)):
            return pathlib.Path(tfhub_cache, key)
        return _fetch(handle, _tfhub_tarball_url(handle), cache / "tfhub" / key, sha256)
    name = pathlib.PurePosixPath(parsed.path).name
    if not name.endswith(ARCHIVE_SUFFIXES):
        raise ValueError(f"{handle!r} is a URL but neither a TF Hub module ({', '.join(TFHUB_HOSTS)}) nor an "
                         f"archive ({', '.join(ARCHIVE_SUFFIXES)}); {_kinds_text()}")
    key = hashlib.sha256(handle.encode("utf8")).hexdigest()[:16]
    return _fetch(handle, handle, cache / "downloads" / f"{_stem(name)}-{key}", sha256)


def _tfhub_tarball_url(handle):
    """The URL of the tarball of the TF Hub module at `handle` (tensorflow_hub's rule)."""
    parsed = urllib.parse.urlsplit(handle)
    if parsed.hostname == _TFHUB_CN_HOST:
        return _TFHUB_CN_TARBALL.format(parsed.path.strip("/"))
    query = urllib.parse.parse_qsl(parsed.query) + [_TFHUB_FORMAT_QUERY]
    return urllib.parse.urlunsplit(parsed._replace(query=urllib.parse.urlencode(query)))


def _resolve_local_archive(handle, path, cache, sha256):
    digest = _sha256_of(path)
    _check_digest(handle, str(path), digest, sha256)
    target = cache / "archives" / f"{_stem(path.name)}-{digest[:16]}"
    if not _is_populated(target):
        with _Staging(target) as staging:
            _extract(handle, path, staging / "tree", path)
            staging.commit(staging / "tree")
    return _single_root(target)


def _fetch(handle, url, target, sha256):
    """Downloads `url`, checks it and extracts it to `target` (if not there)."""
    if _is_populated(target):
        return _single_root(target)
    variable = offline_variable()
    if variable is not None:
        raise OfflineError(_offline_message(handle, target, variable))
    expected = sha256 or KNOWN_SHA256.get(url)
    with _Staging(target) as staging:
        archive = staging / "download"
        digest = _download(handle, url, archive)
        _check_digest(handle, url, digest, expected)
        _extract(handle, archive, staging / "tree", url)
        archive.unlink()
        staging.commit(staging / "tree")
    return _single_root(target)


def _download(handle, url, path):
    """Streams `url` to `path` with a progress bar; returns its sha256."""
    from tqdm.auto import tqdm  # deferred: only downloads draw a progress bar

    try:
        response = urllib.request.urlopen(url, timeout=60)
    except urllib.error.HTTPError as e:
        raise DownloadError(f"{handle!r}: GET {url} answered HTTP {e.code} {e.reason}") from e
    except (urllib.error.URLError, OSError) as e:
        raise DownloadError(f"{handle!r}: cannot reach {url} ({getattr(e, 'reason', e)}); "
                            "check the network, or pass a local directory or archive instead") from e
    length = response.headers.get("Content-Length")
    expected_bytes = int(length) if length and length.isdigit() else None
    digest = hashlib.sha256()
    received = 0
    try:
        with response, open(path, "wb") as out, tqdm(
                total=expected_bytes, unit="B", unit_scale=True, unit_divisor=1024,
                desc=pathlib.PurePosixPath(urllib.parse.urlsplit(url).path).name, disable=None) as bar:
            while chunk := response.read(_CHUNK_BYTES):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    except (http.client.IncompleteRead, ConnectionError, TimeoutError) as e:
        raise DownloadError(f"{handle!r}: download of {url} broke off after {received} of "
                            f"{expected_bytes or 'unknown'} bytes ({type(e).__name__})") from e
    if expected_bytes is not None and received != expected_bytes:
        raise DownloadError(f"{handle!r}: download of {url} is truncated: got {received} bytes, "
                            f"the server announced {expected_bytes}")
    return digest.hexdigest()


def _check_digest(handle, source, got, expected):
    if expected is not None and got != expected.strip().lower():
        raise DownloadError(f"{handle!r}: sha256 of {source} does not match: expected {expected}, got {got}")


def _extract(handle, archive, destination, source):
    """Extracts a tar (any compression) or zip archive, refusing unsafe members."""
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zipped:
                for name in zipped.namelist():
                    member = pathlib.PurePosixPath(name)
                    if member.is_absolute() or ".." in member.parts:
                        raise ValueError(f"member {name!r} would land outside the extraction directory")
                zipped.extractall(destination)
        elif tarfile.is_tarfile(archive):
            if not hasattr(tarfile, "data_filter"):
                raise ValueError("this Python cannot extract archives safely; "
                                 "Python 3.10.12 or 3.11.4 and later can (PEP 706)")
            with tarfile.open(archive, "r:*") as tar:
                # The "data" filter refuses absolute names, "..", links that
                # leave the destination and device files (PEP 706).
                tar.extractall(destination, filter="data")
        else:
            raise ValueError("it is neither a tar nor a zip archive")
    except (ValueError, tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise ValueError(f"{handle!r}: cannot extract {source}: {e}") from e


class _Staging:
    """A hidden sibling directory of `target` that becomes it on `commit`.

    albert_tf.saving.atomic_directory does this for model directories, but
    saving imports Keras and this module must not; here the directory may
    also appear meanwhile from a concurrent download of the same handle,
    which is then kept. Anything not committed is removed on exit.
    """

    def __init__(self, target):
        self.target = target

    def __enter__(self):
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.path = pathlib.Path(tempfile.mkdtemp(prefix=f".{self.target.name}.tmp-", dir=self.target.parent))
        return self

    def __truediv__(self, name):
        return self.path / name

    def commit(self, tree):
        try:
            os.replace(tree, self.target)
        except OSError:
            if not _is_populated(self.target):
                raise

    def __exit__(self, *exc_info):
        shutil.rmtree(self.path, ignore_errors=True)


def _is_populated(directory):
    return directory.is_dir() and any(directory.iterdir())


def _single_root(directory):
    entries = list(directory.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return directory


def _stem(name):
    for suffix in ARCHIVE_SUFFIXES:
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()

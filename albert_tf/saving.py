"""The model directory: the one owner of the files that travel with a model.

A model directory holds

    model.keras      the Keras model (any albert_tf backbone or task model)
    spiece.model     the SentencePiece model it was trained with (English
                     ALBERT), or
    vocab.txt        the WordPiece vocabulary, one token a line (Chinese
                     ALBERT); which of the two is there says the kind
    tokenizer.json   the tokenizer settings: {"do_lower_case", "keep_accents"}
                     for SentencePiece, {"do_lower_case"} for WordPiece
    task.json        what fine-tuning recorded: task name, seq_length,
                     task options (absent for pretrained and converted models)

`save` writes all of them at once and atomically (a hidden staging
directory renamed into place), so a failure leaves nothing behind;
`load`, `load_tokenizer` and `read_task_info` read them back. Every
command that writes or reads a model directory goes through here, so the
vocabulary and its settings can never be dropped on the way from
conversion to fine-tuning to export. `atomic_write` is the one way this
project writes a single file atomically (`atomic_path` for writers that
want a file name).
"""

import collections
import contextlib
import json
import os
import pathlib
import shutil
import tempfile

import keras

MODEL_FILE = "model.keras"
SPIECE_FILE = "spiece.model"
# The first of albert_tf.text.assets.WORDPIECE_FILES, so that
# `tokenizer_from_assets` reads a model directory like a Hugging Face one.
VOCAB_FILE = "vocab.txt"
TOKENIZER_FILE = "tokenizer.json"
TASK_FILE = "task.json"


@contextlib.contextmanager
def atomic_directory(target, replace=False):
    """Yields a hidden staging directory that becomes `target` on success.

    The staging directory is a sibling of `target` (same filesystem, so the
    final `os.replace` is atomic); any exception removes it and re-raises,
    leaving no trace of a half-written model or export, and the old
    `target` untouched.

    Args:
        target: the directory to create.
        replace: an existing `target` is replaced once the new one is
            complete (removed just before the rename); else it is an error.

    Raises:
        FileExistsError: `target` exists and `replace` is False.
    """
    target = pathlib.Path(target)
    if target.exists() and not replace:
        raise FileExistsError(f"{target} already exists; refusing to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield staging
        if replace and target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary sibling path that is renamed to `path` on success.

    For writers that want a file name (TFRecord writers, matplotlib):
    readers see the old file or the complete new one, never a partial one;
    an exception removes the temporary file. Parent directories are created.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path, data):
    """Writes `data` (str or bytes) to `path` atomically (see `atomic_path`).

    Returns:
        `path` as a `pathlib.Path`.

    Example:
    >>> atomic_write("out/metrics.json", '{"accuracy": 0.5}')
    PosixPath('out/metrics.json')
    >>> pathlib.Path("out/metrics.json").read_text()
    '{"accuracy": 0.5}'
    """
    with atomic_path(path) as tmp:
        pathlib.Path(tmp).write_bytes(data.encode() if isinstance(data, str) else data)
    return pathlib.Path(path)


TokenizerAssets = collections.namedtuple("TokenizerAssets", ["kind", "file_name", "data", "settings"])
TokenizerAssets.__doc__ = """What travels with a tokenizer: its kind, vocabulary file and settings.

Fields:
    kind: "sentencepiece" or "wordpiece".
    file_name: `SPIECE_FILE` or `VOCAB_FILE`.
    data: the file's bytes (the SentencePiece model proto, or the WordPiece
        tokens one a line, UTF-8, so that line i holds id i).
    settings: the constructor settings (`do_lower_case`, and for
        SentencePiece `keep_accents`).
"""


def tokenizer_assets(tokenizer):
    """The files and settings that rebuild `tokenizer` (model directories and exports write them).

    Args:
        tokenizer: an `albert_tf.text.AlbertTokenizer` or `AlbertWordPieceTokenizer`.

    Returns:
        `TokenizerAssets`.

    Raises:
        TypeError: `tokenizer` is neither kind.

    Example:
    >>> assets = tokenizer_assets(albert_tf.AlbertWordPieceTokenizer(do_lower_case=False))
    >>> assets.kind, assets.file_name, assets.settings, assets.data.decode().split("\\n")[100:104]
    ('wordpiece', 'vocab.txt', {'do_lower_case': False}, ['[UNK]', '[CLS]', '[SEP]', '[MASK]'])
    """
    from albert_tf.text import AlbertTokenizer, AlbertWordPieceTokenizer

    if isinstance(tokenizer, AlbertWordPieceTokenizer):
        vocab = "".join(f"{token}\n" for token in tokenizer.vocabulary).encode("utf-8")
        return TokenizerAssets("wordpiece", VOCAB_FILE, vocab, {"do_lower_case": tokenizer.do_lower_case})
    if isinstance(tokenizer, AlbertTokenizer):
        settings = {"do_lower_case": tokenizer.do_lower_case, "keep_accents": tokenizer.keep_accents}
        return TokenizerAssets("sentencepiece", SPIECE_FILE, tokenizer.proto, settings)
    raise TypeError(
        f"tokenizer must be an albert_tf.text.AlbertTokenizer or AlbertWordPieceTokenizer, "
        f"got {type(tokenizer).__name__}"
    )


def save(model, directory, tokenizer=None, task_info=None, replace=False):
    """Saves `model`, its tokenizer and its task metadata to `directory`, atomically.

    Args:
        model: a Keras model (any albert_tf model).
        directory: target directory; it must not exist yet.
        tokenizer: the `albert_tf.text.AlbertTokenizer` or
            `AlbertWordPieceTokenizer` the model is used with; its
            SentencePiece model or WordPiece vocabulary and its settings
            are written beside the model.
        task_info: optional JSON-able dict written as `task.json` (the
            fine-tuning task, `seq_length`, task options).
        replace: replace an existing `directory` once the new one is
            complete (see `atomic_directory`).

    Returns:
        The directory as a `pathlib.Path`.

    Raises:
        FileExistsError: `directory` exists and `replace` is False.
        TypeError: `tokenizer` is neither kind of albert_tf tokenizer.

    Example:
    >>> model = albert_tf.AlbertClassifier(albert_tf.AlbertBackbone.from_preset("albert_tiny"))
    >>> tokenizer = albert_tf.AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"))
    >>> save(model, "runs/clf", tokenizer=tokenizer, task_info={"task": "classification"})
    PosixPath('runs/clf')
    >>> sorted(p.name for p in pathlib.Path("runs/clf").iterdir())
    ['model.keras', 'spiece.model', 'task.json', 'tokenizer.json']
    """
    files = {}
    if tokenizer is not None:
        assets = tokenizer_assets(tokenizer)
        files[assets.file_name] = assets.data
        files[TOKENIZER_FILE] = json.dumps(assets.settings, indent=2).encode()
    if task_info is not None:
        files[TASK_FILE] = json.dumps(task_info, indent=2, sort_keys=True).encode()
    with atomic_directory(directory, replace=replace) as staging:
        model.save(staging / MODEL_FILE)
        for name, data in files.items():
            (staging / name).write_bytes(data)
    return pathlib.Path(directory)


def _directory_of(path):
    path = pathlib.Path(path)
    return path if path.is_dir() else path.parent


def load(path, compile=False):
    """Loads an albert_tf model from a directory written by `save` or a `.keras` file.

    Raises:
        FileNotFoundError: no `model.keras` at `path`.

    Example:
    >>> save(albert_tf.AlbertBackbone.from_preset("albert_tiny"), "runs/backbone")
    PosixPath('runs/backbone')
    >>> load("runs/backbone").count_params()
    1016256
    """
    import albert_tf.tasks  # noqa: F401  (registers the task classes for deserialization)

    path = pathlib.Path(path)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"No albert_tf model at {path}")
    return keras.models.load_model(path, compile=compile)


def read_task_info(path):
    """The `task.json` of a model directory (or of a `.keras` file's directory); {} when absent."""
    task_file = _directory_of(path) / TASK_FILE
    return json.loads(task_file.read_text()) if task_file.is_file() else {}


def tokenizer_kind(path):
    """"sentencepiece" or "wordpiece": the kind of tokenizer a model directory holds.

    Follows the vocabulary file (`spiece.model` or `vocab.txt`); a directory
    with neither (a model saved without a tokenizer) is "sentencepiece", as
    `load_tokenizer` then gives the shipped English model.
    """
    directory = _directory_of(path)
    if not (directory / SPIECE_FILE).is_file() and (directory / VOCAB_FILE).is_file():
        return "wordpiece"
    return "sentencepiece"


def tokenizer_settings(path):
    """The tokenizer settings recorded in a model directory.

    `tokenizer.json` where present; directories written before it existed
    kept `do_lower_case` in `task.json`. Defaults: lowercase, and for
    SentencePiece strip accents (the English ALBERT releases). WordPiece
    has no `keep_accents`: BERT's BasicTokenizer strips accents exactly
    when it lowercases.
    """
    directory = _directory_of(path)
    settings = {"do_lower_case": True}
    if tokenizer_kind(directory) == "sentencepiece":
        settings["keep_accents"] = False
    if (directory / TOKENIZER_FILE).is_file():
        settings.update(json.loads((directory / TOKENIZER_FILE).read_text()))
    elif "do_lower_case" in read_task_info(directory):
        settings["do_lower_case"] = read_task_info(directory)["do_lower_case"]
    return settings


def load_tokenizer(path=None, **overrides):
    """The tokenizer a model directory was saved with, of the kind its files call for.

    Args:
        path: a model directory (or a `.keras` file inside one); None, or a
            directory with neither `spiece.model` nor `vocab.txt`, gives the
            shipped 30k-clean English model.
        **overrides: `do_lower_case` / `keep_accents` values that replace
            the recorded ones (None keeps the recorded value).

    Returns:
        `AlbertTokenizer` for `spiece.model`, `AlbertWordPieceTokenizer`
        for `vocab.txt` (see `albert_tf.text.tokenizer_from_assets`).

    Raises:
        ValueError: `keep_accents=True` for a WordPiece directory (BERT's
            BasicTokenizer strips accents whenever it lowercases).

    Example:
    >>> cased = albert_tf.AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"), do_lower_case=False)
    >>> save(albert_tf.AlbertBackbone.from_preset("albert_tiny"), "runs/cased", tokenizer=cased)
    PosixPath('runs/cased')
    >>> load_tokenizer("runs/cased").do_lower_case
    False
    >>> chinese = albert_tf.AlbertWordPieceTokenizer()
    >>> save(albert_tf.AlbertBackbone.from_preset("albert_tiny_zh"), "runs/zh", tokenizer=chinese)
    PosixPath('runs/zh')
    >>> type(load_tokenizer("runs/zh")).__name__, load_tokenizer("runs/zh").vocab_size
    ('AlbertWordPieceTokenizer', 21128)
    """
    from albert_tf import resources
    from albert_tf.text import AlbertTokenizer, tokenizer_from_assets

    if path is None:
        settings = {"do_lower_case": True, "keep_accents": False}
    else:
        settings = tokenizer_settings(path)
    settings.update({k: v for k, v in overrides.items() if v is not None})
    if path is not None and tokenizer_kind(path) == "wordpiece":
        if settings.pop("keep_accents", False):
            raise ValueError(
                f"{str(path)!r} holds a WordPiece vocabulary: keep_accents=True is not supported "
                "(BERT's BasicTokenizer strips accents exactly when it lowercases)"
            )
        return tokenizer_from_assets(_directory_of(path) / VOCAB_FILE, **settings)
    spiece = _directory_of(path) / SPIECE_FILE if path is not None else None
    if spiece is None or not spiece.is_file():
        spiece = resources.path(resources.SPIECE_MODEL)
    return AlbertTokenizer(spiece, **settings)

"""`albert-tf convert`: external ALBERT weights -> an albert_tf model directory.

    albert-tf convert --from huggingface|keras-hub|tf1-checkpoint|tfhub SRC --output-dir DIR
        [--config albert_config.json] [--task auto|backbone|pretraining|classification|...]
        [--allow-unused]

DIR receives `model.keras` (load with `albert_tf.load(DIR)`) and the
tokenizer found next to the source: a SentencePiece model (the English
releases) becomes `spiece.model`; a WordPiece vocabulary (`vocab.txt` of
Hugging Face's Chinese ALBERTs, with the casing of their BERT
`tokenizer_config.json`; `vocab_chinese.txt` of Google's Chinese tarballs)
becomes `vocab.txt` (see `albert_tf.saving`). The whole source
is validated before anything is written, and the write is atomic: a failure
leaves no DIR.

Nothing is dropped silently: every source tensor is converted, skipped as
training state (global_step, optimizer slots), dropped with a warning as a
head of another albert_tf task when `--task` asks for less (e.g. backbone),
or the conversion fails naming it, unless `--allow-unused`.
"""

import pathlib
import sys

from albert_tf import cli_flags
from albert_tf.convert._mapping import TASKS, ConversionError
from albert_tf.tasks.registry import canonical_task_name

FORMATS = ("huggingface", "keras-hub", "tf1-checkpoint", "tfhub")

# Where each format keeps its vocabulary, relative to the source, in the
# order looked for: SentencePiece models, then WordPiece vocabularies.
_VOCABULARY_CANDIDATES = (
    "spiece.model",
    "30k-clean.model",  # GR tarballs
    "assets/spiece.model",
    "assets/30k-clean.model",  # TF Hub modules
    "assets/tokenizer/vocabulary.spm",  # keras-hub presets
    "vocab.txt",  # Hugging Face Chinese ALBERTs
    "vocab_chinese.txt",  # GR Chinese tarballs
    "assets/vocab.txt",  # TF Hub BERT-style modules
)


def add_arguments(parser):
    parser.add_argument("--from", dest="source_format", required=True, choices=FORMATS,
                        help="format of SRC")
    parser.add_argument("source", metavar="SRC",
                        help="HF save_pretrained dir, keras-hub preset dir or .keras file, "
                             "TF1 checkpoint prefix/dir, or TF Hub SavedModel dir")
    cli_flags.add_flag(parser, "--output-dir", "--out", required=True, help="output directory (must not exist)")
    parser.add_argument("--config", default=None,
                        help="albert_config.json (TF1/TF Hub; default: found beside SRC)")
    parser.add_argument("--task", default="auto", choices=TASKS, type=cli_flags.canonical_choice(canonical_task_name),
                        help="model to build; auto = the heads SRC carries (old task names map, with a warning)")
    parser.add_argument("--allow-unused", action="store_true",
                        help="convert without the source tensors no albert_tf model holds "
                             "(named in a warning) instead of failing")


def find_vocabulary(source):
    """The vocabulary file beside `source` (a file or directory), or None.

    Looks in `source` itself when it is a directory, then in its parent,
    for the `_VOCABULARY_CANDIDATES` in order.

    Example:
    >>> pathlib.Path("albert_base_zh").mkdir()
    >>> _ = pathlib.Path("albert_base_zh", "vocab_chinese.txt").write_text("[PAD]\\n")
    >>> find_vocabulary("albert_base_zh/model.ckpt-best")
    PosixPath('albert_base_zh/vocab_chinese.txt')
    >>> find_vocabulary("nowhere") is None
    True
    """
    source = pathlib.Path(source)
    places = [source] if source.is_dir() else []
    places.append(source.parent)
    for place in places:
        for name in _VOCABULARY_CANDIDATES:
            if (place / name).is_file():
                return place / name
    return None


def tokenizer_for_vocabulary(vocabulary):
    """The tokenizer of a vocabulary file `find_vocabulary` found.

    A WordPiece vocabulary is read with the Hugging Face
    `tokenizer_config.json` beside it (its `do_lower_case`), through
    `albert_tf.text.tokenizer_from_assets`.

    Raises:
        ValueError: a `tokenizer_config.json` asking for what BERT's
            FullTokenizer does not do, or a vocabulary missing a special token.
    """
    from albert_tf.text import tokenizer_from_assets
    from albert_tf.text.assets import WORDPIECE_FILES

    # No SentencePiece candidate sits in that directory (it would have been
    # found first), so the directory gives this very file plus its settings.
    return tokenizer_from_assets(vocabulary.parent if vocabulary.name in WORDPIECE_FILES else vocabulary)


def convert(source_format, source, config=None, task="auto", allow_unused=False):
    """Runs the chosen converter; returns `(model, ConversionReport)`."""
    if source_format == "huggingface":
        if config is not None:
            raise ValueError("--config is read from the Hugging Face directory's config.json")
        from albert_tf.convert import huggingface

        return huggingface.convert(source, task=task, allow_unused=allow_unused)
    if source_format == "keras-hub":
        if config is not None:
            raise ValueError("--config is read from the keras-hub preset")
        from albert_tf.convert import keras_hub

        return keras_hub.convert(source, task=task, allow_unused=allow_unused)
    if source_format == "tf1-checkpoint":
        from albert_tf.convert import tf1_checkpoint

        return tf1_checkpoint.convert(source, config=config, task=task, allow_unused=allow_unused)
    if source_format == "tfhub":
        from albert_tf.convert import tfhub

        return tfhub.convert(source, config=config, task=task, allow_unused=allow_unused)
    raise ValueError(f"Unknown format {source_format!r}; expected one of {FORMATS}")


def run(args):
    from albert_tf import saving

    out = pathlib.Path(args.output_dir)
    if out.exists():
        print(f"albert-tf convert: {out} already exists; refusing to overwrite it", file=sys.stderr)
        return 2
    try:
        model, report = convert(args.source_format, args.source, config=args.config,
                                task=args.task, allow_unused=args.allow_unused)
        vocabulary = find_vocabulary(args.source)
        tokenizer = tokenizer_for_vocabulary(vocabulary) if vocabulary is not None else None
    except (ConversionError, ValueError, TypeError, FileNotFoundError) as error:
        print(f"albert-tf convert: {error}", file=sys.stderr)
        return 1
    saving.save(model, out, tokenizer=tokenizer)
    print(report.summary())
    if tokenizer is None:
        print(f"wrote {type(model).__name__} to {out}")
    else:
        print(f"wrote {type(model).__name__} to {out} "
              f"(with {saving.tokenizer_assets(tokenizer).file_name} from {vocabulary})")
    return 0

"""`albert-tf convert`: external ALBERT weights -> an albert_tf model directory.

    albert-tf convert --from huggingface|keras-hub|tf1-checkpoint|tfhub SRC --output-dir DIR
        [--config albert_config.json] [--task auto|backbone|pretraining|classification|...]
        [--allow-unused]

DIR receives `model.keras` (load with `albert_tf.load(DIR)`) and, when a
SentencePiece model sits next to the source, `spiece.model`. The whole source
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

# Where each format keeps its SentencePiece model, relative to the source.
_SPIECE_CANDIDATES = (
    "spiece.model",
    "30k-clean.model",  # GR tarballs
    "assets/spiece.model",
    "assets/30k-clean.model",  # TF Hub modules
    "assets/tokenizer/vocabulary.spm",  # keras-hub presets
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


def find_spiece(source):
    """The SentencePiece model beside `source` (a file or directory), or None."""
    source = pathlib.Path(source)
    places = [source] if source.is_dir() else []
    places.append(source.parent)
    for place in places:
        for name in _SPIECE_CANDIDATES:
            if (place / name).is_file():
                return place / name
    return None


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
    except (ConversionError, ValueError, TypeError, FileNotFoundError) as error:
        print(f"albert-tf convert: {error}", file=sys.stderr)
        return 1
    spiece = find_spiece(args.source)
    tokenizer = None
    if spiece is not None:
        from albert_tf.text import AlbertTokenizer

        tokenizer = AlbertTokenizer(spiece)
    saving.save(model, out, tokenizer=tokenizer)
    print(report.summary())
    print(f"wrote {type(model).__name__} to {out}"
          + (f" (with spiece.model from {spiece})" if spiece else ""))
    return 0

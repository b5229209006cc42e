"""`albert-tf vocab`: train a SentencePiece model laid out like ALBERT's.

The real `30k-clean.model` is a unigram model whose ids 0-4 are
`<pad> <unk> [CLS] [SEP] [MASK]` (pad and unk as SentencePiece's own
pad/unk, [CLS] [SEP] [MASK] as control symbols, no <s>/</s>), followed by
the user-defined symbols `( ) " - . – £ €` and the learnt pieces, with
the `nmt_nfkc` normalizer. `train_vocab` trains the same layout on text
first normalized the ALBERT way (`normalize_text`: lowercase, accents
stripped), so that `AlbertTokenizer` reads it like the original.

From the command line:

    albert-tf vocab corpus.txt --output-dir out/my-30k --vocab-size 30000   # out/my-30k/spiece.model

Example:
>>> model = train_vocab([resources.path("moby_dick.txt.gz")], "out/moby", vocab_size=300, max_lines=500)
>>> model
PosixPath('out/moby.model')
>>> AlbertTokenizer(model).id_to_piece(tf.range(6)).numpy().tolist()
[b'<pad>', b'<unk>', b'[CLS]', b'[SEP]', b'[MASK]', b'(']
"""

import gzip
import os
import pathlib
import tempfile

from albert_tf import cli_flags
from albert_tf.text.normalization import normalize_text

SPECIAL_PIECES = ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]")
CONTROL_SYMBOLS = ("[CLS]", "[SEP]", "[MASK]")
# As in the original model (ids 5-12).
USER_DEFINED_SYMBOLS = ("(", ")", '"', "-", ".", "\u2013", "\u00a3", "\u20ac")


def _lines(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        yield from handle


def train_vocab(
    files,
    output_prefix,
    vocab_size=30000,
    do_lower_case=True,
    keep_accents=False,
    model_type="unigram",
    character_coverage=0.99995,
    input_sentence_size=10_000_000,
    user_defined_symbols=USER_DEFINED_SYMBOLS,
    max_lines=None,
    seed=12345,
    num_threads=1,
):
    """Trains an ALBERT-style SentencePiece model.

    Args:
        files: paths of UTF-8 text files (`.gz` allowed), one sentence or
            paragraph per line; blank lines are skipped.
        output_prefix: writes `<prefix>.model` and `<prefix>.vocab`
            (atomically: both appear only when training succeeded).
        vocab_size: number of pieces, specials included.
        do_lower_case, keep_accents: the ALBERT normalization applied to
            the training text (use the same values in `AlbertTokenizer`).
        model_type: "unigram" (ALBERT) or "bpe".
        character_coverage: SentencePiece's character coverage.
        input_sentence_size: at most this many lines are sampled.
        user_defined_symbols: pieces always kept whole, after the specials.
        max_lines: read only the first `max_lines` non-empty lines.
        seed: SentencePiece's random seed (sampling of the input).
        num_threads: trainer threads.

    Returns:
        `pathlib.Path` of the `.model` file.
    """
    import sentencepiece as spm

    if isinstance(files, (str, os.PathLike)):
        files = [files]
    files = [pathlib.Path(f) for f in files]
    missing = [str(f) for f in files if not f.is_file()]
    if not files or missing:
        raise FileNotFoundError(f"train_vocab needs existing text files, missing: {missing or 'no files given'}")
    if not isinstance(vocab_size, int) or vocab_size <= len(SPECIAL_PIECES) + len(user_defined_symbols):
        raise ValueError(
            f"vocab_size must be an int larger than the {len(SPECIAL_PIECES) + len(user_defined_symbols)} "
            f"special and user-defined pieces, got {vocab_size!r}"
        )
    if model_type not in ("unigram", "bpe"):
        raise ValueError(f"model_type must be 'unigram' or 'bpe', got {model_type!r}")
    output_prefix = pathlib.Path(output_prefix)
    output_prefix.parent.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(dir=output_prefix.parent, prefix=".vocab-") as work:
        corpus = pathlib.Path(work) / "corpus.txt"
        count = 0
        with open(corpus, "w", encoding="utf-8") as out:
            for path in files:
                for line in _lines(path):
                    text = normalize_text(line, do_lower_case=do_lower_case, keep_accents=keep_accents)
                    if not text:
                        continue
                    out.write(text + "\n")
                    count += 1
                    if max_lines is not None and count >= max_lines:
                        break
                if max_lines is not None and count >= max_lines:
                    break
        if count == 0:
            raise ValueError(f"No text found in {[str(f) for f in files]}")
        prefix = pathlib.Path(work) / "model"
        spm.set_random_generator_seed(seed)
        try:
            spm.SentencePieceTrainer.train(
                input=str(corpus),
                model_prefix=str(prefix),
                vocab_size=vocab_size,
                model_type=model_type,
                character_coverage=character_coverage,
                input_sentence_size=input_sentence_size,
                shuffle_input_sentence=True,
                max_sentencepiece_length=16,
                max_sentence_length=4192,
                split_by_whitespace=True,
                split_by_number=True,
                split_by_unicode_script=True,
                normalization_rule_name="nmt_nfkc",
                pad_id=0,
                unk_id=1,
                bos_id=-1,
                eos_id=-1,
                pad_piece="<pad>",
                unk_piece="<unk>",
                control_symbols=list(CONTROL_SYMBOLS),
                user_defined_symbols=list(user_defined_symbols),
                num_threads=num_threads,
                minloglevel=2,
            )
        except RuntimeError as error:
            raise ValueError(f"SentencePiece training failed on {count} lines: {error}") from None
        model_path = output_prefix.with_name(output_prefix.name + ".model")
        vocab_path = output_prefix.with_name(output_prefix.name + ".vocab")
        os.replace(prefix.with_suffix(".vocab"), vocab_path)
        os.replace(prefix.with_suffix(".model"), model_path)
    return model_path


def add_arguments(parser):
    parser.add_argument("files", nargs="+", help="UTF-8 text files (.gz allowed), one sentence per line")
    output = parser.add_mutually_exclusive_group(required=True)
    output.add_argument("--output-dir", help="writes DIR/spiece.model and DIR/spiece.vocab")
    cli_flags.add_old_flag(output, "--output-prefix", "--output-dir", dest="output_prefix", default=None,
                           metavar="PREFIX")
    parser.add_argument("--vocab-size", type=int, default=30000)
    parser.add_argument("--model-type", choices=("unigram", "bpe"), default="unigram")
    cli_flags.add_lower_case(parser, default=True, help="lowercase the training text (default: lowercase)")
    parser.add_argument("--keep-accents", action="store_true")
    parser.add_argument("--character-coverage", type=float, default=0.99995)
    parser.add_argument("--input-sentence-size", type=int, default=10_000_000)
    parser.add_argument("--max-lines", type=int, default=None)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--num-threads", type=int, default=1)


def run(args):
    # The file name a model directory gives its vocabulary (albert_tf.saving.SPIECE_FILE).
    prefix = args.output_prefix or pathlib.Path(args.output_dir) / "spiece"
    path = train_vocab(
        args.files,
        prefix,
        vocab_size=args.vocab_size,
        do_lower_case=args.do_lower_case,
        keep_accents=args.keep_accents,
        model_type=args.model_type,
        character_coverage=args.character_coverage,
        input_sentence_size=args.input_sentence_size,
        max_lines=args.max_lines,
        seed=args.seed,
        num_threads=args.num_threads,
    )
    print(f"wrote {path} and {path.with_suffix('.vocab')}")
    return 0

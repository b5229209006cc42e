"""`albert-tf export`: a saved albert_tf model -> a TF Serving SavedModel or TF Hub-style modules.

Examples:
    albert-tf export --model-dir runs/sst2/model --output-dir models/sst2 --labels negative,positive
    albert-tf export --model-dir runs/pretrain/model --output-dir hub/albert_encoder --format encoder
    albert-tf export --output-dir hub/albert_preprocess --format preprocess

The tokenizer is the model directory's, of the kind its files say
(`spiece.model`: SentencePiece; `vocab.txt`: WordPiece, Chinese ALBERT),
with its recorded casing (see `albert_tf.saving.load_tokenizer`);
`--spiece-model` (a SentencePiece model instead) and
`--lower-case / --no-lower-case` override it.
"""

from albert_tf import cli_flags, saving
from albert_tf.text import AlbertTokenizer

FORMATS = ("serving", "encoder", "preprocess")


def add_arguments(parser):
    cli_flags.add_flag(parser, "--model-dir", "--model",
                       help="directory written by albert_tf.saving.save (or a .keras file)")
    cli_flags.add_flag(
        parser, "--output-dir", "--out", required=True,
        help="serving: the model's base directory (versions go under it); encoder/preprocess: the module directory",
    )
    parser.add_argument("--format", choices=FORMATS, default="serving", help="what to write (default: serving)")
    parser.add_argument("--version", type=int, default=None, help="version number (default: next after existing)")
    parser.add_argument("--seq-length", type=int, default=None,
                        help="truncation length (default: the fine-tuning seq_length in the model directory's "
                             "task.json, else the model's max positions; 128 for preprocess)")
    parser.add_argument("--labels", default=None, help="comma-separated class names, in label-id order")
    parser.add_argument("--text-pair", action="store_true", help="sequence classifier on text + text_pair")
    parser.add_argument("--max-answer-length", type=int, default=None,
                        help="span QA: longest answer in tokens (default: task.json's, else 30)")
    parser.add_argument("--doc-stride", type=int, default=None,
                        help="span QA: context tokens between the starts of two windows (default: task.json's, else 128)")
    cli_flags.add_flag(parser, "--spiece-model", "--spiece",
                       help="SentencePiece model (default: the model directory's SentencePiece model or "
                            "WordPiece vocab.txt, else the shipped 30k-clean)")
    cli_flags.add_lower_case(parser, help="lowercase the text (default: what the model directory records, "
                                          "else lowercase)")


def _tokenizer(args):
    if args.spiece_model is None:
        return saving.load_tokenizer(args.model_dir, do_lower_case=args.do_lower_case)
    settings = saving.tokenizer_settings(args.model_dir) if args.model_dir else {}
    if args.do_lower_case is not None:
        settings["do_lower_case"] = args.do_lower_case
    return AlbertTokenizer(args.spiece_model, **settings)


def run(args):
    from albert_tf.export import export_encoder_module, export_preprocess_module, export_saved_model

    if args.format != "preprocess" and not args.model_dir:
        raise SystemExit(f"albert-tf export: --model-dir is required for --format {args.format}")
    tokenizer = _tokenizer(args)
    if args.format == "preprocess":
        path = export_preprocess_module(tokenizer, args.output_dir, seq_length=args.seq_length or 128)
        print(f"wrote TF Hub-style preprocess module to {path}")
        return 0

    model = saving.load(args.model_dir)
    if args.format == "encoder":
        path = export_encoder_module(model, args.output_dir, tokenizer=tokenizer)
        print(f"wrote TF Hub-style encoder module to {path}")
        return 0
    labels = [label.strip() for label in args.labels.split(",")] if args.labels else None
    # The export packs text as fine-tuning did, unless a flag says otherwise.
    info = saving.read_task_info(args.model_dir)
    options = info.get("task_options") or {}
    path = export_saved_model(
        model, tokenizer, args.output_dir, version=args.version,
        seq_length=args.seq_length or info.get("seq_length"),
        labels=labels, text_pair=args.text_pair,
        max_answer_length=args.max_answer_length or options.get("max_answer_length", 30),
        doc_stride=args.doc_stride or options.get("doc_stride", 128),
        max_question_length=options.get("max_question_length"),
    )
    print(f"wrote SavedModel version {path.name} to {path}")
    return 0

"""`albert-tf export`: a saved albert_tf model -> a TF Serving SavedModel or TF Hub-style modules.

Examples:
    albert-tf export --model runs/sst2/model --out models/sst2 --labels negative,positive
    albert-tf export --model runs/pretrain/model --out hub/albert_encoder --format encoder
    albert-tf export --out hub/albert_preprocess --format preprocess
"""

import pathlib

FORMATS = ("serving", "encoder", "preprocess")


def add_arguments(parser):
    parser.add_argument("--model", help="directory written by albert_tf.saving.save (or a .keras file)")
    parser.add_argument(
        "--out", required=True,
        help="serving: the model's base directory (versions go under it); encoder/preprocess: the module directory",
    )
    parser.add_argument("--format", choices=FORMATS, default="serving", help="what to write (default: serving)")
    parser.add_argument("--version", type=int, default=None, help="version number (default: next after existing)")
    parser.add_argument("--seq-length", type=int, default=None,
                        help="truncation length (default: the model's max positions; 128 for preprocess)")
    parser.add_argument("--labels", default=None, help="comma-separated class names, in label-id order")
    parser.add_argument("--text-pair", action="store_true", help="sequence classifier on text + text_pair")
    parser.add_argument("--max-answer-length", type=int, default=30, help="span QA: longest answer in tokens")
    parser.add_argument("--spiece", default=None,
                        help="SentencePiece model (default: spiece.model beside the model, else the shipped 30k-clean)")
    parser.add_argument("--no-lower-case", action="store_true", help="do not lowercase (cased vocabularies)")


def _tokenizer(args):
    from albert_tf.text import AlbertTokenizer

    spiece = args.spiece
    if spiece is None and args.model:
        beside = pathlib.Path(args.model)
        beside = (beside if beside.is_dir() else beside.parent) / "spiece.model"
        spiece = beside if beside.is_file() else None
    return AlbertTokenizer(spiece, do_lower_case=not args.no_lower_case)


def run(args):
    from albert_tf.export import export_encoder_module, export_preprocess_module, export_saved_model

    if args.format != "preprocess" and not args.model:
        raise SystemExit(f"albert-tf export: --model is required for --format {args.format}")
    tokenizer = _tokenizer(args)
    if args.format == "preprocess":
        path = export_preprocess_module(tokenizer, args.out, seq_length=args.seq_length or 128)
        print(f"wrote TF Hub-style preprocess module to {path}")
        return 0

    import albert_tf

    model = albert_tf.load(args.model)
    if args.format == "encoder":
        path = export_encoder_module(model, args.out, tokenizer=tokenizer)
        print(f"wrote TF Hub-style encoder module to {path}")
        return 0
    labels = [label.strip() for label in args.labels.split(",")] if args.labels else None
    path = export_saved_model(
        model, tokenizer, args.out, version=args.version, seq_length=args.seq_length,
        labels=labels, text_pair=args.text_pair, max_answer_length=args.max_answer_length,
    )
    print(f"wrote SavedModel version {path.name} to {path}")
    return 0

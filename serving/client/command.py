"""`albert-tf query`: send texts to a TF Serving (or development) server.

Prints one JSON object per input line: the label, label id and
probabilities for a classifier (or the raw outputs of any other model).
Texts come from the command line, a file (`--file`, one per line) or stdin
(`--file -`); pairs are tab-separated "text_a<TAB>text_b" lines with `--pairs`.
A span QA model answers `--question` (repeatable) from `--context` or
`--context-file`: one JSON object per question.

    albert-tf query --target localhost:8500 --model-name albert "a gripping film"
    albert-tf query --model-name squad --question "Who wrote it?" --context-file article.txt
"""

import argparse
import contextlib
import json
import sys

import numpy as np

from . import errors
from .client import AlbertClient
from .rest import RestClient


class _OldFlag(argparse.Action):
    """An old spelling (hidden): stores like the new flag, says which one to use.

    The same action as `albert_tf.cli_flags`, which this package must not import.
    """

    def __init__(self, option_strings, dest, new, **kwargs):
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, default=argparse.SUPPRESS, **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog}: warning: {option_string} is deprecated; use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_arguments(parser):
    parser.add_argument("texts", nargs="*", help="texts to send (or use --file)")
    parser.add_argument("--file", help="read one text per line from this file ('-' = stdin)")
    parser.add_argument("--pairs", action="store_true", help="lines are 'text_a<TAB>text_b' pairs")
    parser.add_argument("--target", default="localhost:8500", help="gRPC host:port (default %(default)s)")
    parser.add_argument("--rest", metavar="URL", help="use the REST API at this URL (e.g. http://localhost:8501) instead of gRPC")
    parser.add_argument("--model-name", default="albert", help="the served model's name (default %(default)s)")
    parser.add_argument("--model", dest="model_name", action=_OldFlag, new="--model-name")
    parser.add_argument("--signature", default="serving_default")
    parser.add_argument("--version", type=int, help="pin a model version")
    parser.add_argument("--label", help="pin a version label (e.g. stable, canary)")
    parser.add_argument("--method", choices=["predict", "classify", "regress", "status", "metadata"],
                        default="predict")
    parser.add_argument("--question", action="append", default=[],
                        help="span QA: a question to answer from the context (repeatable)")
    context = parser.add_mutually_exclusive_group()
    context.add_argument("--context", help="span QA: the context the answers are cut from")
    context.add_argument("--context-file", help="span QA: read the context from this file (UTF-8)")
    parser.add_argument("--null-score-diff-threshold", type=float, default=0.0,
                        help="span QA: is_answer is false above this null score difference (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per call, retries included")
    parser.add_argument("--retries", type=int, default=3, help="retries when the server is UNAVAILABLE")
    parser.add_argument("--max-batch-size", type=int, default=64, help="texts per request")
    parser.add_argument("--root-certs", help="PEM file of the CA roots (enables TLS)")
    parser.add_argument("--client-cert", help="PEM client certificate chain (mTLS)")
    parser.add_argument("--client-key", help="PEM client private key (mTLS)")
    return parser


def _texts(args):
    texts = list(args.texts)
    if args.file:
        opened = contextlib.nullcontext(sys.stdin) if args.file == "-" else open(args.file, encoding="utf-8")
        with opened as stream:
            texts.extend(line.rstrip("\n") for line in stream if line.strip())
    if args.pairs:
        pairs = []
        for line in texts:
            parts = line.split("\t")
            if len(parts) != 2:
                raise SystemExit(f"--pairs expects 'text_a<TAB>text_b' lines, got {line!r}")
            pairs.append(tuple(parts))
        return pairs
    return texts


def _context(args):
    if args.context_file is None:
        return args.context
    with open(args.context_file, encoding="utf-8") as f:
        return f.read()


def _print_answers(client, args):
    context = _context(args)
    if context is None:
        raise SystemExit("--question needs --context or --context-file")
    result = client.answer(args.question, [context] * len(args.question),
                           null_score_diff_threshold=args.null_score_diff_threshold)
    for question, answer in zip(args.question, result):
        print(json.dumps({"question": question, "answer": answer.text, "start": answer.start, "end": answer.end,
                          "score": answer.score, "null_score_diff": answer.null_score_diff,
                          "is_answer": answer.is_answer}))


def _plain(value):
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value] if value.dtype == object else value.tolist()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    return value


def run(args):
    common = dict(signature=args.signature, version=args.version, version_label=args.label,
                  timeout=args.timeout, retries=args.retries, max_batch_size=args.max_batch_size)
    if args.rest:
        client = RestClient(args.rest, args.model_name, **common)
    else:
        client = AlbertClient(args.target, args.model_name, root_certificates=args.root_certs,
                              certificate_chain=args.client_cert, private_key=args.client_key, **common)
    try:
        if args.method == "status":
            for s in client.status(version=args.version):
                print(json.dumps({"version": s.version, "state": s.state,
                                  "error_code": s.error_code, "error_message": s.error_message}))
            return 0
        if args.method == "metadata":
            meta = client.metadata(version=args.version)
            print(json.dumps({
                name: {"method_name": sig.method_name,
                       "inputs": {n: [t.dtype, t.shape] for n, t in sig.inputs.items()},
                       "outputs": {n: [t.dtype, t.shape] for n, t in sig.outputs.items()}}
                for name, sig in meta.signatures.items()
            }, indent=2))
            return 0
        if args.question:
            _print_answers(client, args)
            return 0
        if args.context is not None or args.context_file is not None:
            raise SystemExit("--context and --context-file go with --question")
        texts = _texts(args)
        if not texts:
            raise SystemExit("No texts given: pass them as arguments or with --file.")
        if args.method == "classify":
            answer = client.classify(texts)
            for text, row in zip(texts, answer.classifications):
                print(json.dumps({"text": text, "classes": row}))
        elif args.method == "regress":
            answer = client.regress(texts)
            for text, value in zip(texts, answer.values):
                print(json.dumps({"text": text, "value": value}))
        else:
            answer = client.predict(texts)
            names = set(answer.outputs)
            for i, text in enumerate(texts):
                if {"labels", "probabilities"} <= names:
                    row = answer.predictions[i]
                    record = {"text": text, "label": row.label, "label_id": row.label_id,
                              "probabilities": _plain(row.probabilities)}
                else:
                    record = {"text": text, **{n: _plain(v[i]) for n, v in answer.outputs.items()}}
                print(json.dumps(record))
        return 0
    except errors.ServingError as e:
        print(f"albert-tf query: {e}", file=sys.stderr)
        return 1
    finally:
        if hasattr(client, "close"):
            client.close()


def main(argv=None):
    parser = add_arguments(argparse.ArgumentParser(prog="albert-tf-query", description=__doc__.splitlines()[0]))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

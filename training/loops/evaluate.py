"""`albert-tf evaluate` and `evaluate(...)`: score a fine-tuned model on a data split.

The task (`training.tasks`) and the data config (`training.data.sources`)
are the ones fine-tuning used; the model directory's `task.json` and
tokenizer settings (`albert_tf.saving`) say which, so evaluation sees
exactly the inputs fine-tuning saw.

    albert-tf evaluate --model-dir runs/finetune_movie_reviews/model --data movie_reviews --split test
        # -> runs/finetune_movie_reviews/model/metrics_test.json (--output-dir DIR: DIR/metrics_test.json)
"""

import json
import pathlib
import sys

from albert_tf import cli_flags, saving
from albert_tf.tasks.registry import canonical_task_name
from training.data.sources import FILE_FORMATS, SHIPPED, read_data
from training.tasks import TASKS, get_task


def evaluate(model, task=None, data=None, split="test", seq_length=None, batch_size=32,
             output=None, task_options=None, tokenizer=None, verbose=0):
    """Scores a fine-tuned model on one split of a data set.

    Args:
        model: an albert_tf model directory (written by `albert-tf finetune`
            or `albert_tf.saving.save`) or a Keras task model.
        task: a key of `TASKS`; default: the `task.json` in the model dir.
        data: data config (see `read_data`), a shipped name such as
            "vitaminc", or already-read data (a reader's result).
        split: "train", "dev" or "test" (ignored for already-read data).
        seq_length: packed length T; default: the model's `task.json`, else 128.
        batch_size: evaluation batch size.
        output: optional path of a metrics JSON to write (atomically); a
            confusion-matrix PNG is written beside it for classification.
        task_options: extra task arguments (e.g. `null_score_diff_threshold`).
        tokenizer: an `AlbertTokenizer`; default: the model dir's
            `spiece.model`, else the shipped English model.

    Returns:
        dict of metrics: accuracy / f1 / matthews_corrcoef (+ confusion
        matrix) for classification, pearson / spearman / mse for regression,
        entity precision / recall / f1 for tagging, SQuAD exact / f1 (+
        HasAns / NoAns / best thresholds) for span QA, accuracy for
        multiple choice; plus `task`, `split`, `num_examples`.

    Example:
    >>> model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=3)
    >>> result = evaluate(model, task="classification", data={"name": "vitaminc", "max_examples": {"test": 8}})
    >>> result["num_examples"], result["label_names"], 0.0 <= result["accuracy"] <= 1.0
    (8, ['True', 'False', 'Neither'], True)
    """
    model_dir = None
    if isinstance(model, (str, pathlib.Path)):
        model_dir = pathlib.Path(model)
        model = saving.load(model_dir)
    info = saving.read_task_info(model_dir) if model_dir else {}
    task = task or info.get("task")
    if isinstance(data, str):
        data = {"name": data}
    if task is None and isinstance(data, dict) and data.get("name") in SHIPPED:
        task = SHIPPED[data["name"]][0]
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; expected one of {sorted(TASKS)} (pass task=...)")
    if tokenizer is None:
        tokenizer = saving.load_tokenizer(model_dir)
    seq_length = seq_length or info.get("seq_length") or 128
    runner = get_task(task, tokenizer, seq_length, **dict(info.get("task_options") or {}, **(task_options or {})))
    examples = read_data(data, split, task) if isinstance(data, dict) else data
    if examples is None:
        raise ValueError("evaluate needs data: a shipped name, a data config or a reader's result")
    result = runner.score(model, examples, batch_size=batch_size, verbose=verbose)
    result.update(task=task, split=split if isinstance(data, dict) else None, num_examples=len(examples))
    if output is not None:
        output = saving.atomic_write(output, json.dumps(result, indent=2, sort_keys=True))
        if "confusion_matrix" in result:
            from training.plots import plot_confusion_matrix

            plot_confusion_matrix(
                result["confusion_matrix"], result["label_names"],
                output.with_name(output.stem + "_confusion_matrix.png"), title=f"{task} ({split})",
            )
    return result


def _parse_value(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def add_arguments(parser):
    cli_flags.add_flag(parser, "--model-dir", "--model", required=True,
                       help="albert_tf model directory (e.g. <finetune output>/model)")
    parser.add_argument("--task", choices=sorted(TASKS), type=cli_flags.canonical_choice(canonical_task_name),
                        help="default: the model's task.json")
    parser.add_argument("--data", required=True,
                        help=f"a shipped data set ({', '.join(sorted(SHIPPED))}) or a data file")
    parser.add_argument("--format", choices=sorted(FILE_FORMATS), help="format of a data file")
    parser.add_argument("--split", default="test", help="split of a shipped data set (train, dev, test)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="reader option, e.g. text_a_column=sentence or label_names='[\"0\",\"1\"]'")
    parser.add_argument("--seq-length", type=int, help="packed length T (default: the model's task.json, else 128)")
    cli_flags.add_lower_case(parser, help="lowercase the text (default: what the model directory records)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-examples", type=int)
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--output-dir", help="writes DIR/metrics_<split>.json (default: the model directory)")
    cli_flags.add_old_flag(output, "--output", "--output-dir", dest="output", default=None, metavar="FILE")


def run(args):
    if args.data in SHIPPED:
        data = {"name": args.data}
    else:
        if not args.format:
            raise SystemExit(f"--data {args.data} is a file: give its --format ({', '.join(sorted(FILE_FORMATS))})")
        data = {"format": args.format, args.split: args.data}
    options = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--option {item!r} must be KEY=VALUE")
        options[key] = _parse_value(value)
    if options:
        data["options"] = options
    if args.max_examples:
        data["max_examples"] = {args.split: args.max_examples}
    output = args.output or pathlib.Path(args.output_dir or args.model_dir) / f"metrics_{args.split}.json"
    tokenizer = None
    if args.do_lower_case is not None:
        tokenizer = saving.load_tokenizer(args.model_dir, do_lower_case=args.do_lower_case)
    result = evaluate(args.model_dir, task=args.task, data=data, split=args.split, seq_length=args.seq_length,
                      batch_size=args.batch_size, output=output, tokenizer=tokenizer, verbose=1)
    scalars = {k: v for k, v in result.items() if isinstance(v, (int, float, str))}
    json.dump(scalars, sys.stdout, indent=2)
    print(f"\nwrote {output}")
    return 0

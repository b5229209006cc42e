"""Tasks (data -> tf.data -> model -> metrics) and `albert-tf evaluate`.

A task ties a reader (`training.readers`), the text preprocessing
(`albert_tf.text`), a task model (`albert_tf.tasks`) and its metrics
(`training.metrics`, `training.squad`). `training.finetune` trains through
the same tasks, so fine-tuning and evaluation see identical inputs.

Tasks (`TASKS`): "classification", "regression", "token_classification",
"span_qa", "multiple_choice".

Data sources (`data` config / `--data`): a shipped dataset name
("movie_reviews", "vitaminc", "disfl_qa"; the split is chosen per use) or a
file with a `format` ("glue_tsv", "squad_json", "conll",
"multiple_choice") and reader `options` (e.g. the GLUE column names).

Example:
>>> from training.evaluate import evaluate
>>> evaluate("runs/movies/model", task="classification",
...          data={"name": "movie_reviews"}, split="test")["accuracy"]
"""

import json
import os
import pathlib
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

from training import metrics as metric_lib  # noqa: E402
from training import readers, squad  # noqa: E402

SHIPPED = {
    "movie_reviews": ("classification", readers.movie_reviews),
    "vitaminc": ("classification", readers.vitaminc),
    "disfl_qa": ("span_qa", readers.disfl_qa),
}
FILE_FORMATS = {
    "glue_tsv": readers.read_glue_tsv,
    "squad_json": readers.read_squad_json,
    "conll": readers.read_conll,
    "multiple_choice": readers.read_multiple_choice,
}


# --- data ---


def read_data(data, split, task=None):
    """Reads one split of a data config.

    Args:
        data: dict with either `name` (a shipped dataset) or `format` and
            per-split file paths (`train`, `dev`, `test`), plus optional
            reader `options` and `max_examples` ({split: n}).
        split: "train", "dev" or "test".
        task: for shipped movie reviews, "regression" reads the score.

    Returns:
        The reader's result (examples list or a data class).
    """
    data = dict(data)
    options = dict(data.get("options") or {})
    if "name" in data:
        if data["name"] not in SHIPPED:
            raise ValueError(f"Unknown shipped dataset {data['name']!r}; expected one of {sorted(SHIPPED)}")
        if data["name"] == "movie_reviews" and task == "regression":
            options.setdefault("regression", True)
        if data.get(split):
            options["path"] = data[split] if data[split] is not True else None
        result = SHIPPED[data["name"]][1](split, **options)
    else:
        if data.get("format") not in FILE_FORMATS:
            raise ValueError(
                f"data needs a shipped `name` ({sorted(SHIPPED)}) or a `format` in "
                f"{sorted(FILE_FORMATS)}; got {data}"
            )
        if not data.get(split):
            raise ValueError(f"data has no file for split {split!r} (keys: {sorted(data)})")
        result = FILE_FORMATS[data["format"]](data[split], **options)
    limit = (data.get("max_examples") or {}).get(split)
    return subset(result, limit)


def subset(data, n, seed=0):
    """`n` examples drawn with a fixed seed, in file order (all when n is None).

    A seeded draw rather than the first `n`: the shipped files are sorted
    (e.g. the movie reviews list all positives first).
    """
    import dataclasses

    size = len(data)
    if n is None or n >= size:
        return data
    keep = np.sort(np.random.default_rng(seed).permutation(size)[:n])
    if isinstance(data, list):
        return [data[i] for i in keep]
    fields = {}
    for field in dataclasses.fields(data):
        value = getattr(data, field.name)
        fields[field.name] = [value[i] for i in keep] if isinstance(value, list) else value
    return dataclasses.replace(data, **fields)


def load_tokenizer(model_dir=None, proto=None, do_lower_case=True):
    """The tokenizer of a model directory (its `spiece.model`), else the shipped one."""
    from albert_tf import resources
    from albert_tf.text import AlbertTokenizer

    if proto is None and model_dir is not None:
        candidate = pathlib.Path(model_dir) / "spiece.model"
        if candidate.is_file():
            proto = candidate
    return AlbertTokenizer(proto or resources.path(resources.SPIECE_MODEL), do_lower_case=do_lower_case)


# --- tasks ---


class Task:
    """What fine-tuning and evaluation need to know about one kind of task.

    Subclasses set `name`, `primary_metric`, and implement `build_model`,
    `compile_args`, `dataset` and `score`.
    """

    name = None
    primary_metric = None

    def __init__(self, tokenizer, seq_length=128):
        if seq_length < 8:
            raise ValueError(f"seq_length must be at least 8, got {seq_length}")
        self.tokenizer = tokenizer
        self.seq_length = seq_length

    def num_outputs(self, data):
        return None

    def build_model(self, backbone, data, dropout=0.1):
        raise NotImplementedError

    def compile_args(self):
        raise NotImplementedError

    def dataset(self, data, batch_size, training=False, seed=0, labels=True):
        raise NotImplementedError

    def score(self, model, data, batch_size=32, verbose=0):
        raise NotImplementedError


def _shuffle(ds, size, training, seed):
    if training:
        ds = ds.shuffle(min(size, 100_000), seed=seed, reshuffle_each_iteration=True)
    return ds


class ClassificationTask(Task):
    """Single texts or pairs -> class logits (`AlbertClassifier`)."""

    name = "classification"
    primary_metric = "accuracy"
    problem_type = "classification"

    def _preprocessor(self):
        from albert_tf.text import AlbertPreprocessor

        return AlbertPreprocessor(self.tokenizer, seq_length=self.seq_length)

    def build_model(self, backbone, data, dropout=0.1):
        import albert_tf

        num = 1 if data.is_regression else len(data.label_names)
        return albert_tf.AlbertClassifier(backbone, num_classes=num, problem_type=self.problem_type, dropout=dropout)

    def compile_args(self):
        import keras

        return {
            "loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "metrics": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        }

    def _check(self, data):
        if not isinstance(data, readers.TextClassificationData):
            raise TypeError(f"{self.name} needs TextClassificationData, got {type(data).__name__}")
        if data.is_regression != (self.problem_type == "regression"):
            raise ValueError(
                f"{data.source}: labels are {'scores' if data.is_regression else 'classes'}, "
                f"but the task is {self.name}"
            )

    def dataset(self, data, batch_size, training=False, seed=0, labels=True):
        import tensorflow as tf

        self._check(data)
        preprocessor = self._preprocessor()
        label_dtype = tf.float32 if data.is_regression else tf.int32
        columns = [tf.constant(data.texts_a, tf.string)]
        if data.texts_b is not None:
            columns.append(tf.constant(data.texts_b, tf.string))
        y = tf.constant(data.labels, label_dtype)
        ds = tf.data.Dataset.from_tensor_slices((tuple(columns), y))
        ds = _shuffle(ds, len(data), training, seed)
        ds = ds.batch(batch_size, drop_remainder=False)

        def pack(texts, y):
            x = preprocessor(*texts)
            return (x, y) if labels else x

        return ds.map(pack, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    def predict(self, model, data, batch_size=32, verbose=0):
        """Logits (or values) [N, C] for `data`."""
        return np.asarray(model.predict(self.dataset(data, batch_size, labels=False), verbose=verbose))

    def score(self, model, data, batch_size=32, verbose=0):
        logits = self.predict(model, data, batch_size, verbose)
        predictions = logits.argmax(-1)
        result = metric_lib.classification_metrics(np.asarray(data.labels), predictions, len(data.label_names))
        result["confusion_matrix"] = metric_lib.confusion_matrix(
            data.labels, predictions, labels=range(len(data.label_names))
        ).tolist()
        result["label_names"] = list(data.label_names)
        return result


class RegressionTask(ClassificationTask):
    """Single texts or pairs -> one value (`AlbertClassifier`, regression)."""

    name = "regression"
    primary_metric = "pearson"
    problem_type = "regression"

    def compile_args(self):
        import keras

        return {"loss": keras.losses.MeanSquaredError(), "metrics": [keras.metrics.MeanAbsoluteError(name="mae")]}

    def score(self, model, data, batch_size=32, verbose=0):
        values = self.predict(model, data, batch_size, verbose)[:, 0]
        return metric_lib.regression_metrics(np.asarray(data.labels, np.float64), values)


class TokenClassificationTask(Task):
    """Words -> one tag each (`AlbertTokenClassifier`).

    Words are tokenized one by one (`AlbertTokenClassificationPreprocessor`);
    a word's tag is trained and predicted on its first piece (the original
    BERT recipe), the other pieces are ignored by the loss. Words cut off by
    `seq_length` are predicted "O".
    """

    name = "token_classification"
    primary_metric = "f1"
    IGNORE = -1

    def build_model(self, backbone, data, dropout=0.1):
        import albert_tf

        return albert_tf.AlbertTokenClassifier(backbone, num_classes=len(data.tag_names), dropout=dropout)

    def compile_args(self):
        import keras

        return {
            "loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=self.IGNORE),
            "metrics": [],
        }

    def _batches(self, data, batch_size, training=False, seed=0):
        import tensorflow as tf
        from albert_tf.text import AlbertTokenClassificationPreprocessor

        if not isinstance(data, readers.TaggingData):
            raise TypeError(f"{self.name} needs TaggingData, got {type(data).__name__}")
        preprocessor = AlbertTokenClassificationPreprocessor(self.tokenizer, seq_length=self.seq_length)
        tag_index = {t: i for i, t in enumerate(data.tag_names)}
        tag_ids = [[tag_index.get(t, self.IGNORE) for t in tags] for tags in data.tags]
        ds = tf.data.Dataset.from_tensor_slices(
            (tf.ragged.constant(data.tokens, tf.string), tf.ragged.constant(tag_ids, tf.int32))
        )
        ds = _shuffle(ds, len(data), training, seed).batch(batch_size)

        def pack(words, tags):
            x = preprocessor(words)
            word_ids = x.pop("word_ids")
            previous = tf.pad(word_ids[:, :-1], [[0, 0], [1, 0]], constant_values=-1)
            first_piece = (word_ids >= 0) & (word_ids != previous)
            tags = tags.to_tensor(default_value=self.IGNORE)
            spread = tf.gather(tags, tf.maximum(word_ids, 0), batch_dims=1)
            y = tf.where(first_piece, spread, self.IGNORE)
            return x, y, tf.where(first_piece, word_ids, -1)

        return ds.map(pack, num_parallel_calls=tf.data.AUTOTUNE)

    def dataset(self, data, batch_size, training=False, seed=0, labels=True):
        import tensorflow as tf

        ds = self._batches(data, batch_size, training, seed)
        ds = ds.map(lambda x, y, first: (x, y) if labels else x)
        return ds.prefetch(tf.data.AUTOTUNE)

    def score(self, model, data, batch_size=32, verbose=0):
        pred_tags = [["O"] * len(sentence) for sentence in data.tokens]
        row = 0
        for x, _, first_word in self._batches(data, batch_size):
            predicted = np.asarray(model.predict_on_batch(x)).argmax(-1)
            for r, t in zip(*np.nonzero(first_word.numpy() >= 0)):
                pred_tags[row + r][first_word.numpy()[r, t]] = data.tag_names[predicted[r, t]]
            row += predicted.shape[0]
        result = metric_lib.entity_f1(data.tags, pred_tags)
        flat_true = [t for s in data.tags for t in s]
        flat_pred = [t for s in pred_tags for t in s]
        result["token_accuracy"] = metric_lib.accuracy(flat_true, flat_pred)
        return result


class MultipleChoiceTask(Task):
    """(context, choice) pairs -> one score per choice (`AlbertMultipleChoice`)."""

    name = "multiple_choice"
    primary_metric = "accuracy"

    def build_model(self, backbone, data, dropout=0.1):
        import albert_tf

        return albert_tf.AlbertMultipleChoice(backbone, dropout=dropout)

    def compile_args(self):
        return ClassificationTask.compile_args(self)

    def dataset(self, data, batch_size, training=False, seed=0, labels=True):
        import tensorflow as tf
        from albert_tf.text import AlbertMultipleChoicePreprocessor

        if not isinstance(data, readers.MultipleChoiceData):
            raise TypeError(f"{self.name} needs MultipleChoiceData, got {type(data).__name__}")
        preprocessor = AlbertMultipleChoicePreprocessor(self.tokenizer, seq_length=self.seq_length)
        ds = tf.data.Dataset.from_tensor_slices(
            ((tf.constant(data.contexts), tf.constant(data.choices)), tf.constant(data.labels, tf.int32))
        )
        ds = _shuffle(ds, len(data), training, seed).batch(batch_size)

        def pack(texts, y):
            x = preprocessor(*texts)
            return (x, y) if labels else x

        return ds.map(pack, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    def score(self, model, data, batch_size=32, verbose=0):
        logits = np.asarray(model.predict(self.dataset(data, batch_size, labels=False), verbose=verbose))
        return {"accuracy": metric_lib.accuracy(np.asarray(data.labels), logits.argmax(-1))}


class SpanQATask(Task):
    """Question + context -> answer span (`AlbertSpanQA`), SQuAD v1.1 / v2.0.

    Packing: `AlbertQAPreprocessor` (`[CLS] question [SEP] context [SEP]`,
    one window, token -> character offsets into the original context).
    Labels: the first answer's start/end tokens, [CLS] (0) for an
    unanswerable question or an answer cut off by the window. Decoding and
    metrics: `training.squad` (n-best, max answer length, null threshold;
    official EM/F1 plus the best no-answer threshold).

    Args (`task_options`): `max_question_length` (64), `n_best_size` (20),
    `max_answer_length` (30), `null_score_diff_threshold` (0.0),
    `version_2` (True: "no answer" is a possible prediction).
    """

    name = "span_qa"
    primary_metric = "f1"

    def __init__(self, tokenizer, seq_length=384, max_question_length=64, n_best_size=20,
                 max_answer_length=30, null_score_diff_threshold=0.0, version_2=True):
        super().__init__(tokenizer, seq_length)
        self.max_question_length = min(max_question_length, seq_length // 2)
        self.n_best_size = n_best_size
        self.max_answer_length = max_answer_length
        self.null_score_diff_threshold = null_score_diff_threshold
        self.version_2 = version_2

    def build_model(self, backbone, data, dropout=0.1):
        import albert_tf

        return albert_tf.AlbertSpanQA(backbone)

    def compile_args(self):
        import keras

        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        # The original loss is the mean of the start and end cross-entropies.
        return {
            "loss": {"start_logits": loss, "end_logits": loss},
            "loss_weights": {"start_logits": 0.5, "end_logits": 0.5},
        }

    def _batches(self, data, batch_size, training=False, seed=0):
        import tensorflow as tf
        from albert_tf.text import AlbertQAPreprocessor
        from albert_tf.text.qa import char_span_to_token_span

        if not isinstance(data, list) or (data and not isinstance(data[0], readers.SquadExample)):
            raise TypeError(f"{self.name} needs a list of SquadExample, got {type(data).__name__}")
        preprocessor = AlbertQAPreprocessor(
            self.tokenizer, seq_length=self.seq_length, max_question_length=self.max_question_length
        )
        starts = [e.answers[0]["answer_start"] if e.answers else -1 for e in data]
        ends = [e.answers[0]["answer_start"] + len(e.answers[0]["text"]) if e.answers else -1 for e in data]
        ds = tf.data.Dataset.from_tensor_slices((
            tf.constant([e.question for e in data]), tf.constant([e.context for e in data]),
            tf.constant(starts, tf.int32), tf.constant(ends, tf.int32),
        ))
        ds = _shuffle(ds, len(data), training, seed).batch(batch_size)

        def pack(questions, contexts, answer_start, answer_end):
            x = preprocessor(questions, contexts)
            offsets = tf.stack([x.pop("token_start_char"), x.pop("token_end_char")], axis=-1)
            start, end = char_span_to_token_span(
                offsets[..., 0], offsets[..., 1], answer_start, answer_end
            )
            return x, {"start_logits": start, "end_logits": end}, offsets

        return ds.map(pack, num_parallel_calls=tf.data.AUTOTUNE)

    def dataset(self, data, batch_size, training=False, seed=0, labels=True):
        import tensorflow as tf

        ds = self._batches(data, batch_size, training, seed)
        ds = ds.map(lambda x, y, offsets: (x, y) if labels else x)
        return ds.prefetch(tf.data.AUTOTUNE)

    def decode(self, model, data, batch_size=32):
        """{qid: SpanPrediction} for `data`."""
        decoded, index = {}, 0
        for x, _, offsets in self._batches(data, batch_size):
            out = model.predict_on_batch(x)
            start_logits, end_logits = np.asarray(out["start_logits"]), np.asarray(out["end_logits"])
            for row in range(start_logits.shape[0]):
                example = data[index]
                index += 1
                window = {"start_logits": start_logits[row], "end_logits": end_logits[row],
                          "offsets": offsets[row].numpy()}
                decoded[example.qid] = squad.decode_span(
                    example.context, [window], n_best_size=self.n_best_size,
                    max_answer_length=self.max_answer_length, version_2=self.version_2,
                    null_score_diff_threshold=self.null_score_diff_threshold,
                )
        return decoded

    def score(self, model, data, batch_size=32, verbose=0):
        decoded = self.decode(model, data, batch_size)
        gold = {e.qid: e.gold_texts for e in data}
        predictions = {qid: d.text for qid, d in decoded.items()}
        # Predictions are already thresholded at `null_score_diff_threshold`;
        # the score differences only feed the best-threshold search.
        na_probs = {qid: min(d.null_score_diff, 1e30) for qid, d in decoded.items()}
        return squad.squad_evaluate(gold, predictions, na_probs=na_probs, na_prob_thresh=float("inf"))


TASKS = {
    task.name: task
    for task in (ClassificationTask, RegressionTask, TokenClassificationTask, SpanQATask, MultipleChoiceTask)
}


def get_task(name, tokenizer, seq_length=128, **options):
    """Instantiates task `name` (a key of `TASKS`)."""
    if name not in TASKS:
        raise ValueError(f"Unknown task {name!r}; expected one of {sorted(TASKS)}")
    return TASKS[name](tokenizer, seq_length=seq_length, **options)


# --- evaluate ---


def _read_task_file(model_dir):
    if model_dir is None:
        return {}
    path = pathlib.Path(model_dir) / "task.json"
    return json.loads(path.read_text()) if path.is_file() else {}


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
    >>> evaluate("runs/vitaminc/model", data="vitaminc", split="test")["accuracy"]
    """
    import albert_tf

    model_dir = None
    if isinstance(model, (str, pathlib.Path)):
        model_dir = pathlib.Path(model)
        model = albert_tf.load(model_dir)
    info = _read_task_file(model_dir)
    task = task or info.get("task")
    if isinstance(data, str):
        data = {"name": data}
    if task is None and isinstance(data, dict) and data.get("name") in SHIPPED:
        task = SHIPPED[data["name"]][0]
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; expected one of {sorted(TASKS)} (pass task=...)")
    if tokenizer is None:
        tokenizer = load_tokenizer(model_dir, do_lower_case=info.get("do_lower_case", True))
    seq_length = seq_length or info.get("seq_length") or 128
    runner = get_task(task, tokenizer, seq_length, **dict(info.get("task_options") or {}, **(task_options or {})))
    examples = read_data(data, split, task) if isinstance(data, dict) else data
    if examples is None:
        raise ValueError("evaluate needs data: a shipped name, a data config or a reader's result")
    result = runner.score(model, examples, batch_size=batch_size, verbose=verbose)
    result.update(task=task, split=split if isinstance(data, dict) else None, num_examples=len(examples))
    if output is not None:
        output = pathlib.Path(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(f".{output.name}.tmp")
        tmp.write_text(json.dumps(result, indent=2, sort_keys=True))
        os.replace(tmp, output)
        if "confusion_matrix" in result:
            from training.finetune import plot_confusion_matrix

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
    parser.add_argument("--model", required=True, help="albert_tf model directory (e.g. <finetune output>/model)")
    parser.add_argument("--task", choices=sorted(TASKS), help="default: the model's task.json")
    parser.add_argument("--data", required=True,
                        help=f"a shipped data set ({', '.join(sorted(SHIPPED))}) or a data file")
    parser.add_argument("--format", choices=sorted(FILE_FORMATS), help="format of a data file")
    parser.add_argument("--split", default="test", help="split of a shipped data set (train, dev, test)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="reader option, e.g. text_a_column=sentence or label_names='[\"0\",\"1\"]'")
    parser.add_argument("--seq-length", type=int)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-examples", type=int)
    parser.add_argument("--output", help="metrics JSON to write (default: <model>/metrics_<split>.json)")


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
    output = args.output or pathlib.Path(args.model) / f"metrics_{args.split}.json"
    result = evaluate(args.model, task=args.task, data=data, split=args.split, seq_length=args.seq_length,
                      batch_size=args.batch_size, output=output, verbose=1)
    scalars = {k: v for k, v in result.items() if isinstance(v, (int, float, str))}
    json.dump(scalars, sys.stdout, indent=2)
    print(f"\nwrote {output}")
    return 0

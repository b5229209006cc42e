"""One serving module per task: the signatures of a raw-text task SavedModel.

`ServingModule` holds what every task shares: tracing, the `serve_token_ids`
signature over already packed ids, and the warmup requests. Each subclass
declares, for its task, the preprocessor, the raw-text inputs and outputs
of `serving_default`, any extra signature (`classify`, `regress`) and the
warmup batches. `SERVING_MODULES` maps each task name of the registry to
its module class; `serving_module_class(model)` looks one up.

Shapes: B batch, T packed length (the batch's longest row, at most
seq_length), C classes or choices, H hidden, P masked positions.
"""

import abc
import collections

import numpy as np
import tensorflow as tf

from albert_tf import text
from albert_tf.backbone import INPUT_NAMES
from albert_tf.export import warmup
from albert_tf.tasks import registry

CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"

_WARMUP_TEXTS = [
    "A gripping, beautifully shot film.",
    "The plot never comes together, and the jokes fall flat for nearly two hours.",
    "Fine.",
    "An uneven but often funny look at family life in a small town, held up by its cast.",
]

Signature = collections.namedtuple("Signature", ["function", "input_specs", "method_name"])
Signature.__doc__ = """An extra signature: a Python function, its input TensorSpecs and its TF Serving method name."""


def _strings(name, shape=(None,)):
    return tf.TensorSpec(list(shape), tf.string, name=name)


def _ids(name, rank=2):
    return tf.TensorSpec([None] * rank, tf.int32, name=name)


def _check_labels(labels, num_classes, task):
    if labels is None:
        return [str(i) for i in range(num_classes)]
    labels = [str(label) for label in labels]
    if len(labels) != num_classes:
        raise ValueError(
            f"labels has {len(labels)} names {labels!r} but the {task} model has "
            f"num_classes={num_classes}"
        )
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct, got {labels!r}")
    return labels


def _best_spans(start_logits, end_logits, allowed, max_answer_length):
    """Best span (s <= e < s + max_answer_length) with both ends `allowed`.

    Args:
        start_logits, end_logits: float32 [B, T].
        allowed: bool [B, T], True on context tokens.
        max_answer_length: int, longest answer in tokens.

    Returns:
        start, end int32 [B] token indices, score float32 [B], found bool [B].
    """
    length = tf.shape(start_logits)[1]
    scores = start_logits[:, :, None] + end_logits[:, None, :]
    position = tf.range(length)
    span = position[None, :] - position[:, None]
    band = (span >= 0) & (span < max_answer_length)
    valid = band[None] & allowed[:, :, None] & allowed[:, None, :]
    scores = tf.where(valid, scores, tf.fill(tf.shape(scores), -np.inf))
    best = tf.argmax(tf.reshape(scores, [tf.shape(scores)[0], -1]), axis=-1, output_type=tf.int32)
    start, end = best // length, best % length
    found = tf.reduce_any(valid, axis=[1, 2])
    score = tf.gather(tf.reshape(scores, [tf.shape(scores)[0], -1]), best, batch_dims=1)
    return start, end, tf.where(found, score, tf.zeros_like(score)), found


class ServingModule(abc.ABC):
    """The signatures of one task model: shared pieces, per-task subclasses.

    A subclass declares `task_names` (the registry names it serves),
    `takes_labels` (it names its classes) and `takes_text_pair` (it can
    serve text pairs), and implements `run_model` (packed ids -> named
    outputs) and `serve_text` (raw strings -> named outputs). It may
    override `make_preprocessor`, `text_inputs`, `token_id_inputs`,
    `extra_signatures` and `warmup_batches`.

    Args:
        model: the task model (or `AlbertBackbone`).
        tokenizer: its `albert_tf.text.AlbertTokenizer`.
        seq_length: longest packed row; batches pad to their longest row.
        labels: class names, in label-id order (tasks that take labels;
            default "0", "1", ...).
        text_pair: serve (text, text_pair) rows (tasks that take pairs).
        max_answer_length: longest answer in tokens (span QA).

    Raises:
        ValueError: `labels` or `text_pair` given to a task without them, or
            labels that do not match the model's classes.

    Example:
    >>> model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=2)
    >>> tokenizer = AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"))
    >>> module = serving_module_class(model)(model, tokenizer, seq_length=16, labels=["neg", "pos"])
    >>> type(module).__name__, sorted(module.functions())
    ('ClassificationServingModule', ['classify', 'serve_token_ids', 'serving_default'])
    """

    task_names = ()
    takes_labels = False
    takes_text_pair = False

    def __init__(self, model, tokenizer, seq_length, labels=None, text_pair=False, max_answer_length=30):
        self.task = registry.task_name_of(model)
        if text_pair and not self.takes_text_pair:
            raise ValueError(f"text_pair=True is for sequence classifiers, not a {self.task} model")
        if self.takes_labels:
            labels = _check_labels(labels, model.num_classes, self.task)
        elif labels is not None:
            raise ValueError(f"labels are for classifiers and token classifiers, not a {self.task} model")
        self.model = model
        self.tokenizer = tokenizer
        self.seq_length = seq_length
        self.labels = labels
        self.text_pair = text_pair
        self.max_answer_length = max_answer_length
        self.preprocessor = self.make_preprocessor()

    def make_preprocessor(self):
        """The training preprocessor of the task, with dynamic padding.

        A batch is padded to its longest packed row, never to seq_length.
        """
        return text.AlbertPreprocessor(
            self.tokenizer, self.seq_length, truncation="round_robin", dynamic_padding=True
        )

    @abc.abstractmethod
    def run_model(self, ids):
        """Packed int32 ids (dict) -> the model's outputs by name."""

    @abc.abstractmethod
    def serve_text(self, *texts):
        """Raw strings, one tensor per `text_inputs` spec -> named outputs."""

    def text_inputs(self):
        """Input specs of `serving_default`: one string per row by default."""
        return [_strings("text")]

    def token_id_inputs(self):
        """Input specs of `serve_token_ids`: the backbone's int32 [B, T] ids."""
        return [_ids(name) for name in INPUT_NAMES]

    def serve_token_ids(self, *tensors):
        names = [spec.name for spec in self.token_id_inputs()]
        return self.run_model(dict(zip(names, tensors)))

    def extra_signatures(self):
        """{name: `Signature`} beyond serving_default and serve_token_ids."""
        return {}

    def warmup_batches(self):
        """Requests for `serving_default` that TF Serving replays at load: {input: list}."""
        return [{"text": _WARMUP_TEXTS[:1]}, {"text": _WARMUP_TEXTS}]

    def functions(self):
        """Every signature, traced: {name: concrete function}."""
        # Pure TF ops throughout, so no autograph (it only slows tracing).
        def trace(fn, specs):
            return tf.function(fn, input_signature=specs, autograph=False).get_concrete_function()

        functions = {
            "serving_default": trace(self.serve_text, self.text_inputs()),
            "serve_token_ids": trace(self.serve_token_ids, self.token_id_inputs()),
        }
        for name, signature in self.extra_signatures().items():
            functions[name] = trace(signature.function, signature.input_specs)
        return functions

    def method_names(self):
        """{signature name: TF Serving method} of the extra signatures."""
        return {name: signature.method_name for name, signature in self.extra_signatures().items()}

    def warmup_logs(self, model_name):
        """The warmup batches as `PredictionLog` protos for `model_name`."""
        return [
            warmup.predict_log(
                {k: np.array(v, dtype=object) for k, v in batch.items()}, "serving_default", model_name
            )
            for batch in self.warmup_batches()
        ]


class SequenceServingModule(ServingModule):
    """Shared by classification and regression: one text (or text pair) per row.

    Adds `parse_examples` for the TF Serving Classify / Regress APIs:
    serialized `tf.Example` [B] with bytes features `text` (and `text_pair`).
    """

    takes_text_pair = True

    def text_inputs(self):
        if self.text_pair:
            return [_strings("text"), _strings("text_pair")]
        return [_strings("text")]

    def warmup_batches(self):
        if not self.text_pair:
            return super().warmup_batches()
        texts = _WARMUP_TEXTS
        return [{"text": texts[:1], "text_pair": texts[1:2]}, {"text": texts, "text_pair": texts[::-1]}]

    def parse_examples(self, serialized):
        keys = ["text", "text_pair"] if self.text_pair else ["text"]
        features = tf.io.parse_example(
            serialized, {key: tf.io.FixedLenFeature([], tf.string) for key in keys}
        )
        return [features[key] for key in keys]


class ClassificationServingModule(SequenceServingModule):
    """Sequence classification.

    serving_default: `text` [B] (+ `text_pair` [B]) -> `logits` f32 [B, C],
    `probabilities` f32 [B, C], `label_ids` i32 [B], `labels` string [B].
    classify: `inputs` (serialized tf.Example [B]) -> `classes` string
    [B, C], `scores` f32 [B, C].

    Example:
    >>> model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=2)
    >>> tokenizer = AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"))
    >>> module = ClassificationServingModule(model, tokenizer, seq_length=16, labels=["neg", "pos"])
    >>> out = module.serve_text(tf.constant(["a lovely film", "dull"]))
    >>> out["probabilities"].shape, set(out["labels"].numpy()) <= {b"neg", b"pos"}
    (TensorShape([2, 2]), True)
    """

    task_names = ("classification",)
    takes_labels = True

    def run_model(self, ids):
        return {"logits": self.model(ids, training=False)}

    def serve_text(self, *texts):
        logits = self.run_model(self.preprocessor(*texts))["logits"]
        label_ids = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return {
            "logits": logits,
            "probabilities": tf.nn.softmax(logits, axis=-1),
            "label_ids": label_ids,
            "labels": tf.gather(tf.constant(self.labels), label_ids),
        }

    def classify(self, serialized):
        logits = self.run_model(self.preprocessor(*self.parse_examples(serialized)))["logits"]
        scores = tf.nn.softmax(logits, axis=-1)
        classes = tf.tile(tf.constant(self.labels)[None], [tf.shape(scores)[0], 1])
        return {"classes": classes, "scores": scores}

    def extra_signatures(self):
        return {"classify": Signature(self.classify, [_strings("inputs")], CLASSIFY_METHOD)}


class RegressionServingModule(SequenceServingModule):
    """Sequence regression.

    serving_default: `text` [B] (+ `text_pair` [B]) -> `predictions` f32 [B]
    (one target) or [B, C]. regress (one target only): `inputs` (serialized
    tf.Example [B]) -> `outputs` f32 [B].

    Example:
    >>> model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), 1, problem_type="regression")
    >>> tokenizer = AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"))
    >>> module = RegressionServingModule(model, tokenizer, seq_length=16, text_pair=True)
    >>> module.serve_text(tf.constant(["a film"]), tf.constant(["a movie"]))["predictions"].shape
    TensorShape([1])
    """

    task_names = ("regression",)

    def run_model(self, ids):
        return {"predictions": self.model(ids, training=False)}

    def serve_text(self, *texts):
        predictions = self.run_model(self.preprocessor(*texts))["predictions"]
        if self.model.num_classes == 1:
            predictions = predictions[:, 0]
        return {"predictions": predictions}

    def regress(self, serialized):
        predictions = self.run_model(self.preprocessor(*self.parse_examples(serialized)))["predictions"]
        return {"outputs": predictions[:, 0]}

    def extra_signatures(self):
        if self.model.num_classes != 1:  # the Regress API returns one value per example
            return {}
        return {"regress": Signature(self.regress, [_strings("inputs")], REGRESS_METHOD)}


class TokenClassificationServingModule(ServingModule):
    """One label per token; labels are trained per word, so text is split on whitespace.

    serving_default: `text` [B] -> `logits` f32 [B, T, C], `label_ids` i32
    [B, T] (-1 at padding), `labels` string [B, T] ("" at padding), `tokens`
    string [B, T], `word_ids` i32 [B, T] (-1 on specials and padding),
    `input_mask` i32 [B, T].

    Example:
    >>> model = AlbertTokenClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=3)
    >>> tokenizer = AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"))
    >>> module = TokenClassificationServingModule(model, tokenizer, seq_length=16, labels=["O", "B", "I"])
    >>> out = module.serve_text(tf.constant(["Zoe lives in Paris"]))
    >>> [t.decode() for t in out["tokens"][0].numpy()], out["word_ids"][0].numpy().tolist()
    (['[CLS]', '▁zoe', '▁lives', '▁in', '▁paris', '[SEP]'], [-1, 0, 1, 2, 3, -1])
    """

    task_names = ("token_classification",)
    takes_labels = True

    def make_preprocessor(self):
        return text.AlbertTokenClassificationPreprocessor(self.tokenizer, self.seq_length, dynamic_padding=True)

    def run_model(self, ids):
        return {"logits": self.model(ids, training=False)}

    def serve_text(self, text_input):
        packed = self.preprocessor(tf.strings.split(text_input))
        ids = {name: packed[name] for name in INPUT_NAMES}
        logits = self.run_model(ids)["logits"]
        real = ids["input_mask"] > 0
        label_ids = tf.argmax(logits, axis=-1, output_type=tf.int32)
        names = tf.gather(tf.constant(self.labels), label_ids)
        pieces = self.tokenizer.id_to_piece(ids["input_word_ids"])
        return {
            "logits": logits,
            "label_ids": tf.where(real, label_ids, -tf.ones_like(label_ids)),
            "labels": tf.where(real, names, tf.zeros_like(names)),
            "tokens": tf.where(real, pieces, tf.zeros_like(pieces)),
            "word_ids": packed["word_ids"],
            "input_mask": ids["input_mask"],
        }


class SpanQAServingModule(ServingModule):
    """Extractive QA: the best span of the context, cut from the original string.

    serving_default: `question` [B], `context` [B] -> `start_logits`,
    `end_logits` f32 [B, T], `answer_text` string [B], `answer_start`,
    `answer_end` i32 [B] (code-point offsets into `context`, end exclusive;
    -1 and "" when no context token fits), `answer_score` f32 [B].

    Example:
    >>> model = AlbertSpanQA(AlbertBackbone.from_preset("albert_tiny"))
    >>> tokenizer = AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"))
    >>> module = SpanQAServingModule(model, tokenizer, seq_length=32)
    >>> context = "Zoe Smith wrote it in 1851."
    >>> out = module.serve_text(tf.constant(["Who wrote it?"]), tf.constant([context]))
    >>> start, end = int(out["answer_start"][0]), int(out["answer_end"][0])
    >>> out["answer_text"][0].numpy().decode() == context[start:end]
    True
    """

    task_names = ("span_qa",)

    def make_preprocessor(self):
        return text.AlbertQAPreprocessor(self.tokenizer, self.seq_length, dynamic_padding=True)

    def run_model(self, ids):
        out = self.model(ids, training=False)
        return {"start_logits": out["start_logits"], "end_logits": out["end_logits"]}

    def text_inputs(self):
        return [_strings("question"), _strings("context")]

    def serve_text(self, question, context):
        packed = self.preprocessor(question, context)
        out = self.run_model({name: packed[name] for name in INPUT_NAMES})
        starts, ends = packed["token_start_char"], packed["token_end_char"]
        start, end, score, found = _best_spans(
            out["start_logits"], out["end_logits"], starts >= 0, self.max_answer_length
        )
        char_start = tf.where(found, tf.gather(starts, start, batch_dims=1), -1)
        char_end = tf.where(found, tf.gather(ends, end, batch_dims=1), -1)
        answer = tf.strings.substr(
            context, tf.maximum(char_start, 0), tf.maximum(char_end - char_start, 0), unit="UTF8_CHAR"
        )
        return {
            "start_logits": out["start_logits"],
            "end_logits": out["end_logits"],
            "answer_text": answer,
            "answer_start": char_start,
            "answer_end": char_end,
            "answer_score": score,
        }

    def warmup_batches(self):
        texts = _WARMUP_TEXTS
        return [{"question": ["What is it?"], "context": texts[:1]},
                {"question": ["Who holds it up?"] * 2, "context": texts[2:]}]


class MultipleChoiceServingModule(ServingModule):
    """Picks one of C candidate continuations of a context.

    serving_default: `context` [B], `choices` [B, C] -> `logits` f32 [B, C],
    `probabilities` f32 [B, C], `choice_id` i32 [B], `choice_text` string [B].
    serve_token_ids takes int32 [B, C, T] ids.

    Example:
    >>> model = AlbertMultipleChoice(AlbertBackbone.from_preset("albert_tiny"))
    >>> tokenizer = AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"))
    >>> module = MultipleChoiceServingModule(model, tokenizer, seq_length=16)
    >>> out = module.serve_text(tf.constant(["The sky is"]), tf.constant([["blue", "loud", "fast"]]))
    >>> out["logits"].shape, out["choice_text"][0].numpy() in (b"blue", b"loud", b"fast")
    (TensorShape([1, 3]), True)
    """

    task_names = ("multiple_choice",)

    def make_preprocessor(self):
        return text.AlbertMultipleChoicePreprocessor(self.tokenizer, self.seq_length, dynamic_padding=True)

    def run_model(self, ids):
        return {"logits": self.model(ids, training=False)}

    def text_inputs(self):
        return [_strings("context"), _strings("choices", (None, None))]

    def token_id_inputs(self):
        return [_ids(name, rank=3) for name in INPUT_NAMES]

    def serve_text(self, context, choices):
        logits = self.run_model(self.preprocessor(context, choices))["logits"]
        choice_id = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return {
            "logits": logits,
            "probabilities": tf.nn.softmax(logits, axis=-1),
            "choice_id": choice_id,
            "choice_text": tf.gather(choices, choice_id, batch_dims=1),
        }

    def warmup_batches(self):
        texts = _WARMUP_TEXTS
        return [{"context": texts[:1], "choices": [texts[1:3]]},
                {"context": texts[:2], "choices": [texts[2:4], texts[1:3]]}]


class PretrainingServingModule(ServingModule):
    """The pretrainer: its SOP head and encoder outputs on raw text, MLM on packed ids.

    serving_default: `text` [B] -> `sop_logits` f32 [B, 2], `pooled_output`
    f32 [B, H], `sequence_output` f32 [B, T, H]. serve_token_ids adds
    `masked_lm_positions` int32 [B, P] and returns `mlm_logits` [B, P, V]
    and `sop_logits`.

    Example:
    >>> model = AlbertPretrainer(AlbertBackbone.from_preset("albert_tiny"))
    >>> tokenizer = AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"))
    >>> module = PretrainingServingModule(model, tokenizer, seq_length=16)
    >>> sorted(module.serve_text(tf.constant(["a film"])))
    ['pooled_output', 'sequence_output', 'sop_logits']
    """

    task_names = ("pretraining",)

    def run_model(self, ids):
        return dict(self.model(ids, training=False))

    def token_id_inputs(self):
        return super().token_id_inputs() + [_ids("masked_lm_positions")]

    def serve_text(self, text_input):
        ids = self.preprocessor(text_input)
        out = self.model.backbone({name: ids[name] for name in INPUT_NAMES}, training=False)
        return {
            "sop_logits": self.model.sop_head(out["pooled_output"]),
            "pooled_output": out["pooled_output"],
            "sequence_output": out["sequence_output"],
        }


class BackboneServingModule(ServingModule):
    """The encoder alone.

    serving_default: `text` [B] -> `pooled_output` f32 [B, H],
    `sequence_output` f32 [B, T, H]; serve_token_ids returns the same.

    Example:
    >>> backbone = AlbertBackbone.from_preset("albert_tiny")
    >>> tokenizer = AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"))
    >>> module = BackboneServingModule(backbone, tokenizer, seq_length=16)
    >>> module.serve_text(tf.constant(["a film", "a much longer film review"]))["sequence_output"].shape
    TensorShape([2, 7, 64])
    """

    task_names = ("backbone",)

    def run_model(self, ids):
        out = self.model(ids, training=False)
        return {"pooled_output": out["pooled_output"], "sequence_output": out["sequence_output"]}

    def serve_text(self, text_input):
        return self.run_model(self.preprocessor(text_input))


SERVING_MODULES = {
    name: cls
    for cls in (
        BackboneServingModule,
        PretrainingServingModule,
        ClassificationServingModule,
        RegressionServingModule,
        TokenClassificationServingModule,
        SpanQAServingModule,
        MultipleChoiceServingModule,
    )
    for name in cls.task_names
}


def serving_module_class(model):
    """The `ServingModule` subclass for `model`'s task (through the task registry).

    Raises:
        TypeError: `model` is not an albert_tf backbone or task model.

    Example:
    >>> serving_module_class(AlbertSpanQA(AlbertBackbone.from_preset("albert_tiny"))).__name__
    'SpanQAServingModule'
    """
    return SERVING_MODULES[registry.task_name_of(model)]

"""One serving module per task: the signatures of a raw-text task SavedModel.

`ServingModule` holds what every task shares: tracing, the `serve_token_ids`
signature over already packed ids, and the warmup requests. Each subclass
declares, for its task, the preprocessor, the raw-text inputs and outputs
of `serving_default`, any extra signature (`classify`, `regress`) and the
warmup batches. `SERVING_MODULES` maps each task name of the registry to
its module class; `serving_module_class(model)` looks one up.

Shapes: B batch, T packed length (the batch's longest row, at most
seq_length), C classes or choices, H hidden, P masked positions, W span QA
windows (each question's context cut into one or more).

Under TF Serving's batcher (`pad_variable_length_inputs: true`), requests
are merged by padding every input tensor of a request, in every dimension
but the first, up to the batch's longest, with that tensor's first element
(`PadTensor` in tensorflow_serving/batching/batching_util.cc), and outputs
are split back only along dimension 0 (`SplitOutputTensors` in
batching_session.cc). Each signature keeps its answers exact under it:

- Raw-text inputs are [B] strings (never padded); text is packed in the
  graph, so a request's rows are packed with the batch's rows. Per-row
  outputs are unchanged; token-level outputs ([B, T, ...]) come back at the
  batch's T, the positions past a request's own T marked as padding by
  `input_mask` 0 (and `word_ids` / `label_ids` -1, `tokens` / `labels` "").
- `serve_token_ids`: a short request is padded with its first id, [CLS],
  with `input_mask` 1. Packed rows hold [CLS] only at position 0, so a
  [CLS] at any later position is padding and is masked out here (see
  `mask_batching_padding`). Token-level outputs come back at the batch's
  T, P (masked positions) or C (choices): a client keeps its own T, P, C.
- Multiple choice `serving_default` cannot be made safe: `choices` [B, C]
  of a request with fewer choices is padded with its first choice, which
  then competes in `probabilities` and `choice_id`. Requests batched by TF
  Serving must all carry the same C (serving/docker/batching.config says so).
"""

import abc
import collections

import numpy as np
import tensorflow as tf

from albert_tf import text
from albert_tf.backbone import INPUT_NAMES
from albert_tf.export import warmup
from albert_tf.tasks import registry
from albert_tf.text import normalization

CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"

# Beyond any index or offset of a packed batch.
_FAR = 2**30

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


def mask_batching_padding(input_word_ids, input_mask, cls_id):
    """Masks out the [CLS] ids TF Serving's batcher pads a short request with.

    Packed ALBERT rows hold [CLS] only at position 0; TF Serving pads a
    request's `input_word_ids` with its first element ([CLS]) and its
    `input_mask` with 1, so any later [CLS] is padding. Following
    tensorflow_serving/batching/batching_util.cc (`PadTensor`).

    Args:
        input_word_ids: int32 [..., T] packed ids ([B, T] or [B, C, T]).
        input_mask: int32 [..., T], 1 at real tokens.
        cls_id: the tokenizer's [CLS] id.

    Returns:
        `input_mask` with 0 wherever [CLS] appears after position 0.

    Example:
    >>> ids = tf.constant([[2, 10, 3, 2, 2], [2, 11, 12, 13, 3]])  # row 0 padded by TF Serving
    >>> mask_batching_padding(ids, tf.ones_like(ids), cls_id=2).numpy()
    array([[1, 1, 1, 0, 0],
           [1, 1, 1, 1, 1]], dtype=int32)
    """
    later = tf.range(tf.shape(input_word_ids)[-1]) > 0
    padding = tf.equal(input_word_ids, cls_id) & later
    return tf.where(padding, tf.zeros_like(input_mask), input_mask)


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
        doc_stride: context tokens between the starts of two windows (span QA).
        max_question_length: most question pieces kept (span QA; None:
            `albert_tf.text.qa.default_max_question_length`).

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

    def __init__(self, model, tokenizer, seq_length, labels=None, text_pair=False, max_answer_length=30,
                 doc_stride=128, max_question_length=None):
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
        self.doc_stride = doc_stride
        self.max_question_length = max_question_length
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
        ids = dict(zip(names, tensors))
        ids["input_mask"] = mask_batching_padding(ids["input_word_ids"], ids["input_mask"], self.tokenizer.cls_id)
        return self.run_model(ids)

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


def _solid_bounds(contexts, example_index, token_start_char, token_end_char):
    """Where each token's span starts and ends once whitespace is trimmed off.

    An answer is cut from the original context and stripped of the
    whitespace at its ends (Python's `str.isspace`), as
    `training.squad.decode_span` does: a span from token s to token e
    becomes [first_solid[s], last_solid_end[e]), empty (no answer text)
    when first_solid[s] >= token_end_char[e].

    Args:
        contexts: `tf.string` [B], the original contexts.
        example_index: int32 [W], the context of each window.
        token_start_char, token_end_char: int32 [W, T] code-point spans.

    Returns:
        `(first_solid, last_solid_end)` int32 [W, T]: the first
        non-whitespace character at or after each token's start, and 1 +
        the last non-whitespace character before each token's end (code
        points of the token's context; meaningless on non-context tokens).
    """
    chars = tf.strings.unicode_split(contexts, "UTF-8")
    is_space = tf.strings.regex_full_match(chars.flat_values, normalization.whitespace_class())
    # Flat positions (over all contexts) of the non-whitespace characters, sorted.
    solid = tf.cast(tf.where(~is_space)[:, 0], tf.int32)
    row_start = tf.gather(tf.cast(chars.row_splits, tf.int32), example_index)[:, None]
    shape = tf.shape(token_start_char)
    flat_starts = tf.reshape(row_start + token_start_char, [-1])
    flat_ends = tf.reshape(row_start + token_end_char, [-1])
    after = tf.concat([solid, [_FAR]], axis=0)
    before = tf.concat([[-_FAR], solid], axis=0)
    first_solid = tf.gather(after, tf.searchsorted(solid, flat_starts, side="left"))
    # searchsorted(solid, end) counts the solid characters before `end`: the
    # last of them is before[count].
    last_solid = tf.gather(before, tf.searchsorted(solid, flat_ends, side="left"))
    return (tf.reshape(first_solid, shape) - row_start,
            tf.reshape(last_solid + 1, shape) - row_start)


def _window_answers(windows, start_logits, end_logits, first_solid, max_answer_length):
    """The best span of each window.

    A span starts on a context token of the window whose max-context window
    this is, ends on a context token at most `max_answer_length - 1` tokens
    later and holds some non-whitespace text; its score is start logit +
    end logit, summed in float64 as `training.squad.decode_span` ranks them.
    Every (start, end) pair is searched (no n-best cut).

    Args:
        windows: the `AlbertQAPreprocessor` dict ([W, T] tensors).
        start_logits, end_logits: float32 [W, T].
        first_solid: int32 [W, T] from `_solid_bounds`.
        max_answer_length: int L.

    Returns:
        `(start, end, start_logit, end_logit)`: int32 [W] token positions
        and their float64 [W] logits; start_logit is -inf in a window
        without any valid span.
    """
    starts, ends = windows["token_start_char"], windows["token_end_char"]
    length = tf.shape(starts)[1]
    is_context = (starts >= 0) & (ends > starts)
    # Candidates on a [W, T, L] grid: start t, end t + k.
    end_position = tf.range(length)[:, None] + tf.range(max_answer_length)[None, :]
    in_window = end_position < length
    end_position = tf.minimum(end_position, length - 1)
    valid = (
        (is_context & (windows["token_is_max_context"] > 0))[:, :, None]
        & tf.gather(is_context, end_position, axis=1)
        & in_window[None]
        & (first_solid[:, :, None] < tf.gather(ends, end_position, axis=1))
    )
    start64, end64 = tf.cast(start_logits, tf.float64), tf.cast(end_logits, tf.float64)
    scores = start64[:, :, None] + tf.gather(end64, end_position, axis=1)
    scores = tf.where(valid, scores, tf.constant(-np.inf, tf.float64))
    best = tf.argmax(tf.reshape(scores, [tf.shape(scores)[0], -1]), axis=-1, output_type=tf.int32)
    start = best // max_answer_length
    end = tf.gather_nd(end_position, tf.stack([start, best % max_answer_length], axis=-1))
    found = tf.reduce_any(valid, axis=[1, 2])
    start_logit = tf.where(found, tf.gather(start64, start, batch_dims=1), tf.constant(-np.inf, tf.float64))
    return start, end, start_logit, tf.gather(end64, end, batch_dims=1)


def _merge_answers(contexts, windows, start_logits, end_logits, max_answer_length):
    """Per question: the best span over its windows, cut from the original context.

    The semantics of `training.squad.decode_span(..., version_2=False)`
    with every (start, end) pair searched: the best span over all windows
    of the question; the null score is the minimum over its windows of
    start + end logit at [CLS]; `null_score_diff` = null score - best span
    score. No thresholding: a caller predicts "no answer" when
    `null_score_diff` exceeds its threshold (SQuAD 2.0).

    Shapes: B questions, W windows, T packed length.

    Args:
        contexts: `tf.string` [B].
        windows: the `AlbertQAPreprocessor` dict ([W, T] tensors and
            `example_index` [W]).
        start_logits, end_logits: float32 [W, T].
        max_answer_length: int, longest answer in tokens.

    Returns:
        dict: `answer_text` string [B], `answer_start`, `answer_end` int32
        [B] (code points, end exclusive; -1 when no span exists, e.g. an
        empty context), `answer_score` float32 [B] (0 without a span),
        `null_score_diff` float32 [B] (+inf without a span).
    """
    example = windows["example_index"]
    count = tf.shape(contexts)[0]
    first_solid, last_solid_end = _solid_bounds(
        contexts, example, windows["token_start_char"], windows["token_end_char"]
    )
    start, end, start_logit, end_logit = _window_answers(
        windows, start_logits, end_logits, first_solid, max_answer_length
    )
    score = start_logit + end_logit
    best = tf.math.unsorted_segment_max(score, example, count)
    # The first window of its question that reaches the question's best score.
    window = tf.range(tf.shape(example)[0])
    is_best = (score > -np.inf) & tf.equal(score, tf.gather(best, example))
    best_window = tf.math.unsorted_segment_min(tf.where(is_best, window, _FAR), example, count)
    found = best_window < _FAR
    best_window = tf.where(found, best_window, 0)

    def pick(values):
        return tf.gather(values, best_window)

    answer_start = tf.where(found, tf.gather_nd(first_solid, tf.stack([best_window, pick(start)], -1)), -1)
    answer_end = tf.where(found, tf.gather_nd(last_solid_end, tf.stack([best_window, pick(end)], -1)), -1)
    null = tf.math.unsorted_segment_min(
        tf.cast(start_logits[:, 0], tf.float64) + tf.cast(end_logits[:, 0], tf.float64), example, count
    )
    null_score_diff = tf.where(found, null - pick(start_logit) - pick(end_logit), tf.constant(np.inf, tf.float64))
    answer_text = tf.strings.substr(
        contexts, tf.maximum(answer_start, 0), tf.maximum(answer_end - answer_start, 0), unit="UTF8_CHAR"
    )
    return {
        "answer_text": answer_text,
        "answer_start": answer_start,
        "answer_end": answer_end,
        "answer_score": tf.cast(tf.where(found, pick(score), tf.zeros_like(best)), tf.float32),
        "null_score_diff": tf.cast(null_score_diff, tf.float32),
    }


class SpanQAServingModule(ServingModule):
    """Extractive QA on contexts of any length: windows in, one answer per question out.

    The context is cut into `doc_stride` windows in the graph
    (`AlbertQAPreprocessor`), the model runs on every window, and the
    windows of each question are merged as `training.squad.decode_span`
    does (every (start, end) pair searched, start on a token's max-context
    window, at most `max_answer_length` tokens).

    serving_default: `question` [B], `context` [B] -> `answer_text` string
    [B] (the best span, cut from the original context and stripped of
    whitespace), `answer_start`, `answer_end` i32 [B] (code-point offsets
    into `context`, end exclusive; -1 and "" when no span exists),
    `answer_score` f32 [B] (start + end logit), `null_score_diff` f32 [B]
    ([CLS] score minus the best span's; predict "no answer" above a
    threshold). serve_token_ids takes and returns one row per window.

    Example:
    >>> model = AlbertSpanQA(AlbertBackbone.from_preset("albert_tiny"))
    >>> tokenizer = AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"))
    >>> module = SpanQAServingModule(model, tokenizer, seq_length=24, doc_stride=8)
    >>> question = tf.constant(["Who wrote it?"])
    >>> context = "Zoe Smith wrote it in 1851, at home, in a small room above the harbour of the old town."
    >>> module.preprocessor.num_windows(question, tf.constant([context])).numpy()  # 22 pieces, 17 a window
    array([2], dtype=int32)
    >>> out = module.serve_text(question, tf.constant([context]))
    >>> start, end = int(out["answer_start"][0]), int(out["answer_end"][0])
    >>> out["answer_text"][0].numpy().decode() == context[start:end] != ""
    True
    """

    task_names = ("span_qa",)

    def make_preprocessor(self):
        return text.AlbertQAPreprocessor(
            self.tokenizer, self.seq_length, self.max_question_length, doc_stride=self.doc_stride,
            dynamic_padding=True,
        )

    def run_model(self, ids):
        out = self.model(ids, training=False)
        return {"start_logits": out["start_logits"], "end_logits": out["end_logits"]}

    def text_inputs(self):
        return [_strings("question"), _strings("context")]

    def serve_text(self, question, context):
        same_batch = tf.debugging.assert_equal(
            tf.size(question), tf.size(context),
            message="question and context must have the same batch size B: one context per question",
        )
        with tf.control_dependencies([same_batch]):
            question, context = tf.identity(question), tf.identity(context)
        windows = self.preprocessor(question, context)
        out = self.run_model({name: windows[name] for name in INPUT_NAMES})
        return _merge_answers(context, windows, out["start_logits"], out["end_logits"], self.max_answer_length)

    def warmup_batches(self):
        texts = _WARMUP_TEXTS
        # The long context makes several windows at any seq_length up to 512.
        return [{"question": ["What is it?"], "context": texts[:1]},
                {"question": ["Who holds it up?"] * 2, "context": [texts[3], " ".join(texts * 12)]}]


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
    f32 [B, H], `sequence_output` f32 [B, T, H], `input_mask` i32 [B, T]
    (1 at the real tokens of `sequence_output`). serve_token_ids adds
    `masked_lm_positions` int32 [B, P] and returns `mlm_logits` [B, P, V]
    and `sop_logits`.

    Example:
    >>> model = AlbertPretrainer(AlbertBackbone.from_preset("albert_tiny"))
    >>> tokenizer = AlbertTokenizer(albert_tf.resources.path("albert-30k-clean.model"))
    >>> module = PretrainingServingModule(model, tokenizer, seq_length=16)
    >>> sorted(module.serve_text(tf.constant(["a film"])))
    ['input_mask', 'pooled_output', 'sequence_output', 'sop_logits']
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
            "input_mask": ids["input_mask"],
        }


class BackboneServingModule(ServingModule):
    """The encoder alone.

    serving_default: `text` [B] -> `pooled_output` f32 [B, H],
    `sequence_output` f32 [B, T, H], `input_mask` i32 [B, T] (1 at the real
    tokens of `sequence_output`); serve_token_ids returns the first two.

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
        ids = self.preprocessor(text_input)
        return {**self.run_model(ids), "input_mask": ids["input_mask"]}


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
        ValueError: a head variant without a serving module (the SQuAD 2.0
            head of `AlbertSpanQAV2`, whose beam outputs no signature decodes yet).

    Example:
    >>> serving_module_class(AlbertSpanQA(AlbertBackbone.from_preset("albert_tiny"))).__name__
    'SpanQAServingModule'
    """
    task = registry.task_name_of(model)
    variant = getattr(model, "variant", None)
    if variant is not None:
        raise ValueError(
            f"{type(model).__name__} (the {variant!r} head of {task}) has no serving signature: its "
            f"start/end beam outputs are not decoded into answers in a graph yet; call the model in "
            f"Python, or fine-tune an AlbertSpanQA head to export"
        )
    return SERVING_MODULES[task]

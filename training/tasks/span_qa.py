"""Extractive question answering (SQuAD v1.1 / v2.0): question + context -> answer span (`AlbertSpanQA`)."""

import functools
import math

import numpy as np

from training import squad
from training.data import readers
from training.tasks.base import Task, batched_examples

# Questions per window count in `num_batches` (bounds the memory of one call).
_COUNT_CHUNK = 1000


def _check_examples(data):
    if not isinstance(data, list) or (data and not isinstance(data[0], readers.SquadExample)):
        raise TypeError(f"{SpanQATask.name} needs a list of SquadExample, got {type(data).__name__}")


class SpanQATask(Task):
    """Question + context -> answer span (`AlbertSpanQA`), SQuAD v1.1 / v2.0.

    Packing: `AlbertQAPreprocessor` cuts each context into document-stride
    windows (`[CLS] question [SEP] window [SEP]`, token -> character
    offsets into the original context, the max-context flag of each
    token); a batch of `batch_size` questions becomes its windows, which
    are then batched `batch_size` at a time, so the model sees batches of
    windows. Labels: in each window, the first answer's start/end tokens
    when the window holds it whole, else [CLS] (0), as for an unanswerable
    question. Decoding and metrics: `training.squad` across all windows of
    a question (spans start on a token in its max-context window; n-best,
    max answer length, null threshold; official EM/F1 plus the best
    no-answer threshold).

    Args (`task_options`): `max_question_length` (None: 64, or less where
    windows would not overlap; `default_max_question_length`), `doc_stride` (128),
    `n_best_size` (20), `max_answer_length` (30),
    `null_score_diff_threshold` (0.0), `version_2` (True: "no answer" is
    a possible prediction).

    Example:
    >>> task = SpanQATask(albert_tf.AlbertTokenizer(), seq_length=16, max_question_length=4, doc_stride=4)
    >>> context = "Paris is a city in France, a country of Europe."
    >>> example = readers.SquadExample("q1", "Where is Paris?", context,
    ...                                [{"text": "France", "answer_start": context.index("France")}])
    >>> x, y = next(iter(task.dataset([example], batch_size=8)))
    >>> x["input_word_ids"].shape, task.num_batches([example], batch_size=8)  # 2 windows, 1 batch
    (TensorShape([2, 16]), 1)
    >>> [p.decode() for p in task.tokenizer.id_to_piece(x["input_word_ids"][1, 6:]).numpy()]
    ['▁in', '▁france', ',', '▁a', '▁country', '▁of', '▁europe', '.', '[SEP]', '<pad>']
    >>> {head: labels.numpy().tolist() for head, labels in y.items()}  # "france" in both windows
    {'start_logits': [11, 7], 'end_logits': [11, 7]}
    """

    name = "span_qa"
    primary_metric = "f1"

    def __init__(self, tokenizer, seq_length=384, max_question_length=None, doc_stride=128, n_best_size=20,
                 max_answer_length=30, null_score_diff_threshold=0.0, version_2=True):
        super().__init__(tokenizer, seq_length)
        self.max_question_length = max_question_length
        self.doc_stride = doc_stride
        self.n_best_size = n_best_size
        self.max_answer_length = max_answer_length
        self.null_score_diff_threshold = null_score_diff_threshold
        self.version_2 = version_2

    @functools.cached_property
    def preprocessor(self):
        """The `AlbertQAPreprocessor` that makes the windows."""
        from albert_tf.text import AlbertQAPreprocessor

        return AlbertQAPreprocessor(
            self.tokenizer, seq_length=self.seq_length, max_question_length=self.max_question_length,
            doc_stride=self.doc_stride,
        )

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

    def num_batches(self, data, batch_size):
        """Batches of windows in one pass over `data` (every question makes at least one window)."""
        import tensorflow as tf

        _check_examples(data)
        windows = 0
        for begin in range(0, len(data), _COUNT_CHUNK):
            chunk = data[begin:begin + _COUNT_CHUNK]
            counts = self.preprocessor.num_windows(
                tf.constant([e.question for e in chunk]), tf.constant([e.context for e in chunk])
            )
            windows += int(tf.reduce_sum(counts))
        return math.ceil(windows / batch_size)

    def _batches(self, data, batch_size, training=False, seed=0):
        """Batches of `batch_size` windows: (x, y, offsets [W, T, 2], max_context [W, T], example ids [W])."""
        import tensorflow as tf

        from albert_tf.text.qa import char_span_to_token_span

        _check_examples(data)
        preprocessor = self.preprocessor
        starts = [e.answers[0]["answer_start"] if e.answers else -1 for e in data]
        ends = [e.answers[0]["answer_start"] + len(e.answers[0]["text"]) if e.answers else -1 for e in data]
        columns = (
            tf.constant([e.question for e in data], tf.string), tf.constant([e.context for e in data], tf.string),
            tf.constant(starts, tf.int32), tf.constant(ends, tf.int32), tf.range(len(data), dtype=tf.int32),
        )

        def pack(questions, contexts, answer_start, answer_end, example_ids):
            x = preprocessor(questions, contexts)
            index = x.pop("example_index")
            offsets = tf.stack([x.pop("token_start_char"), x.pop("token_end_char")], axis=-1)
            max_context = x.pop("token_is_max_context")
            start, end = char_span_to_token_span(
                offsets[..., 0], offsets[..., 1], tf.gather(answer_start, index), tf.gather(answer_end, index)
            )
            labels = {"start_logits": start, "end_logits": end}
            return x, labels, offsets, max_context, tf.gather(example_ids, index)

        windows = batched_examples(columns, len(data), batch_size, training, seed, pack)
        # Unbatching hides the number of batches; Keras needs it to start
        # each epoch on a fresh pass.
        windows = windows.unbatch().batch(batch_size)
        return windows.apply(tf.data.experimental.assert_cardinality(self.num_batches(data, batch_size)))

    def decode(self, model, data, batch_size=32):
        """{qid: SpanPrediction} for `data`, each decoded across all its windows."""
        windows = [[] for _ in data]
        for x, _, offsets, max_context, example_ids in self._batches(data, batch_size):
            out = model.predict_on_batch(x)
            start_logits, end_logits = np.asarray(out["start_logits"]), np.asarray(out["end_logits"])
            offsets, max_context = offsets.numpy(), max_context.numpy().astype(bool)
            for row, example_id in enumerate(example_ids.numpy()):
                windows[example_id].append({
                    "start_logits": start_logits[row], "end_logits": end_logits[row],
                    "offsets": offsets[row], "max_context": max_context[row],
                })
        return {
            example.qid: squad.decode_span(
                example.context, example_windows, n_best_size=self.n_best_size,
                max_answer_length=self.max_answer_length, version_2=self.version_2,
                null_score_diff_threshold=self.null_score_diff_threshold,
            )
            for example, example_windows in zip(data, windows)
        }

    def score(self, model, data, batch_size=32, verbose=0):
        decoded = self.decode(model, data, batch_size)
        gold = {e.qid: e.gold_texts for e in data}
        return squad.evaluate_decoded(gold, decoded, self.version_2, self.null_score_diff_threshold)

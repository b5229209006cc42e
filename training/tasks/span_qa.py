"""Extractive question answering (SQuAD v1.1 / v2.0): question + context -> answer span (`AlbertSpanQA`)."""

import numpy as np

from training import squad
from training.data import readers
from training.tasks.base import Task, batched_examples


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

    Example:
    >>> task = SpanQATask(albert_tf.AlbertTokenizer(), seq_length=32, max_question_length=8)
    >>> example = readers.SquadExample("q1", "Where is Paris?", "Paris is in France.",
    ...                                [{"text": "France", "answer_start": 12}])
    >>> x, y = next(iter(task.dataset([example], batch_size=1)))
    >>> {head: labels.numpy().tolist() for head, labels in y.items()}
    {'start_logits': [9], 'end_logits': [9]}
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
        columns = (
            tf.constant([e.question for e in data]), tf.constant([e.context for e in data]),
            tf.constant(starts, tf.int32), tf.constant(ends, tf.int32),
        )

        def pack(questions, contexts, answer_start, answer_end):
            x = preprocessor(questions, contexts)
            offsets = tf.stack([x.pop("token_start_char"), x.pop("token_end_char")], axis=-1)
            start, end = char_span_to_token_span(
                offsets[..., 0], offsets[..., 1], answer_start, answer_end
            )
            return x, {"start_logits": start, "end_logits": end}, offsets

        return batched_examples(columns, len(data), batch_size, training, seed, pack)

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

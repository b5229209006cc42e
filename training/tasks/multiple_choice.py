"""Multiple choice: (context, choice) pairs -> one score per choice (`AlbertMultipleChoice`)."""

import numpy as np

from training import metrics as metric_lib
from training.data import readers
from training.tasks.base import Task, batched_examples
from training.tasks.classification import ClassificationTask


class MultipleChoiceTask(Task):
    """(context, choice) pairs -> one score per choice (`AlbertMultipleChoice`).

    Example:
    >>> task = MultipleChoiceTask(albert_tf.AlbertTokenizer(), seq_length=16)
    >>> data = readers.MultipleChoiceData(["She opens the door."], [["She walks in.", "She flies off."]], [0])
    >>> x, y = next(iter(task.dataset(data, batch_size=1)))
    >>> x["input_word_ids"].shape, y.numpy().tolist()  # [B, C, T]
    (TensorShape([1, 2, 16]), [0])
    """

    name = "multiple_choice"
    primary_metric = "accuracy"

    def build_model(self, backbone, data, dropout=0.1):
        import albert_tf

        return albert_tf.AlbertMultipleChoice(backbone, dropout=dropout)

    def compile_args(self):
        return ClassificationTask.compile_args(self)

    def _batches(self, data, batch_size, training=False, seed=0):
        import tensorflow as tf
        from albert_tf.text import AlbertMultipleChoicePreprocessor

        if not isinstance(data, readers.MultipleChoiceData):
            raise TypeError(f"{self.name} needs MultipleChoiceData, got {type(data).__name__}")
        preprocessor = AlbertMultipleChoicePreprocessor(self.tokenizer, seq_length=self.seq_length)
        columns = (tf.constant(data.contexts), tf.constant(data.choices), tf.constant(data.labels, tf.int32))
        return batched_examples(
            columns, len(data), batch_size, training, seed,
            lambda contexts, choices, y: (preprocessor(contexts, choices), y),
        )

    def score(self, model, data, batch_size=32, verbose=0):
        logits = np.asarray(model.predict(self.dataset(data, batch_size, labels=False), verbose=verbose))
        return {"accuracy": metric_lib.accuracy(np.asarray(data.labels), logits.argmax(-1))}

"""Sequence classification: single texts or pairs -> class logits (`AlbertClassifier`)."""

import numpy as np

from training import metrics as metric_lib
from training.data import readers
from training.tasks.base import Task, batched_examples


class ClassificationTask(Task):
    """Single texts or pairs -> class logits (`AlbertClassifier`).

    Example:
    >>> task = ClassificationTask(albert_tf.AlbertTokenizer(), seq_length=16)
    >>> data = readers.TextClassificationData(["a fine film", "dull"], None, [1, 0], ("negative", "positive"))
    >>> x, y = next(iter(task.dataset(data, batch_size=2)))
    >>> x["input_word_ids"].shape, y.numpy().tolist()
    (TensorShape([2, 16]), [1, 0])
    """

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

    def _batches(self, data, batch_size, training=False, seed=0):
        import tensorflow as tf

        self._check(data)
        preprocessor = self._preprocessor()
        label_dtype = tf.float32 if data.is_regression else tf.int32
        columns = [tf.constant(data.texts_a, tf.string)]
        if data.texts_b is not None:
            columns.append(tf.constant(data.texts_b, tf.string))
        y = tf.constant(data.labels, label_dtype)
        return batched_examples(
            (tuple(columns), y), len(data), batch_size, training, seed, lambda texts, y: (preprocessor(*texts), y)
        )

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

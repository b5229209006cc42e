"""Multiple choice: (context, choice) pairs -> one score per choice (`AlbertMultipleChoice`)."""

import numpy as np

from training import metrics as metric_lib
from training.data import readers
from training.tasks.base import Task, shuffle_for_training
from training.tasks.classification import ClassificationTask


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
        ds = shuffle_for_training(ds, len(data), training, seed).batch(batch_size)

        def pack(texts, y):
            x = preprocessor(*texts)
            return (x, y) if labels else x

        return ds.map(pack, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    def score(self, model, data, batch_size=32, verbose=0):
        logits = np.asarray(model.predict(self.dataset(data, batch_size, labels=False), verbose=verbose))
        return {"accuracy": metric_lib.accuracy(np.asarray(data.labels), logits.argmax(-1))}

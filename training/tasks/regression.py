"""Sequence regression: single texts or pairs -> one value (`AlbertClassifier`, regression)."""

import numpy as np

from training import metrics as metric_lib
from training.tasks.classification import ClassificationTask


class RegressionTask(ClassificationTask):
    """Single texts or pairs -> one value (`AlbertClassifier`, regression).

    Example:
    >>> from training.data import readers
    >>> task = RegressionTask(albert_tf.AlbertTokenizer(), seq_length=16)
    >>> data = readers.TextClassificationData(["a fine film", "dull"], None, [0.5, -1.0], None)
    >>> x, y = next(iter(task.dataset(data, batch_size=2)))
    >>> y.dtype.name, y.numpy().tolist(), task.primary_metric
    ('float32', [0.5, -1.0], 'pearson')
    """

    name = "regression"
    primary_metric = "pearson"
    problem_type = "regression"

    def compile_args(self):
        import keras

        return {"loss": keras.losses.MeanSquaredError(), "metrics": [keras.metrics.MeanAbsoluteError(name="mae")]}

    def score(self, model, data, batch_size=32, verbose=0):
        values = self.predict(model, data, batch_size, verbose)[:, 0]
        return metric_lib.regression_metrics(np.asarray(data.labels, np.float64), values)

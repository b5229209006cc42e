"""Sequence regression: single texts or pairs -> one value (`AlbertClassifier`, regression)."""

import numpy as np

from training import metrics as metric_lib
from training.tasks.classification import ClassificationTask


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

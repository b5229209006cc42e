"""Pretraining as a task: the masked-LM + sentence-order losses and metrics of ALBERT.

The loss is the original one: MLM sparse cross-entropy averaged over the
real predictions (masked_lm_weights as sample weights) plus SOP
cross-entropy over the batch, in float32 (the heads emit float32 logits
under mixed precision too). `training.loops.pretrain` runs it.
"""

import collections


def max_logit_matches(y_true, y_pred):
    """1.0 where the label's logit is the largest of its row, else 0.0.

    Args:
        y_true: int labels [...] (or [..., 1]).
        y_pred: logits [..., C].

    Returns:
        float32 [...]. Equals `argmax(y_pred) == y_true` except on an exact
        tie for the largest logit, which counts as correct here (argmax
        takes the lowest index; float32 logits practically never tie).
        Why not argmax: XLA's CPU backend runs it as a reduction that also
        tracks the index, several times slower than a plain max; over the
        [B, 20, 30000] MLM logits that was about 10% of a tiny model's step.

    Example:
    >>> max_logit_matches([2, 0], [[0.1, 0.2, 0.7], [0.1, 0.8, 0.1]]).numpy().tolist()
    [1.0, 0.0]
    """
    from keras import ops

    y_pred = ops.convert_to_tensor(y_pred)
    labels = ops.cast(y_true, "int32")
    if len(labels.shape) == len(y_pred.shape):
        labels = ops.squeeze(labels, -1)
    label_logit = ops.take_along_axis(y_pred, labels[..., None], axis=-1)[..., 0]
    return ops.cast(label_logit >= ops.max(y_pred, axis=-1), "float32")


def max_logit_accuracy(name="accuracy"):
    """A Keras metric: the (weighted) mean of `max_logit_matches`.

    Example:
    >>> metric = max_logit_accuracy()
    >>> metric.update_state([2, 0], [[0.1, 0.2, 0.7], [0.1, 0.8, 0.1]], sample_weight=[1.0, 3.0])
    >>> float(metric.result())
    0.25
    """
    import keras

    return keras.metrics.MeanMetricWrapper(max_logit_matches, name=name)


def compile_pretrainer(model, optimizer, jit_compile=True, steps_per_execution=1):
    """Compiles an `AlbertPretrainer` with the ALBERT losses and metrics.

    The MLM loss is a mean over real predictions (Keras reduction
    "mean_with_sample_weight" with masked_lm_weights as sample weights);
    the SOP loss a mean over the batch; both accuracies are
    `max_logit_accuracy`. Feed (x, y, sample_weight) as made by
    `training.data.pipelines`.

    Example:
    >>> model = compile_pretrainer(albert_tf.AlbertPretrainer(albert_tf.AlbertBackbone.from_preset("albert_tiny")),
    ...                            "adam", jit_compile=False)
    >>> sorted(model.loss)
    ['mlm_logits', 'sop_logits']
    """
    import keras

    model.compile(
        optimizer=optimizer,
        loss={
            "mlm_logits": keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="mean_with_sample_weight"
            ),
            "sop_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        },
        weighted_metrics={"mlm_logits": [max_logit_accuracy()]},
        metrics={"sop_logits": [max_logit_accuracy()]},
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


def unigram_baseline(train_ds, eval_ds, steps):
    """Accuracy of always predicting the training data's most frequent masked token.

    Counts weighted masked_lm_ids over `steps` batches of each dataset.
    Returns (baseline accuracy on eval_ds, the token id).

    Example:
    >>> def batches(ids, weights):
    ...     y = {"mlm_logits": tf.constant([ids])}
    ...     return tf.data.Dataset.from_tensors(({}, y, {"mlm_logits": tf.constant([weights])}))
    >>> train = batches([7, 7, 9], [1.0, 1.0, 1.0])
    >>> unigram_baseline(train, batches([7, 9, 9, 7], [1.0, 1.0, 1.0, 0.0]), steps=1)
    (0.3333333333333333, 7)
    """
    def counts(ds):
        counter = collections.Counter()
        for _, y, w in ds.take(steps):
            ids = y["mlm_logits"].numpy().ravel()
            weights = w["mlm_logits"].numpy().ravel()
            counter.update(ids[weights > 0].tolist())
        return counter

    train_counts, eval_counts = counts(train_ds), counts(eval_ds)
    token = train_counts.most_common(1)[0][0]
    total = sum(eval_counts.values())
    return (eval_counts[token] / total if total else 0.0), int(token)

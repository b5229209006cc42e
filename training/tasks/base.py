"""`Task`: what fine-tuning and evaluation need to know about one kind of task.

A task (in tensorflow/models' sense) is data + loss + metrics: it turns a
reader's examples into a tf.data pipeline for its `albert_tf` task model,
names the model's loss and Keras metrics, and scores a model with the
task's official metrics. The loops in `training.loops` run any task the
same way; `training.tasks` lists them.
"""


class Task:
    """What fine-tuning and evaluation need to know about one kind of task.

    Subclasses set `name`, `primary_metric`, and implement `build_model`,
    `compile_args`, `dataset` and `score`.
    """

    name = None
    primary_metric = None

    def __init__(self, tokenizer, seq_length=128):
        if seq_length < 8:
            raise ValueError(f"seq_length must be at least 8, got {seq_length}")
        self.tokenizer = tokenizer
        self.seq_length = seq_length

    def num_outputs(self, data):
        return None

    def build_model(self, backbone, data, dropout=0.1):
        raise NotImplementedError

    def compile_args(self):
        raise NotImplementedError

    def dataset(self, data, batch_size, training=False, seed=0, labels=True):
        raise NotImplementedError

    def score(self, model, data, batch_size=32, verbose=0):
        raise NotImplementedError


def shuffle_for_training(ds, size, training, seed):
    """Shuffles (reshuffling each epoch) only when `training`."""
    if training:
        ds = ds.shuffle(min(size, 100_000), seed=seed, reshuffle_each_iteration=True)
    return ds

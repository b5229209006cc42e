"""Token classification (tagging): words -> one tag each (`AlbertTokenClassifier`)."""

import numpy as np

from training import metrics as metric_lib
from training.data import readers
from training.tasks.base import Task, batched_examples


class TokenClassificationTask(Task):
    """Words -> one tag each (`AlbertTokenClassifier`).

    Words are tokenized one by one (`AlbertTokenClassificationPreprocessor`);
    a word's tag is trained and predicted on its first piece (the original
    BERT recipe), the other pieces are ignored by the loss. Words cut off by
    `seq_length` are predicted "O".

    Example:
    >>> task = TokenClassificationTask(albert_tf.AlbertTokenizer(), seq_length=8)
    >>> data = readers.TaggingData([["John", "Smithson", "runs"]], [["B-PER", "I-PER", "O"]],
    ...                            ("O", "B-PER", "I-PER"))
    >>> x, y = next(iter(task.dataset(data, batch_size=1)))
    >>> y.numpy().tolist()  # [CLS] John Smith son runs [SEP] <pad> <pad>
    [[-1, 1, 2, -1, 0, -1, -1, -1]]
    """

    name = "token_classification"
    primary_metric = "f1"
    IGNORE = -1

    def build_model(self, backbone, data, dropout=0.1):
        import albert_tf

        return albert_tf.AlbertTokenClassifier(backbone, num_classes=len(data.tag_names), dropout=dropout)

    def compile_args(self):
        import keras

        return {
            "loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=self.IGNORE),
            "metrics": [],
        }

    def _batches(self, data, batch_size, training=False, seed=0):
        import tensorflow as tf
        from albert_tf.text import AlbertTokenClassificationPreprocessor

        if not isinstance(data, readers.TaggingData):
            raise TypeError(f"{self.name} needs TaggingData, got {type(data).__name__}")
        preprocessor = AlbertTokenClassificationPreprocessor(self.tokenizer, seq_length=self.seq_length)
        tag_index = {t: i for i, t in enumerate(data.tag_names)}
        tag_ids = [[tag_index.get(t, self.IGNORE) for t in tags] for tags in data.tags]
        columns = (tf.ragged.constant(data.tokens, tf.string), tf.ragged.constant(tag_ids, tf.int32))

        def pack(words, tags):
            x = preprocessor(words)
            word_ids = x.pop("word_ids")
            previous = tf.pad(word_ids[:, :-1], [[0, 0], [1, 0]], constant_values=-1)
            first_piece = (word_ids >= 0) & (word_ids != previous)
            tags = tags.to_tensor(default_value=self.IGNORE)
            spread = tf.gather(tags, tf.maximum(word_ids, 0), batch_dims=1)
            y = tf.where(first_piece, spread, self.IGNORE)
            return x, y, tf.where(first_piece, word_ids, -1)

        return batched_examples(columns, len(data), batch_size, training, seed, pack)

    def score(self, model, data, batch_size=32, verbose=0):
        pred_tags = [["O"] * len(sentence) for sentence in data.tokens]
        row = 0
        for x, _, first_word in self._batches(data, batch_size):
            predicted = np.asarray(model.predict_on_batch(x)).argmax(-1)
            for r, t in zip(*np.nonzero(first_word.numpy() >= 0)):
                pred_tags[row + r][first_word.numpy()[r, t]] = data.tag_names[predicted[r, t]]
            row += predicted.shape[0]
        result = metric_lib.entity_f1(data.tags, pred_tags)
        flat_true = [t for s in data.tags for t in s]
        flat_pred = [t for s in pred_tags for t in s]
        result["token_accuracy"] = metric_lib.accuracy(flat_true, flat_pred)
        return result

"""Answer sentence selection (WikiQA, TREC-QA, ASNQ): rank a passage's sentences for a question.

Built from SQuAD-style examples (e.g. the shipped Disfl-QA): each context
is cut into sentences (`training.data.creation.split_sentences`) and every
(question, sentence) pair is one binary classification example, positive
iff the sentence holds the whole first gold answer span. A question is
scored by ranking its sentences by the model's positive-class logit
margin: MAP, MRR and precision@1 over questions (`training.metrics`).
"""

import dataclasses

import numpy as np

from training import metrics as metric_lib
from training.data import readers
from training.data.creation import split_sentences
from training.tasks.classification import ClassificationTask

PAIR_LABELS = ("other", "answer")


@dataclasses.dataclass
class SentencePairs:
    """(question, sentence) pairs of SQuAD-style examples.

    Attributes:
        pairs: `TextClassificationData` with texts_a = questions, texts_b =
            sentences, labels 1 (holds the first gold answer) or 0.
        question_ids: [N] the `qid` of each pair's question.
        sentence_starts: [N] character offset of each sentence in its context.
    """

    pairs: readers.TextClassificationData
    question_ids: list
    sentence_starts: list


def sentence_pairs(examples):
    """Splits each context into sentences and labels (question, sentence) pairs.

    A sentence is positive iff it contains the first gold answer span
    (`answers[0]`, by character offsets). Unanswerable questions, and
    questions whose answer straddles a sentence boundary (no positive
    sentence), are dropped.

    Args:
        examples: list of `readers.SquadExample`.

    Returns:
        `SentencePairs`, in example order, sentences in context order.

    Raises:
        TypeError: `examples` is not a list of `SquadExample`.

    Example:
    >>> example = readers.SquadExample(
    ...     "q1", "Where is Paris?", "Paris is big. It is in France. Rome is not.",
    ...     [{"text": "France", "answer_start": 23}])
    >>> built = sentence_pairs([example])
    >>> built.pairs.texts_b, built.pairs.labels, built.sentence_starts
    (['Paris is big.', 'It is in France.', 'Rome is not.'], [0, 1, 0], [0, 14, 31])
    """
    if not isinstance(examples, list) or any(not isinstance(e, readers.SquadExample) for e in examples):
        raise TypeError(f"answer_selection needs a list of SquadExample, got {type(examples).__name__}")
    questions, sentences, labels, question_ids, starts = [], [], [], [], []
    for example in examples:
        if example.is_impossible or not example.answers:
            continue
        answer_start = example.answers[0]["answer_start"]
        answer_end = answer_start + len(example.answers[0]["text"])
        offsets, cursor = [], 0
        for sentence in split_sentences(example.context):
            # The sentences are stripped slices of the context, in order.
            start = example.context.index(sentence, cursor)
            cursor = start + len(sentence)
            offsets.append((sentence, start, int(start <= answer_start and answer_end <= cursor)))
        if not any(label for _, _, label in offsets):
            continue
        for sentence, start, label in offsets:
            questions.append(example.question)
            sentences.append(sentence)
            labels.append(label)
            question_ids.append(example.qid)
            starts.append(start)
    pairs = readers.TextClassificationData(questions, sentences, labels, PAIR_LABELS, "answer_selection")
    return SentencePairs(pairs, question_ids, starts)


class AnswerSelectionTask(ClassificationTask):
    """Question + passage sentences -> a ranking of the sentences (`AlbertClassifier`, 2 classes).

    Trains `ClassificationTask`'s model, loss and pipeline on the pairs of
    `sentence_pairs`; `score` ranks each question's sentences by the
    logit margin (answer minus other) and reports `map`, `mrr` and
    `precision_at_1`.

    Example:
    >>> task = AnswerSelectionTask(albert_tf.AlbertTokenizer(), seq_length=32)
    >>> example = readers.SquadExample("q1", "Where is Paris?", "Paris is big. It is in France.",
    ...                                [{"text": "France", "answer_start": 23}])
    >>> x, y = next(iter(task.dataset([example], batch_size=2)))
    >>> x["input_word_ids"].shape, y.numpy().tolist()
    (TensorShape([2, 32]), [0, 1])
    """

    name = "answer_selection"
    primary_metric = "mrr"

    def build_model(self, backbone, data, dropout=0.1):
        # Two classes (other, answer) whatever the data: no need to split its sentences.
        return super().build_model(backbone, sentence_pairs([]).pairs, dropout=dropout)

    def dataset(self, data, batch_size, training=False, seed=0, labels=True):
        return super().dataset(sentence_pairs(data).pairs, batch_size, training, seed, labels)

    def sentence_scores(self, model, data, batch_size=32, verbose=0):
        """(`SentencePairs` of `data`, [N] ranking scores: answer minus other logit)."""
        built = sentence_pairs(data)
        logits = np.asarray(model.predict(super().dataset(built.pairs, batch_size, labels=False), verbose=verbose))
        return built, logits[:, 1] - logits[:, 0]

    def score(self, model, data, batch_size=32, verbose=0):
        built, scores = self.sentence_scores(model, data, batch_size, verbose)
        ranking = (built.question_ids, built.pairs.labels, scores)
        return {
            "map": metric_lib.mean_average_precision(*ranking),
            "mrr": metric_lib.mean_reciprocal_rank(*ranking),
            "precision_at_1": metric_lib.precision_at_k(*ranking, k=1),
        }

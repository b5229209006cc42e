"""Typed results of the serving clients (plain dataclasses, numpy arrays).

Also `answer_columns`, the input check of a span QA `answer()` call that
the gRPC and REST clients share with the `AnswerResult` they return.
"""

import dataclasses

import numpy as np

from . import errors

# ModelVersionStatus.State (tensorflow_serving/apis/get_model_status.proto).
VERSION_STATES = {0: "UNKNOWN", 10: "START", 20: "LOADING", 30: "AVAILABLE", 40: "UNLOADING", 50: "END"}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Which model, version and signature answered a request."""

    name: str
    version: int | None
    signature_name: str


@dataclasses.dataclass(frozen=True)
class Prediction:
    """One row of a text classifier's answer.

    `label` is `None` when the model exports no `labels` output, `probabilities`
    / `logits` are `[C]` float arrays (or `None` when absent); regression models
    put their value in `logits` (shape `[1]`).
    """

    label: str | None
    label_id: int | None
    probabilities: np.ndarray | None
    logits: np.ndarray | None


@dataclasses.dataclass
class PredictResult:
    """The outputs of a `Predict` call, concatenated over all chunks.

    Attributes:
        outputs: output name -> array whose first axis is the batch `[B, ...]`
            (string outputs are arrays of `bytes`).
        model_spec: the model / version / signature that answered. When a
            request was split into chunks, all chunks were pinned to this one
            version.
    """

    outputs: dict
    model_spec: ModelSpec

    def __len__(self):
        first = next(iter(self.outputs.values()), None)
        return 0 if first is None else int(np.shape(first)[0]) if np.ndim(first) else 1

    def __getitem__(self, name):
        return self.outputs[name]

    @property
    def predictions(self):
        """Per-row `Prediction`s read from the `logits`, `probabilities`,
        `label_ids` and `labels` outputs of an albert_tf text export."""
        rows = []
        labels = self.outputs.get("labels")
        label_ids = self.outputs.get("label_ids")
        probabilities = self.outputs.get("probabilities")
        logits = self.outputs.get("logits")
        for i in range(len(self)):
            label = None
            if labels is not None:
                label = labels[i].decode("utf-8") if isinstance(labels[i], bytes) else str(labels[i])
            rows.append(
                Prediction(
                    label=label,
                    label_id=None if label_ids is None else int(label_ids[i]),
                    probabilities=None if probabilities is None else np.asarray(probabilities[i]),
                    logits=None if logits is None else np.atleast_1d(np.asarray(logits[i])),
                )
            )
        return rows


@dataclasses.dataclass
class ClassifyResult:
    """`Classify` answers: for each example, a list of (class, score) pairs."""

    classifications: list
    model_spec: ModelSpec

    def __len__(self):
        return len(self.classifications)

    def top(self):
        """The highest-scoring (class, score) pair of each example."""
        return [max(row, key=lambda pair: pair[1]) for row in self.classifications]


@dataclasses.dataclass
class RegressResult:
    """`Regress` answers: one float per example."""

    values: list
    model_spec: ModelSpec

    def __len__(self):
        return len(self.values)


@dataclasses.dataclass(frozen=True)
class TensorInfo:
    """One signature input or output: dtype name (e.g. "DT_STRING") and shape (-1 = any)."""

    name: str
    dtype: str
    shape: tuple | None


@dataclasses.dataclass(frozen=True)
class SignatureInfo:
    name: str
    method_name: str
    inputs: dict
    outputs: dict


@dataclasses.dataclass
class ModelMetadata:
    """The signatures of one model version (from GetModelMetadata "signature_def")."""

    model_spec: ModelSpec
    signatures: dict


@dataclasses.dataclass(frozen=True)
class VersionStatus:
    """One version's state as reported by GetModelStatus."""

    version: int
    state: str
    error_code: str
    error_message: str

    @property
    def available(self):
        return self.state == "AVAILABLE"


def answer_columns(questions, contexts):
    """The `question` / `context` input columns of a span QA call, checked.

    Shared by the gRPC and REST clients' `answer`.

    Args:
        questions, contexts: a str each, or equally long lists of str.

    Returns:
        {"question": object array [B], "context": object array [B]}.

    Raises:
        InvalidInputError: no question, lists of different lengths, or a
            context that is empty or only whitespace (nothing to answer from).
        TypeError: a value that is not a str.

    Example:
    >>> answer_columns("Who wrote it?", "Zoe wrote it.")["context"]
    array(['Zoe wrote it.'], dtype=object)
    """
    questions = [questions] if isinstance(questions, str) else list(questions)
    contexts = [contexts] if isinstance(contexts, str) else list(contexts)
    for what, values in (("question", questions), ("context", contexts)):
        strange = [value for value in values if not isinstance(value, str)]
        if strange:
            raise TypeError(f"Each {what} must be a str, got {type(strange[0]).__name__}: {strange[0]!r:.80}")
    if len(questions) != len(contexts):
        raise errors.InvalidInputError(
            f"answer() got {len(questions)} questions and {len(contexts)} contexts: give one context per question"
        )
    if not questions:
        raise errors.InvalidInputError("answer() got no questions: nothing to send.")
    blank = [i for i, context in enumerate(contexts) if not context.strip()]
    if blank:
        raise errors.InvalidInputError(
            f"context {blank[0]} is empty or only whitespace ({len(blank)} such): there is nothing to answer from"
        )
    return {"question": np.array(questions, dtype=object), "context": np.array(contexts, dtype=object)}


@dataclasses.dataclass(frozen=True)
class Answer:
    """One question's answer from a span QA export (`serving_default`).

    Attributes:
        text: the best span, `context[start:end]` ("" when no span exists).
        start, end: its code-point offsets into the context (-1 when none).
        score: its start + end logit.
        null_score_diff: the [CLS] ("no answer") score minus `score`.
        is_answer: a span exists and `null_score_diff` is at most the
            threshold the call was given (SQuAD 2.0: above it, the model
            says the context does not answer the question).
    """

    text: str
    start: int
    end: int
    score: float
    null_score_diff: float
    is_answer: bool


@dataclasses.dataclass
class AnswerResult:
    """The `Answer`s of an `answer()` call, one per question, in order.

    Indexing and iteration go over `answers`.

    Example:
    >>> outputs = {"answer_text": np.array([b"Zoe"], dtype=object), "answer_start": np.array([0]),
    ...            "answer_end": np.array([3]), "answer_score": np.array([7.5], np.float32),
    ...            "null_score_diff": np.array([-2.0], np.float32)}
    >>> result = AnswerResult.from_outputs(outputs, ModelSpec("qa", 1, "serving_default"))
    >>> result[0].text, result[0].is_answer, len(result)
    ('Zoe', True, 1)
    """

    answers: list
    model_spec: ModelSpec

    @classmethod
    def from_outputs(cls, outputs, model_spec, null_score_diff_threshold=0.0):
        """Reads the outputs of a span QA `serving_default` (see albert_tf/export/README.md)."""
        missing = {"answer_text", "answer_start", "answer_end", "answer_score", "null_score_diff"} - set(outputs)
        if missing:
            raise errors.SignatureError(
                f"the signature's outputs {sorted(outputs)} lack {sorted(missing)}: "
                "is this an albert_tf span QA export?"
            )
        answers = []
        for text, start, end, score, diff in zip(
            outputs["answer_text"], outputs["answer_start"], outputs["answer_end"],
            outputs["answer_score"], outputs["null_score_diff"],
        ):
            start, end, diff = int(start), int(end), float(diff)
            answers.append(Answer(
                text=text.decode("utf-8") if isinstance(text, bytes) else str(text),
                start=start, end=end, score=float(score), null_score_diff=diff,
                is_answer=start >= 0 and diff <= null_score_diff_threshold,
            ))
        return cls(answers, model_spec)

    def __len__(self):
        return len(self.answers)

    def __getitem__(self, index):
        return self.answers[index]

    def __iter__(self):
        return iter(self.answers)

"""Typed results of the serving clients (plain dataclasses, numpy arrays)."""

import dataclasses

import numpy as np

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

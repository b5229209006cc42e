"""`export_saved_model`: a task model + tokenizer -> a raw-text SavedModel for TF Serving.

The exported graph is exactly the request chain: raw strings -> ALBERT
normalization + SentencePiece (tensorflow-text ops, outside any XLA) ->
packing with dynamic padding (T = the batch's longest packed row) ->
encoder -> task head -> named outputs. Signatures and names are listed in
README.md beside this file.
"""

import json
import pathlib
import re
import tempfile

import numpy as np
import tensorflow as tf

from albert_tf.backbone import INPUT_NAMES, AlbertBackbone
from albert_tf.export import warmup
from albert_tf.saving import atomic_directory
from albert_tf.text.ops_check import check_serving_ops
from albert_tf.tasks import (
    AlbertClassifier,
    AlbertMultipleChoice,
    AlbertPretrainer,
    AlbertSpanQA,
    AlbertTokenClassifier,
)

SPIECE_ASSET = "spiece.model"
METADATA_ASSET = "albert_export.json"
CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"

_WARMUP_TEXTS = [
    "A gripping, beautifully shot film.",
    "The plot never comes together, and the jokes fall flat for nearly two hours.",
    "Fine.",
    "An uneven but often funny look at family life in a small town, held up by its cast.",
]


def _task_of(model):
    kinds = (
        (AlbertClassifier, "classifier"),
        (AlbertTokenClassifier, "token_classifier"),
        (AlbertSpanQA, "span_qa"),
        (AlbertMultipleChoice, "multiple_choice"),
        (AlbertPretrainer, "pretrainer"),
        (AlbertBackbone, "backbone"),
    )
    for cls, name in kinds:
        if isinstance(model, cls):
            if name == "classifier" and model.problem_type == "regression":
                return "regression"
            return name
    raise TypeError(
        "export_saved_model expects an albert_tf task model (AlbertClassifier, "
        "AlbertTokenClassifier, AlbertSpanQA, AlbertMultipleChoice, AlbertPretrainer) "
        f"or an AlbertBackbone, got {type(model).__name__}"
    )


def next_version(base_dir):
    """1 + the largest integer directory name in `base_dir` (1 when none)."""
    base_dir = pathlib.Path(base_dir)
    versions = [int(p.name) for p in base_dir.iterdir() if p.is_dir() and p.name.isdigit()] \
        if base_dir.is_dir() else []
    return max(versions, default=0) + 1


def _strings(name, shape=(None,)):
    return tf.TensorSpec(list(shape), tf.string, name=name)


def _ids(name, rank=2):
    return tf.TensorSpec([None] * rank, tf.int32, name=name)


def _check_labels(labels, num_classes, task):
    if labels is None:
        return [str(i) for i in range(num_classes)]
    labels = [str(label) for label in labels]
    if len(labels) != num_classes:
        raise ValueError(
            f"labels has {len(labels)} names {labels!r} but the {task} has "
            f"num_classes={num_classes}"
        )
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct, got {labels!r}")
    return labels


def _best_spans(start_logits, end_logits, allowed, max_answer_length):
    """Best span (s <= e < s + max_answer_length) with both ends `allowed`.

    Args:
        start_logits, end_logits: float32 [B, T].
        allowed: bool [B, T], True on context tokens.
        max_answer_length: int, longest answer in tokens.

    Returns:
        start, end int32 [B] token indices, score float32 [B], found bool [B].
    """
    length = tf.shape(start_logits)[1]
    scores = start_logits[:, :, None] + end_logits[:, None, :]
    position = tf.range(length)
    span = position[None, :] - position[:, None]
    band = (span >= 0) & (span < max_answer_length)
    valid = band[None] & allowed[:, :, None] & allowed[:, None, :]
    scores = tf.where(valid, scores, tf.fill(tf.shape(scores), -np.inf))
    best = tf.argmax(tf.reshape(scores, [tf.shape(scores)[0], -1]), axis=-1, output_type=tf.int32)
    start, end = best // length, best % length
    found = tf.reduce_any(valid, axis=[1, 2])
    score = tf.gather(tf.reshape(scores, [tf.shape(scores)[0], -1]), best, batch_dims=1)
    return start, end, tf.where(found, score, tf.zeros_like(score)), found


class _Signatures:
    """Builds the tf.functions of one task; `functions()` returns them by name."""

    def __init__(self, model, task, tokenizer, seq_length, labels, text_pair, max_answer_length):
        from albert_tf import text

        self.model = model
        self.task = task
        self.tokenizer = tokenizer
        self.seq_length = seq_length
        self.text_pair = text_pair
        self.max_answer_length = max_answer_length
        self.labels = labels
        # The same preprocessors as training, with dynamic padding: a batch
        # is padded to its longest packed row, never to seq_length.
        if task == "span_qa":
            self.preprocessor = text.AlbertQAPreprocessor(tokenizer, seq_length, dynamic_padding=True)
        elif task == "multiple_choice":
            self.preprocessor = text.AlbertMultipleChoicePreprocessor(
                tokenizer, seq_length, dynamic_padding=True
            )
        elif task == "token_classifier":
            self.preprocessor = text.AlbertTokenClassificationPreprocessor(
                tokenizer, seq_length, dynamic_padding=True
            )
        else:
            self.preprocessor = text.AlbertPreprocessor(
                tokenizer, seq_length, truncation="round_robin", dynamic_padding=True
            )

    # --- shared pieces -----------------------------------------------------

    def pack(self, *texts):
        return self.preprocessor(*texts)

    def run_model(self, ids):
        if self.task == "backbone":
            out = self.model(ids, training=False)
            return {"pooled_output": out["pooled_output"], "sequence_output": out["sequence_output"]}
        if self.task == "pretrainer":
            if "masked_lm_positions" not in ids:
                out = self.model.backbone({k: ids[k] for k in INPUT_NAMES}, training=False)
                return {
                    "sop_logits": self.model.sop_head(out["pooled_output"]),
                    "pooled_output": out["pooled_output"],
                    "sequence_output": out["sequence_output"],
                }
            return dict(self.model(ids, training=False))
        out = self.model(ids, training=False)
        if self.task == "span_qa":
            return {"start_logits": out["start_logits"], "end_logits": out["end_logits"]}
        return {"predictions" if self.task == "regression" else "logits": out}

    def classification_outputs(self, logits):
        probabilities = tf.nn.softmax(logits, axis=-1)
        label_ids = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return {
            "logits": logits,
            "probabilities": probabilities,
            "label_ids": label_ids,
            "labels": tf.gather(tf.constant(self.labels), label_ids),
        }

    def regression_outputs(self, predictions):
        if self.model.num_classes == 1:
            predictions = predictions[:, 0]
        return {"predictions": predictions}

    # --- raw text ----------------------------------------------------------

    def text_inputs(self):
        if self.task == "span_qa":
            return [_strings("question"), _strings("context")]
        if self.task == "multiple_choice":
            return [_strings("context"), _strings("choices", (None, None))]
        if self.task in ("classifier", "regression") and self.text_pair:
            return [_strings("text"), _strings("text_pair")]
        return [_strings("text")]

    def serve_text(self, *texts):
        if self.task in ("classifier", "regression"):
            out = self.run_model(self.pack(*texts))
            if self.task == "regression":
                return self.regression_outputs(out["predictions"])
            return self.classification_outputs(out["logits"])
        if self.task == "token_classifier":
            return self.token_outputs(texts[0])
        if self.task == "span_qa":
            return self.qa_outputs(*texts)
        if self.task == "multiple_choice":
            return self.choice_outputs(*texts)
        return self.run_model(self.pack(texts[0]))

    def token_outputs(self, text):
        # Labels are trained per word (`AlbertTokenClassificationPreprocessor`):
        # split the raw text on whitespace into those words first.
        packed = self.preprocessor(tf.strings.split(text))
        ids = {name: packed[name] for name in INPUT_NAMES}
        logits = self.run_model(ids)["logits"]
        real = ids["input_mask"] > 0
        label_ids = tf.argmax(logits, axis=-1, output_type=tf.int32)
        names = tf.gather(tf.constant(self.labels), label_ids)
        pieces = self.tokenizer.id_to_piece(ids["input_word_ids"])
        return {
            "logits": logits,
            "label_ids": tf.where(real, label_ids, -tf.ones_like(label_ids)),
            "labels": tf.where(real, names, tf.zeros_like(names)),
            "tokens": tf.where(real, pieces, tf.zeros_like(pieces)),
            "word_ids": packed["word_ids"],
            "input_mask": ids["input_mask"],
        }

    def choice_outputs(self, context, choices):
        logits = self.run_model(self.preprocessor(context, choices))["logits"]
        choice_id = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return {
            "logits": logits,
            "probabilities": tf.nn.softmax(logits, axis=-1),
            "choice_id": choice_id,
            "choice_text": tf.gather(choices, choice_id, batch_dims=1),
        }

    def qa_outputs(self, question, context):
        packed = self.preprocessor(question, context)
        out = self.run_model({name: packed[name] for name in INPUT_NAMES})
        starts, ends = packed["token_start_char"], packed["token_end_char"]
        start, end, score, found = _best_spans(
            out["start_logits"], out["end_logits"], starts >= 0, self.max_answer_length
        )
        char_start = tf.where(found, tf.gather(starts, start, batch_dims=1), -1)
        char_end = tf.where(found, tf.gather(ends, end, batch_dims=1), -1)
        answer = tf.strings.substr(
            context, tf.maximum(char_start, 0), tf.maximum(char_end - char_start, 0), unit="UTF8_CHAR"
        )
        return {
            "start_logits": out["start_logits"],
            "end_logits": out["end_logits"],
            "answer_text": answer,
            "answer_start": char_start,
            "answer_end": char_end,
            "answer_score": score,
        }

    # --- packed ids --------------------------------------------------------

    def token_id_inputs(self):
        rank = 3 if self.task == "multiple_choice" else 2
        specs = [_ids(name, rank) for name in INPUT_NAMES]
        if self.task == "pretrainer":
            specs.append(_ids("masked_lm_positions"))
        return specs

    def serve_token_ids(self, *tensors):
        names = list(INPUT_NAMES) + (["masked_lm_positions"] if self.task == "pretrainer" else [])
        return self.run_model(dict(zip(names, tensors)))

    # --- tf.Example (Classify / Regress) -----------------------------------

    def parse_examples(self, serialized):
        keys = ["text", "text_pair"] if self.text_pair else ["text"]
        features = tf.io.parse_example(
            serialized, {key: tf.io.FixedLenFeature([], tf.string) for key in keys}
        )
        return [features[key] for key in keys]

    def classify(self, serialized):
        logits = self.run_model(self.pack(*self.parse_examples(serialized)))["logits"]
        scores = tf.nn.softmax(logits, axis=-1)
        classes = tf.tile(tf.constant(self.labels)[None], [tf.shape(scores)[0], 1])
        return {"classes": classes, "scores": scores}

    def regress(self, serialized):
        predictions = self.run_model(self.pack(*self.parse_examples(serialized)))["predictions"]
        return {"outputs": predictions[:, 0]}

    def functions(self):
        # Pure TF ops throughout, so no autograph (it only slows tracing).
        def trace(fn, specs):
            return tf.function(fn, input_signature=specs, autograph=False).get_concrete_function()

        functions = {
            "serving_default": trace(self.serve_text, self.text_inputs()),
            "serve_token_ids": trace(self.serve_token_ids, self.token_id_inputs()),
        }
        serialized = [_strings("inputs")]
        if self.task == "classifier":
            functions["classify"] = trace(self.classify, serialized)
        if self.task == "regression" and self.model.num_classes == 1:
            functions["regress"] = trace(self.regress, serialized)
        return functions

    def warmup_logs(self, model_name):
        texts = _WARMUP_TEXTS
        if self.task == "span_qa":
            batches = [{"question": ["What is it?"], "context": texts[:1]},
                       {"question": ["Who holds it up?"] * 2, "context": texts[2:]}]
        elif self.task == "multiple_choice":
            batches = [{"context": texts[:1], "choices": [texts[1:3]]},
                       {"context": texts[:2], "choices": [texts[2:4], texts[1:3]]}]
        elif self.task in ("classifier", "regression") and self.text_pair:
            batches = [{"text": texts[:1], "text_pair": texts[1:2]},
                       {"text": texts, "text_pair": texts[::-1]}]
        else:
            batches = [{"text": texts[:1]}, {"text": texts}]
        encoded = [{k: np.array(v, dtype=object) for k, v in b.items()} for b in batches]
        return [warmup.predict_log(b, "serving_default", model_name) for b in encoded]


def _tokenizer_resources(tokenizer):
    """What the saved graph must track of the tokenizer: its SentencePiece op.

    Tracking the whole `AlbertTokenizer` module also works, but saving then
    walks its Python attributes (a 30k-entry piece index) for seconds.
    """
    return getattr(tokenizer, "_sp", tokenizer)


def _set_method_names(export_dir, method_names):
    """TF2 saves every signature as a Predict one; Classify/Regress need theirs."""
    from tensorflow.core.protobuf import saved_model_pb2

    path = pathlib.Path(export_dir) / "saved_model.pb"
    saved_model = saved_model_pb2.SavedModel.FromString(path.read_bytes())
    for meta_graph in saved_model.meta_graphs:
        for name, method in method_names.items():
            if name in meta_graph.signature_def:
                meta_graph.signature_def[name].method_name = method
    path.write_bytes(saved_model.SerializeToString())


def export_saved_model(
    model,
    tokenizer,
    base_dir,
    version=None,
    seq_length=None,
    labels=None,
    text_pair=False,
    max_answer_length=30,
    model_name=None,
):
    """Exports a task model with its tokenizer as a raw-text SavedModel for TF Serving.

    Writes `<base_dir>/<version>/` (saved_model.pb, variables/,
    assets/spiece.model, assets/albert_export.json,
    assets.extra/tf_serving_warmup_requests) atomically, after checking
    that every op is one TF Serving 2.21 links. Signatures: `serving_default`
    on raw strings, `serve_token_ids` on packed int32 ids, and for sequence
    classifiers `classify` / `regress` on serialized tf.Examples (see
    README.md for inputs and outputs of each task).

    Args:
        model: an albert_tf task model (`AlbertClassifier` incl. regression,
            `AlbertTokenClassifier`, `AlbertSpanQA`, `AlbertMultipleChoice`,
            `AlbertPretrainer`) or an `AlbertBackbone`.
        tokenizer: the `albert_tf.text.AlbertTokenizer` the model was trained with.
        base_dir: the model's base directory (as TF Serving's `base_path`).
        version: positive int; default 1 + the largest existing version.
        seq_length: longest packed sequence (truncation point); batches are
            padded only to their longest row. Default: the model's
            `max_position_embeddings`.
        labels: class names (classifiers, token classifiers), default "0", "1", ...
        text_pair: the sequence classifier takes `text` + `text_pair`.
        max_answer_length: span QA, longest answer in tokens.
        model_name: model name written in the warmup requests (default: the
            base directory's name).

    Returns:
        The version directory (`pathlib.Path`).

    Example:
    >>> model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=2)
    >>> tokenizer = AlbertTokenizer(resources.path("albert-30k-clean.model"))
    >>> export_saved_model(model, tokenizer, "models/sentiment", labels=["negative", "positive"])
    PosixPath('models/sentiment/1')
    >>> tf.saved_model.load("models/sentiment/1").signatures["serving_default"](
    ...     text=tf.constant(["a lovely film"]))["labels"]
    """
    task = _task_of(model)
    backbone = model if task == "backbone" else model.backbone
    max_positions = backbone.config.max_position_embeddings
    if seq_length is None:
        seq_length = max_positions
    if not isinstance(seq_length, int) or isinstance(seq_length, bool) or not 3 <= seq_length <= max_positions:
        raise ValueError(
            f"seq_length must be an int in [3, {max_positions}] (the model's "
            f"max_position_embeddings), got {seq_length!r}"
        )
    if not hasattr(tokenizer, "tokenize") or not isinstance(getattr(tokenizer, "proto", None), bytes):
        raise TypeError(f"tokenizer must be an albert_tf.text.AlbertTokenizer, got {type(tokenizer).__name__}")
    if text_pair and task not in ("classifier", "regression"):
        raise ValueError(f"text_pair=True is for sequence classifiers, not a {task}")
    if task in ("classifier", "token_classifier"):
        labels = _check_labels(labels, model.num_classes, task)
    elif labels is not None:
        raise ValueError(f"labels are for classifiers and token classifiers, not a {task}")
    if not isinstance(max_answer_length, int) or max_answer_length < 1:
        raise ValueError(f"max_answer_length must be a positive int, got {max_answer_length!r}")
    base_dir = pathlib.Path(base_dir)
    if version is None:
        version = next_version(base_dir)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive int, got {version!r}")
    model_name = model_name or re.sub(r"[^A-Za-z0-9_.-]", "_", base_dir.resolve().name)

    signatures = _Signatures(model, task, tokenizer, seq_length, labels, text_pair, max_answer_length)
    root = tf.__internal__.tracking.AutoTrackable()
    root.variables = [v.value for v in model.variables]
    root.tokenizer = _tokenizer_resources(tokenizer)
    # Only signatures are saved (what TF Serving and clients call): saving
    # the tf.functions as attributes too would double the tracing time.
    functions = signatures.functions()

    metadata = {
        "task": task,
        "labels": labels,
        "seq_length": seq_length,
        "text_pair": bool(text_pair),
        "max_answer_length": max_answer_length,
        "signatures": sorted(functions),
        "albert_config": backbone.config.to_dict(),
    }
    with tempfile.TemporaryDirectory() as sources, \
            atomic_directory(base_dir / str(version)) as staging:
        spiece = pathlib.Path(sources) / SPIECE_ASSET
        spiece.write_bytes(tokenizer.proto)
        meta = pathlib.Path(sources) / METADATA_ASSET
        meta.write_text(json.dumps(metadata, indent=2, sort_keys=True))
        root.sp_model_file = tf.saved_model.Asset(str(spiece))
        root.metadata_file = tf.saved_model.Asset(str(meta))
        tf.saved_model.save(
            root, str(staging),
            signatures=functions,
        )
        _set_method_names(staging, {"classify": CLASSIFY_METHOD, "regress": REGRESS_METHOD})
        warmup.write_warmup_requests(staging, signatures.warmup_logs(model_name))
        check_serving_ops(staging)
    return base_dir / str(version)

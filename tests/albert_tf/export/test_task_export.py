"""Raw-text task SavedModels: round trips in a fresh process, Classify/Regress, atomicity."""

import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import (
    AlbertBackbone,
    AlbertClassifier,
    AlbertMultipleChoice,
    AlbertPretrainer,
    AlbertSpanQA,
    AlbertTokenClassifier,
)
from albert_tf import text as albert_text
from albert_tf.backbone import INPUT_NAMES
from albert_tf.export import check_serving_ops, export_saved_model, next_version
from albert_tf.export.serving_modules import CLASSIFY_METHOD, REGRESS_METHOD, SERVING_MODULES
from albert_tf.export.warmup import read_warmup_requests
from albert_tf.tasks import TASK_NAMES
from tests.helpers.export import assert_close, run_fresh

SEQ_LENGTH = 24  # short enough that the long texts below get truncated
TEXTS = [
    "A gripping, beautifully shot film about 1,000 days at sea.",
    "Meh.",
    "The plot never comes together and the jokes fall flat for nearly two long hours of screen time.",
]
PAIRS = ["It is good.", "Nothing works, nothing at all, and nobody seems to care about it.", "ok"]
QUESTIONS = ["Who wrote it?", "When?", "what did the critics say about the film"]
CONTEXTS = ["  Zoë   Smith  wrote it, in 1,000 days.", "In 1851.", ""]
CHOICES = [["blue", "a long and winding road"], ["green", "x"], ["", "maybe"]]
LABELS = ["negative", "neutral", "positive"]
TAG_LABELS = ["O", "B-PER", "I-PER", "B-LOC"]


def packed_ids(rank3=False, seed=0):
    """Random packed-looking int32 ids with padding (rows of different lengths)."""
    rng = np.random.default_rng(seed)
    shape = (2, 3, 11) if rank3 else (3, 11)
    ids = rng.integers(5, 30000, size=shape).astype("int32")
    lengths = rng.integers(3, 12, size=shape[:-1])
    mask = (np.arange(11) < lengths[..., None]).astype("int32")
    types = ((np.arange(11) >= lengths[..., None] // 2) & (mask > 0)).astype("int32")
    ids = np.where(mask > 0, ids, 0).astype("int32")
    return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": types}


@pytest.fixture(scope="module")
def exported(tmp_path_factory, tokenizer):
    """Exports every task once; returns {case: (dir, model, reference outputs by signature)}."""
    base = tmp_path_factory.mktemp("exports")
    backbone = AlbertBackbone.from_preset("albert_tiny_grouped")
    pre = albert_text.AlbertPreprocessor(tokenizer, SEQ_LENGTH, dynamic_padding=True)
    cases = {}

    def add(name, model, text_inputs, reference_ids, **kwargs):
        directory = export_saved_model(model, tokenizer, base / name, seq_length=SEQ_LENGTH, **kwargs)
        token_inputs = packed_ids(rank3=isinstance(model, AlbertMultipleChoice))
        if isinstance(model, AlbertPretrainer):
            token_inputs["masked_lm_positions"] = np.array([[1, 2], [0, 3], [4, 1]], "int32")
        cases[name] = {
            "dir": str(directory),
            "model": model,
            "text_inputs": text_inputs,
            "text_ids": reference_ids,
            "token_inputs": token_inputs,
        }

    add("classification", AlbertClassifier(backbone, num_classes=3), {"text": TEXTS},
        pre(tf.constant(TEXTS)), labels=LABELS)
    add("regression", AlbertClassifier(backbone, num_classes=1, problem_type="regression"),
        {"text": TEXTS, "text_pair": PAIRS}, pre(tf.constant(TEXTS), tf.constant(PAIRS)), text_pair=True)
    token_pre = albert_text.AlbertTokenClassificationPreprocessor(tokenizer, SEQ_LENGTH, dynamic_padding=True)
    add("token_classification", AlbertTokenClassifier(backbone, num_classes=4), {"text": TEXTS},
        token_pre(tf.strings.split(tf.constant(TEXTS))), labels=TAG_LABELS)
    qa_pre = albert_text.AlbertQAPreprocessor(tokenizer, SEQ_LENGTH, dynamic_padding=True)
    add("span_qa", AlbertSpanQA(backbone), {"question": QUESTIONS, "context": CONTEXTS},
        qa_pre(tf.constant(QUESTIONS), tf.constant(CONTEXTS)))
    mc_pre = albert_text.AlbertMultipleChoicePreprocessor(tokenizer, SEQ_LENGTH, dynamic_padding=True)
    add("multiple_choice", AlbertMultipleChoice(backbone), {"context": TEXTS, "choices": CHOICES},
        mc_pre(tf.constant(TEXTS), tf.constant(CHOICES)))
    add("pretraining", AlbertPretrainer(backbone), {"text": TEXTS}, pre(tf.constant(TEXTS)))
    add("backbone", backbone, {"text": TEXTS}, pre(tf.constant(TEXTS)))
    return cases


RELOAD = """
import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the SentencePiece kernels)

RESULT = {"modules": sorted(m for m in sys.modules if m.split(".")[0] == "albert_tf")}
for name, case in PAYLOAD.items():
    loaded = tf.saved_model.load(case["dir"])
    out = {}
    for signature, inputs in case["calls"].items():
        fn = loaded.signatures[signature]
        result = fn(**{k: tf.constant(v) for k, v in inputs.items()})
        out[signature] = {k: v.numpy() for k, v in result.items()}
    RESULT[name] = out
"""


def _example(features):
    return tf.train.Example(features=tf.train.Features(feature={
        key: tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))
        for key, value in features.items()
    })).SerializeToString()


@pytest.fixture(scope="module")
def reloaded(exported, tmp_path_factory):
    payload = {}
    for name, case in exported.items():
        calls = {
            "serving_default": {k: np.array(v, dtype=object) for k, v in case["text_inputs"].items()},
            "serve_token_ids": case["token_inputs"],
        }
        if name in ("classification", "regression"):
            keys = ["text", "text_pair"] if "text_pair" in case["text_inputs"] else ["text"]
            rows = zip(*(case["text_inputs"][k] for k in keys))
            serialized = np.array([_example(dict(zip(keys, row))) for row in rows], dtype=object)
            calls["regress" if name == "regression" else "classify"] = {"inputs": serialized}
        payload[name] = {"dir": case["dir"], "calls": calls}
    return run_fresh(RELOAD, payload, tmp_path_factory.mktemp("reload"))


def _keras_outputs(model, inputs):
    """The Keras model's outputs as a name -> array dict (the serve_token_ids names)."""
    if isinstance(model, AlbertBackbone):
        out = model(inputs)
        return {"pooled_output": out["pooled_output"], "sequence_output": out["sequence_output"]}
    out = model(inputs)
    if isinstance(out, dict):
        return dict(out)
    if isinstance(model, AlbertClassifier) and model.problem_type == "regression":
        return {"predictions": out}
    return {"logits": out}


def test_fresh_process_needs_only_tensorflow_and_text(reloaded):
    assert not [m for m in reloaded["modules"] if m.startswith("albert_tf")]


@pytest.mark.parametrize(
    "name",
    ["classification", "regression", "token_classification", "span_qa", "multiple_choice",
     "pretraining", "backbone"],
)
def test_token_id_signature_matches_keras(exported, reloaded, name):
    case = exported[name]
    expected = _keras_outputs(case["model"], case["token_inputs"])
    actual = reloaded[name]["serve_token_ids"]
    assert sorted(actual) == sorted(expected)
    for key in expected:
        assert_close(actual[key], expected[key], what=f"{name}/{key}")


def _reference_ids(case):
    return {k: case["text_ids"][k] for k in INPUT_NAMES}


def test_raw_text_classification_matches_preprocessing_plus_keras(exported, reloaded):
    name = "classification"
    case = exported[name]
    logits = case["model"](_reference_ids(case)).numpy()
    out = reloaded[name]["serving_default"]
    assert_close(out["logits"], logits, what="logits")
    assert_close(out["probabilities"], tf.nn.softmax(logits).numpy(), what="probabilities")
    np.testing.assert_array_equal(out["label_ids"], logits.argmax(-1))
    assert [x.decode() for x in out["labels"]] == [LABELS[i] for i in logits.argmax(-1)]


def test_raw_text_pair_regression_and_regress_on_tf_examples(exported, reloaded):
    case = exported["regression"]
    expected = case["model"](_reference_ids(case)).numpy()[:, 0]
    assert_close(reloaded["regression"]["serving_default"]["predictions"], expected)
    assert_close(reloaded["regression"]["regress"]["outputs"], expected)


def test_classify_signature_on_tf_examples(exported, reloaded):
    out = reloaded["classification"]
    assert_close(out["classify"]["scores"], out["serving_default"]["probabilities"])
    assert out["classify"]["classes"].tolist() == [[x.encode() for x in LABELS]] * len(TEXTS)


def test_classify_and_regress_method_names(exported):
    from tensorflow.core.protobuf import saved_model_pb2

    def methods(name):
        pb = pathlib.Path(exported[name]["dir"]) / "saved_model.pb"
        graph = saved_model_pb2.SavedModel.FromString(pb.read_bytes()).meta_graphs[0]
        return {k: v.method_name for k, v in graph.signature_def.items() if not k.startswith("__")}

    assert methods("classification") == {
        "serving_default": "tensorflow/serving/predict",
        "serve_token_ids": "tensorflow/serving/predict",
        "classify": CLASSIFY_METHOD,
    }
    assert methods("regression")["regress"] == REGRESS_METHOD
    assert "classify" not in methods("span_qa") and "regress" not in methods("classification")


def test_raw_text_token_classification(exported, reloaded):
    case = exported["token_classification"]
    logits = case["model"](_reference_ids(case)).numpy()
    out = reloaded["token_classification"]["serving_default"]
    assert_close(out["logits"], logits)
    mask = case["text_ids"]["input_mask"].numpy() > 0
    np.testing.assert_array_equal(out["label_ids"], np.where(mask, logits.argmax(-1), -1))
    np.testing.assert_array_equal(out["word_ids"], case["text_ids"]["word_ids"])
    assert out["labels"][0, 1].decode() == TAG_LABELS[logits[0, 1].argmax()]
    assert out["tokens"][0, 0] == b"[CLS]" and out["labels"][1, -1] == b""


def test_raw_text_span_qa_decodes_answer_from_original_context(exported, reloaded):
    case = exported["span_qa"]
    ids = case["text_ids"]
    out = case["model"](_reference_ids(case))
    start, end = out["start_logits"].numpy(), out["end_logits"].numpy()
    served = reloaded["span_qa"]["serving_default"]
    starts, ends = ids["token_start_char"].numpy(), ids["token_end_char"].numpy()
    for row, context in enumerate(CONTEXTS):
        context_positions = np.flatnonzero(starts[row] >= 0)
        if context_positions.size == 0:  # empty context: no span at all
            assert served["answer_text"][row] == b"" and served["answer_start"][row] == -1
            continue
        best, best_score = None, -np.inf  # brute force over all allowed spans
        for s in context_positions:
            for e in context_positions:
                if s <= e < s + 30 and start[row, s] + end[row, e] > best_score:
                    best, best_score = (s, e), start[row, s] + end[row, e]
        text = context[starts[row, best[0]]:ends[row, best[1]]]
        assert served["answer_text"][row].decode() == text
        assert served["answer_start"][row] == starts[row, best[0]]
        assert_close(served["answer_score"][row], best_score, atol=1e-5)


def test_raw_text_multiple_choice(exported, reloaded):
    case = exported["multiple_choice"]
    logits = case["model"](_reference_ids(case)).numpy()
    out = reloaded["multiple_choice"]["serving_default"]
    assert_close(out["logits"], logits)
    np.testing.assert_array_equal(out["choice_id"], logits.argmax(-1))
    assert [x.decode() for x in out["choice_text"]] == [c[i] for c, i in zip(CHOICES, logits.argmax(-1))]


@pytest.mark.parametrize("name", ["pretraining", "backbone"])
def test_raw_text_encoder_outputs(exported, reloaded, name):
    case = exported[name]
    backbone = case["model"] if name == "backbone" else case["model"].backbone
    expected = backbone(_reference_ids(case))
    out = reloaded[name]["serving_default"]
    assert_close(out["pooled_output"], expected["pooled_output"])
    assert_close(out["sequence_output"], expected["sequence_output"])
    if name == "pretraining":
        assert_close(out["sop_logits"], case["model"].sop_head(expected["pooled_output"]))


def test_dynamic_padding_pads_to_the_longest_row_only(exported, tokenizer):
    backbone = tf.saved_model.load(exported["backbone"]["dir"]).signatures["serving_default"]
    texts = tf.constant(["Meh.", "ok"])
    out = backbone(text=texts)
    ids = albert_text.AlbertPreprocessor(tokenizer, SEQ_LENGTH)(texts)
    longest = int(ids["input_mask"].numpy().sum(-1).max())
    assert out["sequence_output"].shape[1] == longest < SEQ_LENGTH


def test_layout_assets_and_warmup(exported):
    directory = pathlib.Path(exported["classification"]["dir"])
    assert directory.name == "1"
    assert (directory / "saved_model.pb").is_file()
    assert (directory / "variables" / "variables.index").is_file()
    assert (directory / "assets" / "spiece.model").read_bytes() == albert_text.AlbertTokenizer().proto
    logs = read_warmup_requests(directory)
    assert len(logs) >= 2
    loaded = tf.saved_model.load(str(directory))
    for log in logs:
        request = log.predict_log.request
        assert request.model_spec.signature_name == "serving_default"
        inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
        out = loaded.signatures["serving_default"](**inputs)
        assert out["logits"].shape[0] == inputs["text"].shape[0]
    # Every op is one TF Serving links (the export already checked; check again).
    assert {"SentencepieceTokenizeOp", "SentencepieceOp"} <= set(check_serving_ops(directory))
    assert not any(p.name.startswith(".") for p in directory.parent.iterdir())


def test_every_registry_task_has_a_serving_module():
    assert sorted(SERVING_MODULES) == sorted(TASK_NAMES)
    assert all(name in cls.task_names for name, cls in SERVING_MODULES.items())


def test_metadata_records_task_labels_and_tokenizer(exported):
    from tensorflow.core.protobuf import saved_model_pb2

    labels = {"classification": LABELS, "token_classification": TAG_LABELS}
    for name, case in exported.items():
        directory = pathlib.Path(case["dir"])
        metadata = json.loads((directory / "assets" / "albert_export.json").read_text())
        assert metadata["task"] == name  # the registry's vocabulary
        assert metadata["labels"] == labels.get(name)
        assert metadata["tokenizer"] == {"kind": "sentencepiece", "do_lower_case": True, "keep_accents": False}
        assert metadata["seq_length"] == SEQ_LENGTH
        graph = saved_model_pb2.SavedModel.FromString((directory / "saved_model.pb").read_bytes()).meta_graphs[0]
        assert metadata["signatures"] == sorted(k for k in graph.signature_def if not k.startswith("__"))


def test_cased_tokenizer_settings_are_recorded(tmp_path):
    model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=2)
    cased = albert_text.AlbertTokenizer(do_lower_case=False, keep_accents=True)
    directory = export_saved_model(model, cased, tmp_path, seq_length=16)
    metadata = json.loads((directory / "assets" / "albert_export.json").read_text())
    assert metadata["tokenizer"] == {"kind": "sentencepiece", "do_lower_case": False, "keep_accents": True}
    served = tf.saved_model.load(str(directory)).signatures["serving_default"]
    texts = tf.constant(["Zoë Smith"])
    expected = model(albert_text.AlbertPreprocessor(cased, 16, dynamic_padding=True)(texts))
    assert_close(served(text=texts)["logits"], expected, atol=1e-6)


def test_versions_follow_existing_ones(tmp_path, tokenizer):
    model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=2)
    for version in ("1", "3", "not_a_version"):
        (tmp_path / version).mkdir()
    assert next_version(tmp_path) == 4
    assert export_saved_model(model, tokenizer, tmp_path, seq_length=16).name == "4"
    with pytest.raises(FileExistsError, match="already exists"):
        export_saved_model(model, tokenizer, tmp_path, version=3, seq_length=16)


class _PythonTokenizer(albert_text.AlbertTokenizer):
    """A tokenizer that hides a tf.py_function in the graph (TF Serving cannot run it)."""

    def tokenize(self, strings):
        ids = super().tokenize(strings)
        flat = tf.py_function(lambda x: x, [ids.flat_values], tf.int32)
        return ids.with_flat_values(tf.ensure_shape(flat, ids.flat_values.shape))


def test_unservable_graph_is_refused_and_leaves_nothing(tmp_path):
    model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=2)
    with pytest.raises(ValueError, match="EagerPyFunc"):
        export_saved_model(model, _PythonTokenizer(), tmp_path / "bad", seq_length=16)
    assert not (tmp_path / "bad").exists() or list((tmp_path / "bad").iterdir()) == []


def test_the_squad_v2_head_is_refused_by_name(tmp_path, tokenizer):
    from albert_tf import AlbertSpanQAV2

    model = AlbertSpanQAV2(AlbertBackbone.from_preset("albert_tiny"))
    with pytest.raises(ValueError, match=r"AlbertSpanQAV2 \(the 'squad_v2' head of span_qa\) has no serving signature"):
        export_saved_model(model, tokenizer, tmp_path / "squad_v2", seq_length=32)
    assert not (tmp_path / "squad_v2").exists()


def test_bad_arguments_raise_clear_errors(tmp_path, tokenizer):
    classifier = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=2)
    with pytest.raises(ValueError, match="labels has 3 names"):
        export_saved_model(classifier, tokenizer, tmp_path, labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="seq_length must be an int in"):
        export_saved_model(classifier, tokenizer, tmp_path, seq_length=1000)
    with pytest.raises(TypeError, match="expects an albert_tf task model"):
        export_saved_model(object(), tokenizer, tmp_path)
    with pytest.raises(ValueError, match="version must be a positive int"):
        export_saved_model(classifier, tokenizer, tmp_path, version=0)
    span_qa = AlbertSpanQA(classifier.backbone)
    with pytest.raises(ValueError, match="text_pair=True is for sequence classifiers, not a span_qa model"):
        export_saved_model(span_qa, tokenizer, tmp_path, text_pair=True)
    with pytest.raises(ValueError, match="labels are for classifiers and token classifiers, not a span_qa"):
        export_saved_model(span_qa, tokenizer, tmp_path, labels=["a"])
    assert list(tmp_path.iterdir()) == []


def test_op_check_names_an_op_no_server_links():
    graph = tf.compat.v1.GraphDef()
    graph.node.add(name="x", op="Placeholder")
    graph.node.add(name="y", op="MyCustomRerankOp", input=["x"])
    with pytest.raises(ValueError, match="MyCustomRerankOp"):
        check_serving_ops(graph)

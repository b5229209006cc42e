"""Batching never changes an answer: under TF Serving's batcher and the dev server's.

TF Serving's merge (pad every input to the batch's longest with its first
element, concatenate, split outputs along dimension 0) is re-implemented in
`tests.helpers.batching`; every signature `export_saved_model` writes, for
every task, must answer a request batched with a longer and a shorter one
as it answers it alone (token-level outputs come back at the batch's
length: the caller keeps its own, see albert_tf/export/README.md).
"""

import threading

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
from albert_tf.export import export_saved_model
from tests.helpers.batching import merge, pad_like_tf_serving, run_batched

SEQ_LENGTH = 24
SHORT = ["Fine.", "Meh, ok."]
LONG = ["The plot never comes together, and the jokes fall flat for nearly two hours.",
        "An uneven but often funny look at family life in a small town."]
# allowed_batch_sizes as in serving/docker/batching.config, scaled down: the
# merged rows (3 to 5 here) are padded to 6 with copies of the last request's
# first row.
ALLOWED_BATCH_SIZES = (6, 12)
# Outputs that mark the positions past a request's own length (raw text).
MASKS = ("input_mask",)


def _example(**features):
    return tf.train.Example(features=tf.train.Features(feature={
        key: tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))
        for key, value in features.items()
    })).SerializeToString()


def _strings(values):
    return np.array(values, dtype=object)


def _token_ids(preprocessor, *texts):
    packed = preprocessor(*(tf.constant(t) for t in texts))
    return {name: packed[name].numpy() for name in INPUT_NAMES}


@pytest.fixture(scope="module")
def tokenizer():
    return albert_text.AlbertTokenizer()


@pytest.fixture(scope="module")
def cases(tmp_path_factory, tokenizer):
    """{task: (loaded SavedModel, {signature: (short request, long request)}, its directory)}."""
    base = tmp_path_factory.mktemp("batching")
    backbone = AlbertBackbone.from_preset("albert_tiny")
    pre = albert_text.AlbertPreprocessor(tokenizer, SEQ_LENGTH, dynamic_padding=True)
    qa_pre = albert_text.AlbertQAPreprocessor(tokenizer, SEQ_LENGTH, doc_stride=8, dynamic_padding=True)
    mc_pre = albert_text.AlbertMultipleChoicePreprocessor(tokenizer, SEQ_LENGTH, dynamic_padding=True)

    def text_requests(key="text"):
        return {key: _strings(SHORT)}, {key: _strings(LONG)}

    def id_requests():
        return _token_ids(pre, SHORT[:1]), _token_ids(pre, LONG)

    questions = (["Who?"], ["What is it about, and who plays in it?", "Where?"])
    contexts = (["Zoe wrote it."], [LONG[0] + " " + LONG[1], "In a small town."])
    short_choices, long_choices = [["yes", "no"]], [["a long and winding road", "x", "maybe so"]] * 2
    specs = {
        "classification": (AlbertClassifier(backbone, num_classes=3), {"labels": ["a", "b", "c"]}, {
            "serving_default": text_requests(),
            "serve_token_ids": id_requests(),
            "classify": tuple({"inputs": _strings([_example(text=t) for t in texts])} for texts in (SHORT, LONG)),
        }),
        "regression": (AlbertClassifier(backbone, num_classes=1, problem_type="regression"), {"text_pair": True}, {
            "serving_default": tuple({"text": _strings(t), "text_pair": _strings(t[::-1])} for t in (SHORT, LONG)),
            "serve_token_ids": id_requests(),
            "regress": tuple({"inputs": _strings([_example(text=t, text_pair=t) for t in texts])}
                             for texts in (SHORT, LONG)),
        }),
        "token_classification": (AlbertTokenClassifier(backbone, num_classes=3), {"labels": ["O", "B", "I"]}, {
            "serving_default": text_requests(),
            "serve_token_ids": id_requests(),
        }),
        "span_qa": (AlbertSpanQA(backbone), {"doc_stride": 8}, {
            "serving_default": tuple({"question": _strings(q), "context": _strings(c)}
                                     for q, c in zip(questions, contexts)),
            "serve_token_ids": tuple(_token_ids(qa_pre, q, c) for q, c in zip(questions, contexts)),
        }),
        "multiple_choice": (AlbertMultipleChoice(backbone), {}, {
            # Raw text: only requests with the same number of choices are safe.
            "serving_default": ({"context": _strings(SHORT[:1]), "choices": _strings([["yes", "no", "a"]])},
                                {"context": _strings(LONG), "choices": _strings(long_choices)}),
            "serve_token_ids": (_token_ids(mc_pre, SHORT[:1], short_choices), _token_ids(mc_pre, LONG, long_choices)),
        }),
        "pretraining": (AlbertPretrainer(backbone), {}, {
            "serving_default": text_requests(),
            "serve_token_ids": ({**_token_ids(pre, SHORT[:1]), "masked_lm_positions": np.array([[1]], "int32")},
                                {**_token_ids(pre, LONG), "masked_lm_positions": np.array([[1, 4, 9]] * 2, "int32")}),
        }),
        "backbone": (backbone, {}, {
            "serving_default": text_requests(),
            "serve_token_ids": id_requests(),
        }),
    }
    out = {}
    for task, (model, kwargs, requests) in specs.items():
        directory = export_saved_model(model, tokenizer, base / task, seq_length=SEQ_LENGTH, **kwargs)
        loaded = tf.saved_model.load(str(directory))
        assert sorted(loaded.signatures) == sorted(requests), task
        out[task] = (loaded, requests, str(directory))
    return out


def _signature(loaded, name):
    fn = loaded.signatures[name]

    def call(**inputs):
        return {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in inputs.items()}).items()}

    return call


def _assert_same_answer(batched, alone, what):
    assert sorted(batched) == sorted(alone), what
    for name, expected in alone.items():
        actual = batched[name]
        assert actual.shape[0] == expected.shape[0] and actual.ndim == expected.ndim, (what, name)
        assert all(a >= e for a, e in zip(actual.shape, expected.shape)), (what, name, actual.shape)
        if name in MASKS:
            # Past the request's own length, the batch's positions are padding.
            outside = np.ones(actual.shape, bool)
            outside[tuple(slice(0, n) for n in expected.shape)] = False
            assert not actual[outside].any(), (what, name)
        actual = actual[tuple(slice(0, n) for n in expected.shape)]
        if expected.dtype.kind in "OSUb" or np.issubdtype(expected.dtype, np.integer):
            np.testing.assert_array_equal(actual, expected, err_msg=f"{what}/{name}")
        else:
            np.testing.assert_allclose(actual, expected, atol=1e-6, rtol=0, err_msg=f"{what}/{name}")


TASKS = ["classification", "regression", "token_classification", "span_qa", "multiple_choice",
         "pretraining", "backbone"]


@pytest.mark.parametrize("task", TASKS)
def test_every_signature_answers_as_alone_when_tf_serving_batches_it(cases, task):
    loaded, requests, _ = cases[task]
    for name, (short, long) in requests.items():
        signature = _signature(loaded, name)
        # The order does not matter: each request is padded with its own first element.
        answers = run_batched(signature, [short, long], ALLOWED_BATCH_SIZES)
        for i, (answer, request) in enumerate(zip(answers, (short, long))):
            _assert_same_answer(answer, signature(**request), f"{task}/{name}/request {i}")


def test_serve_token_ids_really_receives_tf_serving_padding(cases):
    # The merged short row carries [CLS] ids with mask 1 past its end: the
    # padding the signature must recognise (without it, its logits change).
    _, requests, _ = cases["classification"]
    short, long = requests["serve_token_ids"]
    merged, _ = merge([short, long])
    length = short["input_mask"].shape[1]
    assert merged["input_word_ids"].shape[1] > length
    assert (merged["input_word_ids"][0, length:] == short["input_word_ids"][0, 0]).all()
    assert (merged["input_mask"][0, length:] == 1).all()


def test_tf_serving_pads_with_the_first_element_in_every_dimension_but_the_first():
    # batching_util.cc: CreatePadding pads after dims 1.., PadTensor fills
    # with input.flat<T>()(0); CalculateMaxDimSizes ({10,20,30} with
    # {20,50,15} -> {20,50,30}, batching_util_test.cc).
    padded = pad_like_tf_serving(np.array([[7, 1], [3, 4]]), (5, 3))
    np.testing.assert_array_equal(padded, [[7, 1, 7], [3, 4, 7]])
    merged, rows = merge([{"x": np.zeros((10, 20, 30))}, {"x": np.ones((20, 50, 15))}])
    assert merged["x"].shape == (30, 50, 30) and rows == [10, 20]
    strings = pad_like_tf_serving(_strings([["yes", "no"]]), (1, 3))
    assert strings.tolist() == [["yes", "no", "yes"]]


def test_dev_server_batches_requests_of_similar_length_and_answers_as_alone(cases):
    from serving.server.batching import Batcher
    from serving.server.config import BatchingParameters
    from serving.server.servable import LoadedVersion

    _, _, directory = cases["classification"]
    servable = LoadedVersion("albert", 1, directory)
    servable.load()
    short = [f"Fine film {i}." for i in range(4)]
    long = [f"The plot never comes together and the jokes fall flat, review {i}." for i in range(4)]
    texts = [t for pair in zip(short, long) for t in pair]  # arriving interleaved
    alone = [servable.run("serving_default", {"text": _strings([t])})[0] for t in texts]
    # One thread and a long timeout: all 8 requests queue before any batch forms.
    params = BatchingParameters(max_batch_size=8, batch_timeout_micros=2_000_000, num_batch_threads=1,
                                allowed_batch_sizes=(4, 8))
    batcher = Batcher(params)
    answers = [None] * len(texts)

    def one(i):
        answers[i] = batcher.run(servable, "serving_default", {"text": _strings([texts[i]])})[0]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(texts))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        batcher.close()
    for i, (answer, expected) in enumerate(zip(answers, alone)):
        _assert_same_answer(answer, expected, f"dev server request {i}")
    stats = batcher.stats()
    # First in first out would run one batch of 8, mostly padding on the short rows.
    fifo = 1.0 - sum(len(t) for t in texts) / (8 * max(len(t) for t in texts))
    assert fifo > 0.3
    assert (stats["batches"], stats["requests"], stats["rows"]) == (2, 8, 8)
    assert stats["padding_fraction"] <= 0.1

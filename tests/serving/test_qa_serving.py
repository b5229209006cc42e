"""Span QA over the server: `answer()` equals the exported graph called in-process.

A random tiny `AlbertSpanQA` is exported with short windows, so the
shipped Disfl-QA contexts make several windows each; the development
server serves it. Each answer over gRPC (sync and asyncio), REST and
`albert-tf query` must equal, bit for bit, what the same SavedModel
returns in-process for the same request batch (the client sends
`max_batch_size` questions per request, so the reference is computed on
those same chunks: dynamic padding makes a batch's shape depend on its
longest window).
"""

import asyncio
import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from serving.client import (
    AlbertClient,
    AsyncAlbertClient,
    InvalidInputError,
    RestClient,
)
from tests.helpers.export import long_contexts
from tests.helpers.serving import REPO, ServerProcess

QUESTIONS = ["What is it made of?", "Who found it?", "When did it start?", "Where is it?", "Why?"]
CHUNK = 2


@pytest.fixture(scope="module")
def export_base(tmp_path_factory):
    from albert_tf import AlbertBackbone, AlbertSpanQA
    from albert_tf.export import export_saved_model
    from albert_tf.text import AlbertTokenizer

    keras.utils.set_random_seed(3)
    model = AlbertSpanQA(AlbertBackbone.from_preset("albert_tiny"))
    base = tmp_path_factory.mktemp("qa_models") / "squad"
    export_saved_model(model, AlbertTokenizer(), base, seq_length=64, doc_stride=24, max_answer_length=8)
    return base


@pytest.fixture(scope="module")
def server(export_base):
    process = ServerProcess("dev", ["--model_name=squad", f"--model_base_path={export_base}"], "squad")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def in_process(export_base):
    """serving_default of the same SavedModel, on the client's chunks: outputs as numpy, concatenated."""
    serving_default = tf.saved_model.load(str(export_base / "1")).signatures["serving_default"]

    def answers(questions, contexts, chunk=CHUNK):
        parts = [
            serving_default(question=tf.constant(questions[i:i + chunk]), context=tf.constant(contexts[i:i + chunk]))
            for i in range(0, len(questions), chunk)
        ]
        return {name: np.concatenate([part[name].numpy() for part in parts]) for name in parts[0]}

    return answers


@pytest.fixture(scope="module")
def contexts():
    return long_contexts(len(QUESTIONS))


def assert_answers_equal(result, expected):
    assert [a.text for a in result] == [t.decode() for t in expected["answer_text"]]
    assert [a.start for a in result] == expected["answer_start"].tolist()
    assert [a.end for a in result] == expected["answer_end"].tolist()
    assert [a.score for a in result] == expected["answer_score"].tolist()
    assert [a.null_score_diff for a in result] == expected["null_score_diff"].tolist()
    assert [a.is_answer for a in result] == [bool(d <= 0.0) for d in expected["null_score_diff"]]


def test_answer_over_grpc_equals_in_process(server, in_process, contexts):
    with AlbertClient(server.grpc_target, "squad", max_batch_size=CHUNK) as client:
        result = client.answer(QUESTIONS, contexts)
    expected = in_process(QUESTIONS, contexts)
    assert_answers_equal(result, expected)
    assert (result.model_spec.version, len(result)) == (1, len(QUESTIONS))
    assert all(contexts[i][a.start:a.end] == a.text != "" for i, a in enumerate(result))
    # The answers come from anywhere in the contexts, not only the first window.
    assert max(a.start for a in result) > 300


def test_answer_async_and_rest_equal_in_process(server, in_process, contexts):
    async def ask():
        async with AsyncAlbertClient(server.grpc_target, "squad", max_batch_size=CHUNK) as client:
            return await client.answer(QUESTIONS, contexts)

    expected = in_process(QUESTIONS, contexts)
    assert_answers_equal(asyncio.run(ask()), expected)
    rest = RestClient(server.rest_url, "squad", max_batch_size=CHUNK).answer(QUESTIONS, contexts)
    assert_answers_equal(rest, expected)


def test_query_cli_answers_questions_from_a_context_file(server, in_process, contexts, tmp_path):
    context_file = tmp_path / "context.txt"
    context_file.write_text(contexts[0], encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "albert_tf.cli", "query", "--target", server.grpc_target, "--model-name", "squad",
         "--question", QUESTIONS[0], "--question", QUESTIONS[1], "--context-file", str(context_file)],
        check=False, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    expected = in_process(QUESTIONS[:2], [contexts[0]] * 2, chunk=2)
    assert [r["question"] for r in rows] == QUESTIONS[:2]
    assert [r["answer"] for r in rows] == [t.decode() for t in expected["answer_text"]]
    assert [(r["start"], r["end"]) for r in rows] == list(zip(expected["answer_start"].tolist(),
                                                              expected["answer_end"].tolist()))
    assert [r["null_score_diff"] for r in rows] == expected["null_score_diff"].tolist()


def test_bad_questions_and_contexts_fail_clearly(server, contexts):
    with AlbertClient(server.grpc_target, "squad") as client:
        with pytest.raises(InvalidInputError, match="2 questions and 1 contexts: give one context per question"):
            client.answer(QUESTIONS[:2], contexts[:1])
        with pytest.raises(InvalidInputError, match=r"context 1 is empty or only whitespace"):
            client.answer(QUESTIONS[:2], [contexts[0], "  \n"])
        with pytest.raises(InvalidInputError, match="got no questions"):
            client.answer([], [])



def test_graph_refuses_mismatched_batches_from_raw_stubs(server, contexts):
    """The same mistake sent past the client's check (a client built from stubs alone)."""
    import grpc
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "squad"
    request.inputs["question"].CopyFrom(tf.make_tensor_proto(QUESTIONS[:2]))
    request.inputs["context"].CopyFrom(tf.make_tensor_proto(contexts[:1]))
    with grpc.insecure_channel(server.grpc_target) as channel, pytest.raises(grpc.RpcError) as error:
        prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=60)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "question and context must have the same batch size" in error.value.details()

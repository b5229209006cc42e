"""End to end on real albert_tf exports: export -> models.config with two models -> server -> clients.

A tiny ALBERT text-pair classifier and a tiny regression model are exported
with `albert_tf.export.export_saved_model` (raw text in, SentencePiece and
packing inside the signature), served from one model config file, and
queried over gRPC (sync, async, stubs), REST, Classify and Regress. Every
answer equals the same SavedModel called in-process, and the classifier's
logits equal the Keras model on the same packed ids.
"""

import asyncio

import grpc
import numpy as np
import pytest
import tensorflow as tf

from serving.client import AlbertClient, AsyncAlbertClient, RestClient
from tests.helpers.serving import SERVER_KINDS, ServerProcess

PAIRS = [
    ("Is the film worth seeing?", "A gripping, beautifully shot film."),
    ("What about the plot?", "Dull and far too long; 1,000 twists and none lands."),
    ("Cast?", "Superb."),
]
TEXTS = ["a gripping film", "dull, far too long", "Ünïcödé accents"]

CONFIG = """
model_config_list {{
  config {{ name: "pairs" base_path: "{pairs}" model_platform: "tensorflow" }}
  config {{ name: "score" base_path: "{score}" model_platform: "tensorflow" }}
}}
"""


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    from albert_tf import AlbertBackbone, AlbertClassifier
    from albert_tf.export import export_saved_model
    from albert_tf.text import AlbertTokenizer

    root = tmp_path_factory.mktemp("albert_exports")
    tokenizer = AlbertTokenizer()
    pair_model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=3)
    pairs = export_saved_model(pair_model, tokenizer, str(root / "pairs"), seq_length=32,
                               labels=["no", "maybe", "yes"], text_pair=True)
    score_model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=1,
                                   problem_type="regression")
    score = export_saved_model(score_model, tokenizer, str(root / "score"), seq_length=32)
    config = root / "models.config"
    config.write_text(CONFIG.format(pairs=root / "pairs", score=root / "score"))
    return {"pairs": str(pairs), "score": str(score), "config": str(config), "pair_model": pair_model}


@pytest.fixture(scope="module", params=SERVER_KINDS)
def server(request, exports):
    if request.param == "dev":
        process = ServerProcess("dev", [f"--model_config_file={exports['config']}"], "pairs")
    else:
        # The real server gets the classifier alone (its config paths are host paths).
        base = exports["pairs"].rsplit("/", 1)[0]
        process = ServerProcess(request.param, ["--model_name=pairs", f"--model_base_path={base}"],
                                "pairs", base_path=base)
    yield process
    process.stop()


def _pairs_in_process(export_dir):
    signature = tf.saved_model.load(export_dir).signatures["serving_default"]
    out = signature(text=tf.constant([a for a, _ in PAIRS]), text_pair=tf.constant([b for _, b in PAIRS]))
    return {k: v.numpy() for k, v in out.items()}


def test_pairs_over_grpc_rest_and_stubs(server, exports):
    expected = _pairs_in_process(exports["pairs"])
    with AlbertClient(server.grpc_target, "pairs", max_batch_size=2) as client:
        result = client.predict(PAIRS)
    assert result.model_spec.version == 1
    np.testing.assert_allclose(result["logits"], expected["logits"], rtol=1e-5, atol=1e-6)
    assert [p.label for p in result.predictions] == [x.decode() for x in expected["labels"]]
    assert {p.label for p in result.predictions} <= {"no", "maybe", "yes"}

    async def go():
        async with AsyncAlbertClient(server.grpc_target, "pairs", max_batch_size=1) as client:
            return await client.predict(PAIRS)

    np.testing.assert_allclose(asyncio.run(go())["probabilities"], expected["probabilities"],
                               rtol=1e-5, atol=1e-6)

    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "pairs"
    request.inputs["text"].CopyFrom(tf.make_tensor_proto([a for a, _ in PAIRS]))
    request.inputs["text_pair"].CopyFrom(tf.make_tensor_proto([b for _, b in PAIRS]))
    with grpc.insecure_channel(server.grpc_target) as channel:
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=60)
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["logits"]), expected["logits"],
                               rtol=1e-5, atol=1e-6)

    rest = RestClient(server.rest_url, "pairs")
    np.testing.assert_allclose(rest.predict(PAIRS)["logits"], expected["logits"], rtol=1e-5, atol=1e-5)


def test_pairs_match_keras_model(server, exports):
    """The served logits are the Keras model's on the same packed ids."""
    from albert_tf.text import AlbertPreprocessor, AlbertTokenizer

    preprocessor = AlbertPreprocessor(AlbertTokenizer(), seq_length=32)
    packed = preprocessor(tf.constant([a for a, _ in PAIRS]), tf.constant([b for _, b in PAIRS]))
    keras_logits = np.asarray(exports["pair_model"](packed, training=False))
    with AlbertClient(server.grpc_target, "pairs") as client:
        served = client.predict(PAIRS)["logits"]
    np.testing.assert_allclose(served, keras_logits, rtol=1e-4, atol=1e-5)


def test_classify_pairs(server, exports):
    expected = _pairs_in_process(exports["pairs"])["probabilities"]
    examples = [{"text": a, "text_pair": b} for a, b in PAIRS]
    with AlbertClient(server.grpc_target, "pairs") as client:
        result = client.classify(examples)
    assert [[c for c, _ in row] for row in result.classifications] == [["no", "maybe", "yes"]] * len(PAIRS)
    np.testing.assert_allclose([[s for _, s in row] for row in result.classifications], expected,
                               rtol=1e-5, atol=1e-6)


def test_regress_second_model_from_config(server, exports):
    if server.kind != "dev":
        pytest.skip("the real server fixture serves the classifier only")
    loaded = tf.saved_model.load(exports["score"])
    expected = loaded.signatures["serving_default"](text=tf.constant(TEXTS))["predictions"].numpy()
    with AlbertClient(server.grpc_target, "score") as client:
        values = client.regress(TEXTS).values
        predicted = client.predict(TEXTS)["predictions"]
        assert [s.state for s in client.status()] == ["AVAILABLE"]
    np.testing.assert_allclose(values, np.reshape(expected, [-1]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predicted, expected, rtol=1e-5, atol=1e-6)

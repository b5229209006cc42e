"""Configuration files: the shipped serving/docker files parse, bad ones fail clearly.

models.config is parsed with TF Serving's own ModelServerConfig proto class,
so a file accepted here is syntactically what tensorflow_model_server reads.
"""

import os

import pytest

from serving.server import config as config_lib
from serving.server.manager import aspired_versions, list_versions
from tests.helpers.serving import REPO

DOCKER = os.path.join(REPO, "serving", "docker")


def _read(name):
    with open(os.path.join(DOCKER, name)) as f:
        return f.read()


def test_shipped_models_config():
    config = config_lib.parse_model_server_config(_read("models.config"))
    (model,) = config.model_config_list.config
    assert (model.name, model.base_path, model.model_platform) == ("albert", "/models/albert", "tensorflow")
    assert model.model_version_policy.latest.num_versions == 2
    assert dict(model.version_labels) == {"stable": 1}


def test_shipped_batching_and_monitoring_configs():
    params = config_lib.parse_batching_parameters(_read("batching.config"))
    assert params == config_lib.BatchingParameters(
        max_batch_size=32, batch_timeout_micros=5000, max_enqueued_batches=100, num_batch_threads=4,
        allowed_batch_sizes=(8, 16, 32), pad_variable_length_inputs=True)
    assert config_lib.parse_monitoring_config(_read("monitoring.config")) == "/monitoring/prometheus/metrics"


def test_dockerfile_matches_pinned_tensorflow_text():
    with open(os.path.join(REPO, "requirements.txt")) as f:
        pins = dict(line.strip().split("==") for line in f if "==" in line)
    minor = ".".join(pins["tensorflow-text"].split(".")[:2])
    assert f"FROM tensorflow/serving:{minor}." in _read("Dockerfile")


@pytest.mark.parametrize("text, message", [
    ("model_config_list { config { name: 'a' base_path: 'relative' model_platform: 'tensorflow' } }",
     "absolute base_path"),
    ("model_config_list { config { name: 'a' base_path: '/m' model_platform: 'pytorch' } }", "model_platform"),
    ("model_config_list { config { name: 'a' base_path: '/m' model_platform: 'tensorflow' } "
     "config { name: 'a' base_path: '/n' model_platform: 'tensorflow' } }", "multiple times"),
    ("model_config_list { config { name: 'a' base_path: '/m' model_platform: 'tensorflow' "
     "model_version_policy { specific { versions: 1 } } version_labels { key: 'x' value: 2 } } }",
     "never loads"),
    ("model_config_list { config { nme: 'a' } }", "Error parsing text-format"),
])
def test_bad_model_configs(text, message):
    with pytest.raises(config_lib.ConfigError, match=message):
        config_lib.parse_model_server_config(text)


@pytest.mark.parametrize("text, message", [
    ("max_batch_size: 8", "malformed"),
    ("max_batch_size { value: 8 } allowed_batch_sizes: 4 allowed_batch_sizes: 16", "must equal max_batch_size"),
    ("max_batch_size { value: 8 } allowed_batch_sizes: 8 allowed_batch_sizes: 4", "increase strictly"),
    ("max_batch_sise { value: 8 }", "unknown or malformed field 'max_batch_sise'"),
    ("num_batch_threads { value: 0 }", "num_batch_threads must be >= 1"),
])
def test_bad_batching_configs(text, message):
    with pytest.raises(config_lib.ConfigError, match=message):
        config_lib.parse_batching_parameters(text)


def test_version_policies(tmp_path):
    from tensorflow_serving.config import file_system_storage_path_source_pb2 as fs

    for name in ("1", "3", "10", ".tmp-11", "notes"):
        (tmp_path / name).mkdir()
        if name != "3":
            (tmp_path / name / "saved_model.pb").write_bytes(b"")
    # 3 has no saved_model.pb yet; temp and non-integer names never count.
    assert list_versions(str(tmp_path)) == [1, 10]
    policy = fs.FileSystemStoragePathSourceConfig.ServableVersionPolicy
    assert aspired_versions(policy(), [1, 2, 10]) == {10}
    assert aspired_versions(policy(latest={"num_versions": 2}), [1, 2, 10]) == {2, 10}
    assert aspired_versions(policy(all={}), [1, 2, 10]) == {1, 2, 10}
    assert aspired_versions(policy(specific={"versions": [2, 7]}), [1, 2, 10]) == {2}
    assert aspired_versions(policy(), []) == set()

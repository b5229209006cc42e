"""Reading the server's configuration files (the same files TF Serving reads).

- `models.config`: a `ModelServerConfig` text proto (parsed with the proto
  class from `tensorflow_serving.config`, so a file accepted here is accepted
  by `tensorflow_model_server --model_config_file`).
- `batching.config`: `BatchingParameters` text proto. Its proto is not in the
  tensorflow-serving-api wheel; `parse_batching_parameters` reads its fields
  (wrapper messages `key { value: N }`, `allowed_batch_sizes: N`,
  `pad_variable_length_inputs: bool`) and rejects anything else.
- `monitoring.config`: `MonitoringConfig` text proto (prometheus_config).
"""

import dataclasses
import os
import re

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2


class ConfigError(ValueError):
    """A configuration file or value is invalid (the message says where and why)."""


def parse_model_server_config(text, source="<models.config>"):
    """Parses and validates a `ModelServerConfig` text proto.

    Raises:
        ConfigError: unparsable text, no `model_config_list`, a model without
            name or absolute base_path, a platform other than "tensorflow", a
            name listed twice, or a label pointing to a version the policy
            excludes.
    """
    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as e:
        raise ConfigError(f"Error parsing text-format tensorflow.serving.ModelServerConfig in {source}: {e}") from None
    validate_model_server_config(config, source)
    return config


def validate_model_server_config(config, source="<config>"):
    if config.WhichOneof("config") != "model_config_list":
        raise ConfigError(
            f"{source}: only model_config_list is supported (got {config.WhichOneof('config')!r})."
        )
    seen = set()
    for model in config.model_config_list.config:
        if not model.name:
            raise ConfigError(f"{source}: a model config has no name.")
        if model.name in seen:
            raise ConfigError(f"{source}: illegal to list model {model.name} multiple times in config list.")
        seen.add(model.name)
        if not model.base_path or not os.path.isabs(model.base_path):
            raise ConfigError(
                f"{source}: expected model {model.name} to have an absolute base_path; "
                f"got base_path={model.base_path!r}."
            )
        if model.model_platform not in ("tensorflow",):
            raise ConfigError(
                f"{source}: model {model.name} has model_platform {model.model_platform!r}; "
                "expected \"tensorflow\"."
            )
        policy = model.model_version_policy
        if policy.WhichOneof("policy_choice") == "latest" and policy.latest.num_versions < 0:
            raise ConfigError(f"{source}: model {model.name} asks for latest {policy.latest.num_versions} versions.")
        if policy.WhichOneof("policy_choice") == "specific":
            if not policy.specific.versions:
                raise ConfigError(f"{source}: model {model.name} has a specific policy with no versions.")
            for label, version in model.version_labels.items():
                if version not in policy.specific.versions:
                    raise ConfigError(
                        f"{source}: label {label!r} of model {model.name} points to version {version}, "
                        f"which the specific policy {list(policy.specific.versions)} never loads."
                    )
    return config


def read_model_server_config(path):
    with open(path, encoding="utf-8") as f:
        return parse_model_server_config(f.read(), source=path)


def single_model_config(name, base_path):
    """The config `--model_name/--model_base_path` stand for (latest 1 version)."""
    config = model_server_config_pb2.ModelServerConfig()
    model = config.model_config_list.config.add()
    model.name = name
    model.base_path = os.path.abspath(base_path)
    model.model_platform = "tensorflow"
    return validate_model_server_config(config, "--model_base_path")


@dataclasses.dataclass(frozen=True)
class BatchingParameters:
    """TF Serving's `BatchingParameters` (defaults as in its session_bundle_config.proto)."""

    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = 10
    num_batch_threads: int = 4
    allowed_batch_sizes: tuple = ()
    pad_variable_length_inputs: bool = False

    def __post_init__(self):
        if self.max_batch_size < 1:
            raise ConfigError(f"max_batch_size must be >= 1, got {self.max_batch_size}")
        if self.num_batch_threads < 1:
            raise ConfigError(f"num_batch_threads must be >= 1, got {self.num_batch_threads}")
        sizes = list(self.allowed_batch_sizes)
        if sizes:
            if sizes != sorted(set(sizes)):
                raise ConfigError(f"allowed_batch_sizes must increase strictly, got {sizes}")
            if sizes[-1] != self.max_batch_size:
                raise ConfigError(
                    f"The last allowed_batch_sizes entry ({sizes[-1]}) must equal max_batch_size "
                    f"({self.max_batch_size})."
                )


_WRAPPED = {"max_batch_size", "batch_timeout_micros", "max_enqueued_batches", "num_batch_threads",
            "thread_pool_name"}
_TOKEN = re.compile(r"\s*(?:(#[^\n]*)|([A-Za-z_]+)\s*(?:\{\s*value\s*:\s*(\"[^\"]*\"|[-\w]+)\s*\}|:\s*(\"[^\"]*\"|[-\w]+))|(\S))")


def parse_batching_parameters(text, source="<batching.config>"):
    """Parses a `BatchingParameters` text proto into `BatchingParameters`.

    Example:
    >>> parse_batching_parameters("max_batch_size { value: 32 } allowed_batch_sizes: 8 "
    ...                           "allowed_batch_sizes: 32").allowed_batch_sizes
    (8, 32)
    """
    values = {}
    allowed = []
    for match in _TOKEN.finditer(text):
        comment, key, wrapped, plain, junk = match.groups()
        if comment:
            continue
        if junk:
            raise ConfigError(f"{source}: cannot parse near {text[match.start():match.start() + 30]!r}")
        if key in _WRAPPED and wrapped is not None:
            values[key] = wrapped.strip('"')
        elif key == "allowed_batch_sizes" and plain is not None:
            allowed.append(int(plain))
        elif key == "pad_variable_length_inputs" and plain is not None:
            if plain not in ("true", "false"):
                raise ConfigError(f"{source}: pad_variable_length_inputs must be true or false, got {plain}")
            values[key] = plain == "true"
        else:
            raise ConfigError(
                f"{source}: unknown or malformed field {key!r}; expected one of "
                f"{sorted(_WRAPPED | {'allowed_batch_sizes', 'pad_variable_length_inputs'})} "
                "(wrapped fields as `name { value: N }`)."
            )
    values.pop("thread_pool_name", None)
    try:
        kwargs = {k: (v if isinstance(v, bool) else int(v)) for k, v in values.items()}
    except ValueError as e:
        raise ConfigError(f"{source}: {e}") from None
    return BatchingParameters(allowed_batch_sizes=tuple(allowed), **kwargs)


def parse_monitoring_config(text, source="<monitoring.config>"):
    """Returns the Prometheus metrics path if `prometheus_config { enable: true }`, else None."""
    block = re.search(r"prometheus_config\s*:?\s*\{([^}]*)\}", text)
    if block is None:
        if text.strip() and not text.strip().startswith("#"):
            raise ConfigError(f"{source}: expected a `prometheus_config {{ ... }}` block.")
        return None
    body = block.group(1)
    enable = re.search(r"enable\s*:\s*(true|false)", body)
    path = re.search(r"path\s*:\s*\"([^\"]+)\"", body)
    if enable is None or enable.group(1) == "false":
        return None
    return path.group(1) if path else "/monitoring/prometheus/metrics"

"""Experiment configs: YAML / JSON files or dicts merged over documented defaults.

An experiment is a nested dict (model, data, optimizer, schedule, strategy,
precision, output dir, steps...). `load_config` reads it from a `.yaml`,
`.yml` or `.json` file (or takes a dict), merges it over the caller's
defaults and rejects keys the defaults do not know, naming them, so a typo
never silently falls back to a default. `save_config` writes the resolved
config beside the run's outputs.

Example:
>>> DEFAULTS = {"model": {"preset": "albert_tiny"}, "train": {"steps": 100}}
>>> load_config({"train": {"steps": 5}}, DEFAULTS)
{'model': {'preset': 'albert_tiny'}, 'train': {'steps': 5}}
"""

import copy
import json
import os
import pathlib
import tempfile

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")

# Sub-dicts whose keys are free-form (e.g. an AlbertConfig dict).
OPEN_KEY = "__open__"


def deep_merge(base, override, path="", open_keys=()):
    """Returns `base` updated recursively with `override`.

    Keys missing from `base` raise ValueError with their dotted path, except
    under a dotted path listed in `open_keys` (free-form sections).
    """
    merged = copy.deepcopy(base)
    for key, value in override.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in merged and path not in open_keys:
            known = ", ".join(sorted(map(str, merged))) or "(none)"
            raise ValueError(f"Unknown config key {where!r}; known keys here: {known}")
        if isinstance(merged.get(key), dict) and isinstance(value, dict) and where not in open_keys:
            merged[key] = deep_merge(merged[key], value, where, open_keys)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def read_config_file(path):
    """Reads a YAML or JSON config file into a dict."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No config file at {path}")
    text = path.read_text()
    if path.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    elif path.suffix == ".json":
        data = json.loads(text)
    else:
        raise ValueError(f"Config {path} must end in .yaml, .yml or .json")
    if not isinstance(data, dict):
        raise ValueError(f"Config {path} must hold a mapping at top level, got {type(data).__name__}")
    return data


def load_config(source, defaults, open_keys=()):
    """Resolves an experiment config.

    Args:
        source: path of a YAML/JSON file, a dict, or None (defaults only).
        defaults: the complete default config (nested dict).
        open_keys: dotted paths of free-form sections (any keys allowed).

    Returns:
        A new dict: `defaults` deep-merged with `source`.
    """
    if source is None:
        override = {}
    elif isinstance(source, dict):
        override = source
    else:
        override = read_config_file(source)
    return deep_merge(defaults, override, open_keys=tuple(open_keys))


def save_config(config, path):
    """Writes `config` as YAML (or JSON for a `.json` path), atomically."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        text = json.dumps(config, indent=2, sort_keys=True)
    else:
        import yaml

        text = yaml.safe_dump(config, sort_keys=False)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def check_precision(policy):
    """Validates a precision name; returns it."""
    if policy not in PRECISIONS:
        raise ValueError(f"Unknown precision {policy!r}; expected one of {PRECISIONS}")
    return policy

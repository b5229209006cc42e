"""Data sources of fine-tuning and evaluation: a data config -> one split's examples.

A data config names a shipped dataset (`{"name": "movie_reviews"}`; the
split is chosen per use) or files in a standard format
(`{"format": "glue_tsv", "train": ..., "dev": ..., "test": ..., "options":
{...}}`), optionally with `max_examples` per split. The readers live in
`training.data.readers`.
"""

import dataclasses

import numpy as np

from training.data import readers

# Shipped dataset -> (its fine-tuning task, reader).
SHIPPED = {
    "movie_reviews": ("classification", readers.movie_reviews),
    "vitaminc": ("classification", readers.vitaminc),
    "disfl_qa": ("span_qa", readers.disfl_qa),
}
FILE_FORMATS = {
    "glue_tsv": readers.read_glue_tsv,
    "squad_json": readers.read_squad_json,
    "conll": readers.read_conll,
    "multiple_choice": readers.read_multiple_choice,
}


def read_data(data, split, task=None):
    """Reads one split of a data config.

    Args:
        data: dict with either `name` (a shipped dataset) or `format` and
            per-split file paths (`train`, `dev`, `test`), plus optional
            reader `options` and `max_examples` ({split: n}).
        split: "train", "dev" or "test".
        task: for shipped movie reviews, "regression" reads the score.

    Returns:
        The reader's result (examples list or a data class).

    Raises:
        ValueError: an unknown shipped name or format, or no file for `split`.

    Example:
    >>> dev = read_data({"name": "vitaminc", "max_examples": {"dev": 5}}, "dev")
    >>> len(dev), dev.label_names
    (5, ('True', 'False', 'Neither'))
    >>> _ = pathlib.Path("dev.tsv").write_text("sentence\\tlabel\\nfine .\\t1\\n")
    >>> options = {"text_a_column": "sentence", "label_column": "label", "label_names": ["0", "1"]}
    >>> read_data({"format": "glue_tsv", "dev": "dev.tsv", "options": options}, "dev").labels
    [1]
    """
    data = dict(data)
    options = dict(data.get("options") or {})
    if "name" in data:
        if data["name"] not in SHIPPED:
            raise ValueError(f"Unknown shipped dataset {data['name']!r}; expected one of {sorted(SHIPPED)}")
        if data["name"] == "movie_reviews" and task == "regression":
            options.setdefault("regression", True)
        if data.get(split):
            options["path"] = data[split] if data[split] is not True else None
        result = SHIPPED[data["name"]][1](split, **options)
    else:
        if data.get("format") not in FILE_FORMATS:
            raise ValueError(
                f"data needs a shipped `name` ({sorted(SHIPPED)}) or a `format` in "
                f"{sorted(FILE_FORMATS)}; got {data}"
            )
        if not data.get(split):
            raise ValueError(f"data has no file for split {split!r} (keys: {sorted(data)})")
        result = FILE_FORMATS[data["format"]](data[split], **options)
    limit = (data.get("max_examples") or {}).get(split)
    return subset(result, limit)


def subset(data, n, seed=0):
    """`n` examples drawn with a fixed seed, in file order (all when n is None).

    A seeded draw rather than the first `n`: the shipped files are sorted
    (e.g. the movie reviews list all positives first).

    Args:
        data: a list of examples or a reader data class (its list fields
            are subset together).
        n: how many to keep; None keeps all.
        seed: the draw's seed.

    Example:
    >>> subset(list("abcdefghij"), 3)
    ['c', 'e', 'g']
    """
    size = len(data)
    if n is None or n >= size:
        return data
    keep = np.sort(np.random.default_rng(seed).permutation(size)[:n])
    if isinstance(data, list):
        return [data[i] for i in keep]
    fields = {}
    for field in dataclasses.fields(data):
        value = getattr(data, field.name)
        fields[field.name] = [value[i] for i in keep] if isinstance(value, list) else value
    return dataclasses.replace(data, **fields)

"""`albert-tf predict`: a file of texts through an exported SavedModel, offline.

The rows of a TSV, CSV (header row) or JSONL file go through the export's
raw-text `serving_default` signature, the same graph TF Serving runs, in
batches of texts of similar length (sorted by length, so no text pays for
a longer neighbour's padding); the predictions come out in the input's
order, each row with its input columns. A crash loses at most one batch:
finished batches are kept beside the output (`<output>.partial/`) and a
rerun with the same model, input and batch size goes on from there. The
output file appears whole, at the end, or not at all.
"""

import csv
import hashlib
import json
import pathlib
import shutil

from albert_tf.saving import atomic_write

FIELD_SEPARATORS = {".tsv": "\t", ".csv": ","}
FORMATS = (".tsv", ".csv", ".jsonl")


def _format_of(path, role):
    suffix = pathlib.Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{role} {path}: unknown format {suffix!r}; expected one of {', '.join(FORMATS)}")
    return suffix


def read_rows(path):
    """The rows of a TSV / CSV file with a header row, or of a JSONL file, as dicts.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: an unknown extension, a row that is not a JSON object,
            or a row with more or fewer fields than the header (its line named).

    Example:
    >>> _ = pathlib.Path("texts.tsv").write_text("id\\ttext\\n1\\ta fine film\\n")
    >>> read_rows("texts.tsv")
    [{'id': '1', 'text': 'a fine film'}]
    """
    suffix = _format_of(path, "input")
    with open(path, encoding="utf-8", newline="") as f:
        if suffix == ".jsonl":
            rows = []
            for number, line in enumerate(f, 1):
                if line.strip():
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
                    rows.append(row)
            return rows
        reader = csv.DictReader(f, delimiter=FIELD_SEPARATORS[suffix])
        rows = []
        for row in reader:
            if None in row or None in row.values():
                raise ValueError(f"{path}:{reader.line_num}: {len(reader.fieldnames)} header fields, "
                                 f"a different number in this row")
            rows.append(row)
        return rows


def resolve_export(export_dir):
    """A SavedModel version directory: `export_dir` itself, or its largest integer subdirectory.

    Raises:
        FileNotFoundError: no saved_model.pb there or in any version directory.
    """
    export_dir = pathlib.Path(export_dir)
    if (export_dir / "saved_model.pb").exists():
        return export_dir
    versions = sorted((int(p.name), p) for p in export_dir.glob("*") if p.name.isdigit()
                      and (p / "saved_model.pb").exists()) if export_dir.is_dir() else []
    if not versions:
        raise FileNotFoundError(f"No exported SavedModel at {export_dir} (saved_model.pb, or <version>/saved_model.pb)")
    return versions[-1][1]


def _column(rows, name, spec, path):
    """One signature input of a batch: a NumPy str array [B] (or [B, C] for lists)."""
    import numpy as np

    values = [row[name] for row in rows]
    if spec.shape.rank == 2:  # a list per row (multiple-choice choices): JSON in TSV/CSV cells
        values = [json.loads(v) if isinstance(v, str) else v for v in values]
        width = {len(v) for v in values}
        if len(width) != 1:
            raise ValueError(f"{path}: column {name!r} needs the same number of entries in every row of a "
                             f"batch, got {sorted(width)}")
    return np.array(values, dtype=object).astype(str)


def _rows_of(outputs, count):
    """Per-row plain Python values of a batch's outputs; token-level outputs cut to each row's tokens."""
    import numpy as np

    mask = outputs.get("input_mask")
    rows = [{} for _ in range(count)]
    for name, value in sorted(outputs.items()):
        for i in range(count):
            item = value[i]
            if isinstance(item, np.ndarray):
                if mask is not None and item.ndim >= 1 and item.shape[0] == mask.shape[1]:
                    item = item[:int(mask[i].sum())]
                item = item.tolist()
            elif isinstance(item, np.generic):
                item = item.item()
            rows[i][name] = _plain(item)
    return rows


def _plain(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _write(rows, path):
    suffix = _format_of(path, "output")
    if suffix == ".jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(dict.fromkeys(k for row in rows for k in row)),
                            delimiter=FIELD_SEPARATORS[suffix], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v for k, v in row.items()})
    return out.getvalue()


def predict_file(export_dir, input_path, output_path, batch_size=64, signature="serving_default", progress=True):
    """Predicts every row of `input_path` with an exported model; writes `output_path`.

    Args:
        export_dir: an `export_saved_model` directory (a version, or the
            base directory: its largest version).
        input_path: .tsv / .csv (header row) / .jsonl; columns named as the
            signature's inputs (`text`, `text_pair`; `question`, `context`;
            `context`, `choices` as a JSON list), other columns pass through.
        output_path: .tsv / .csv / .jsonl: each input row with the
            signature's outputs (lists as JSON in TSV/CSV cells; token-level
            outputs cut to the row's tokens).
        batch_size: rows per call, after sorting by length.
        signature: the raw-text signature to call.
        progress: print a progress bar.

    Returns:
        dict: `rows`, `batches`, `resumed_batches`, `export` (the version directory).

    Raises:
        FileNotFoundError: no input file or no export.
        ValueError: an unknown format, a missing column (the columns the
            signature needs named), a bad `batch_size` or signature.

    Example:
    >>> from albert_tf.export import export_saved_model
    >>> model = AlbertClassifier(AlbertBackbone.from_preset("albert_tiny"), num_classes=2)
    >>> _ = export_saved_model(model, AlbertTokenizer(), "sentiment", seq_length=16, labels=["neg", "pos"])
    >>> _ = pathlib.Path("in.tsv").write_text("id\\ttext\\n7\\ta fine film\\n8\\tdull\\n")
    >>> predict_file("sentiment", "in.tsv", "out.jsonl", progress=False)["rows"]
    2
    >>> [(row["id"], row["labels"] in ("neg", "pos")) for row in read_rows("out.jsonl")]
    [('7', True), ('8', True)]
    """
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops the export uses)

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    input_path, output_path = pathlib.Path(input_path), pathlib.Path(output_path)
    _format_of(output_path, "output")
    rows = read_rows(input_path)
    version_dir = resolve_export(export_dir)
    loaded = tf.saved_model.load(str(version_dir))
    if signature not in loaded.signatures:
        raise ValueError(f"{version_dir} has no signature {signature!r}; it has {sorted(loaded.signatures)}")
    function = loaded.signatures[signature]
    specs = dict(sorted(function.structured_input_signature[1].items()))
    missing = [name for name in specs if any(name not in row for row in rows)]
    if missing:
        raise ValueError(f"{input_path}: the {signature} signature reads columns {sorted(specs)}; "
                         f"missing {missing} (columns: {sorted(rows[0]) if rows else []})")

    # Longest texts last: each batch holds texts of similar length.
    order = sorted(range(len(rows)), key=lambda i: sum(len(str(rows[i][name])) for name in specs))
    batches = [order[begin:begin + batch_size] for begin in range(0, len(order), batch_size)]
    fingerprint = hashlib.sha256(input_path.read_bytes()).hexdigest()
    meta = {"input_sha256": fingerprint, "export": str(version_dir.resolve()), "batch_size": batch_size,
            "signature": signature}
    partial = output_path.with_name(output_path.name + ".partial")
    kept = partial / "meta.json"
    if partial.exists() and (not kept.exists() or json.loads(kept.read_text()) != meta):
        shutil.rmtree(partial)  # another model, input or batching: its batches do not apply
    partial.mkdir(parents=True, exist_ok=True)
    atomic_write(partial / "meta.json", json.dumps(meta))

    import keras

    bar = keras.utils.Progbar(len(rows), unit_name="row") if progress else None
    predictions, resumed = [None] * len(rows), 0
    for number, batch in enumerate(batches):
        done = partial / f"batch-{number:06d}.json"
        if done.exists():
            batch_rows = json.loads(done.read_text())
            resumed += 1
        else:
            inputs = {name: tf.constant(_column([rows[i] for i in batch], name, spec, input_path))
                      for name, spec in specs.items()}
            outputs = {name: value.numpy() for name, value in function(**inputs).items()}
            batch_rows = _rows_of(outputs, len(batch))
            atomic_write(done, json.dumps(batch_rows))
        for i, row in zip(batch, batch_rows):
            predictions[i] = {**rows[i], **row}
        if bar is not None:
            bar.add(len(batch))
    atomic_write(output_path, _write(predictions, output_path))
    shutil.rmtree(partial)
    return {"rows": len(rows), "batches": len(batches), "resumed_batches": resumed, "export": version_dir}


def add_arguments(parser):
    parser.add_argument("--export-dir", required=True,
                        help="an `albert-tf export` directory (a version, or the base: its largest version)")
    parser.add_argument("--input-file", required=True, help=".tsv / .csv (header row) / .jsonl, columns named "
                        "as the signature's inputs (text[, text_pair]; question, context; context, choices)")
    parser.add_argument("--output-file", required=True, help=".tsv / .csv / .jsonl")
    parser.add_argument("--batch-size", type=int, default=64, help="rows per call (default %(default)s)")
    parser.add_argument("--signature", default="serving_default")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run(args):
    result = predict_file(args.export_dir, args.input_file, args.output_file, batch_size=args.batch_size,
                          signature=args.signature, progress=not args.quiet)
    resumed = f" ({result['resumed_batches']} batches from an earlier run)" if result["resumed_batches"] else ""
    print(f"predicted {result['rows']} rows with {result['export']} -> {args.output_file}{resumed}")
    return 0

"""Readers: data files -> plain Python examples for fine-tuning and evaluation.

Standard formats:
  * `read_glue_tsv`: GLUE-style TSV, single texts or pairs, classification
    or regression, columns by index or header name.
  * `read_squad_json`: SQuAD v1.1 / v2.0 JSON -> `SquadExample`s.
  * `read_conll`: CoNLL-style token/tag columns, blank line between sentences.
  * `read_multiple_choice`: RACE-style JSON / JSON lines, or SWAG-style CSV.

Shipped data (`albert_tf.resources`), each with a FIXED split:
  * `movie_reviews(split)`: Rotten Tomatoes snippets, 2 classes (or the
    -4..4 score as regression).
  * `vitaminc(split)`: (evidence, claim) pairs, labels True/False/Neither.
  * `disfl_qa(split)`: disfluent questions over SQuAD 2.0 contexts, as
    `SquadExample`s with character offsets.

The fixed split is `split_of(key)`: the first 8 hex digits of the SHA-256
of a UTF-8 key, mod 100: buckets 0-79 train, 80-89 dev, 90-99 test. The key
is the text for movie reviews, the claim for VitaminC and the context for
Disfl-QA, so that rows sharing a claim (VitaminC's contrastive pairs) or a
paragraph (Disfl-QA) never straddle train and test. It depends on nothing
but the data: same split on every machine, Python and NumPy version.

Bad data (missing columns, a label outside the label set, an answer
outside its context, an unparsable line) raises `DataError` naming the
file and the line.

Example:
>>> train = movie_reviews("train")
>>> len(train.texts_a) == len(train.labels), train.label_names
(True, ('negative', 'positive'))
"""

import csv
import dataclasses
import gzip
import hashlib
import io
import json
import pathlib
import re

SPLITS = ("train", "dev", "test")
_SPLIT_BOUNDS = {"train": (0, 80), "dev": (80, 90), "test": (90, 100)}

MOVIE_REVIEW_LABELS = ("negative", "positive")
VITAMINC_LABELS = ("True", "False", "Neither")
DISFL_QA_UNANSWERABLE = "unknown"


class DataError(ValueError):
    """A data file holds something the reader cannot accept; names file and line."""

    def __init__(self, path, line, problem):
        self.path, self.line = str(path), line
        location = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{location}: {problem}")


class _Columns:
    """A reader data class holding one list entry per example in each column field."""

    def __len__(self):
        # The first field is a column in every subclass.
        return len(getattr(self, dataclasses.fields(self)[0].name))


@dataclasses.dataclass
class TextClassificationData(_Columns):
    """Single texts or text pairs with a label each.

    Attributes:
        texts_a: [N] first segments.
        texts_b: [N] second segments, or None for single-text tasks.
        labels: [N] int class ids (classification) or floats (regression).
        label_names: class names, index = class id; None for regression.
        source: where the data came from.
    """

    texts_a: list
    texts_b: list
    labels: list
    label_names: tuple
    source: str = ""

    @property
    def is_regression(self):
        return self.label_names is None


@dataclasses.dataclass
class SquadExample:
    """One question over one context.

    Attributes:
        qid: unique question id.
        question, context: the texts.
        answers: list of {"text", "answer_start"} with `answer_start` a
            character offset into `context`; empty when unanswerable.
        is_impossible: SQuAD 2.0 unanswerable flag.
    """

    qid: str
    question: str
    context: str
    answers: list
    is_impossible: bool = False

    @property
    def gold_texts(self):
        return [a["text"] for a in self.answers]


@dataclasses.dataclass
class TaggingData(_Columns):
    """Word-level sequence labelling data (CoNLL).

    Attributes:
        tokens: [N] lists of words.
        tags: [N] lists of tag names, one per word.
        tag_names: the tag set, index = class id.
    """

    tokens: list
    tags: list
    tag_names: tuple
    source: str = ""


@dataclasses.dataclass
class MultipleChoiceData(_Columns):
    """A context (with an optional question) and C candidate answers.

    Attributes:
        contexts: [N] contexts (segment A).
        choices: [N] lists of C texts (segment B of each pair); a question,
            when there is one, is prepended to every choice.
        labels: [N] index of the right choice.
    """

    contexts: list
    choices: list
    labels: list
    source: str = ""


# --- helpers ---


def split_of(key):
    """The fixed split ("train", "dev" or "test") of an example keyed by `key`."""
    bucket = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % 100
    for name, (low, high) in _SPLIT_BOUNDS.items():
        if low <= bucket < high:
            return name
    raise AssertionError("unreachable: bucket in 0..99")


def _check_split(split):
    if split not in SPLITS + ("all",):
        raise ValueError(f"Unknown split {split!r}; expected one of {SPLITS + ('all',)}")


def _in_split(key, split):
    """Whether the example keyed by `key` belongs to `split` ("all": every example)."""
    return split == "all" or split_of(key) == split


def _open_text(path):
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No data file at {path}")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _read_jsonl(path):
    with _open_text(path) as f:
        for line_number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(path, line_number, f"unparsable JSON line ({e.msg})") from None
            if not isinstance(record, dict):
                raise DataError(path, line_number, f"expected a JSON object, got {type(record).__name__}")
            yield line_number, record


def _field(record, key, path, line_number, kind=str):
    if key not in record:
        raise DataError(path, line_number, f"missing field {key!r} (has {sorted(record)})")
    value = record[key]
    if not isinstance(value, kind):
        raise DataError(
            path, line_number, f"field {key!r} must be {kind.__name__}, got {value!r}"
        )
    return value


def _label_id(value, label_names, path, line_number):
    if value in label_names:
        return label_names.index(value)
    raise DataError(path, line_number, f"label {value!r} is not in the label set {list(label_names)}")


def _label(raw, label_names, path, line_number):
    """The float score of a regression label (`label_names` None), else the class id of `raw`."""
    if label_names is not None:
        return _label_id(raw, label_names, path, line_number)
    try:
        return float(raw)
    except ValueError:
        raise DataError(path, line_number, f"regression label {raw!r} is not a number") from None


def _resource(name):
    from albert_tf import resources

    return resources.path(name)


# --- GLUE TSV ---


def read_glue_tsv(
    path,
    text_a_column,
    label_column,
    text_b_column=None,
    label_names=None,
    regression=False,
    header=True,
    delimiter="\t",
):
    """Reads a GLUE-style delimited file.

    Args:
        path: the file (.tsv, .csv, optionally .gz).
        text_a_column, text_b_column, label_column: column index (int) or
            header name (str, needs `header=True`); `text_b_column=None`
            for single-text tasks.
        label_names: classification labels as written in the file, in
            class-id order (e.g. ["0", "1"] for SST-2, ["contradiction",
            "entailment", "neutral"] for MNLI); required unless regression.
        regression: labels are floats (STS-B).
        header: the first row names the columns (and is skipped).
        delimiter: "\\t" for GLUE, "," for CSV.

    GLUE files are unquoted; quotes are kept as text.

    Returns:
        `TextClassificationData`.

    Example:
    >>> _ = pathlib.Path("dev.tsv").write_text("sentence\\tlabel\\na gem .\\t1\\ndull .\\t0\\n")
    >>> data = read_glue_tsv("dev.tsv", "sentence", "label", label_names=["0", "1"])
    >>> data.texts_a, data.labels, data.label_names
    (['a gem .', 'dull .'], [1, 0], ('0', '1'))
    """
    if not regression and not label_names:
        raise ValueError("label_names is required for classification (or pass regression=True)")
    label_names = None if regression else tuple(str(n) for n in label_names)
    texts_a, texts_b, labels = [], [], []
    with _open_text(path) as f:
        reader = csv.reader(f, delimiter=delimiter, quoting=csv.QUOTE_NONE)
        columns = {}
        for line_number, row in enumerate(reader, start=1):
            if header and line_number == 1:
                columns = {name: i for i, name in enumerate(row)}
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue

            def cell(column, what):
                if isinstance(column, str):
                    if column not in columns:
                        raise DataError(
                            path, 1 if header else None,
                            f"no column named {column!r} for {what}; header has {list(columns)}",
                        )
                    index = columns[column]
                else:
                    index = column
                if not -len(row) <= index < len(row):
                    raise DataError(
                        path, line_number,
                        f"missing column {column!r} for {what}: the row has {len(row)} columns",
                    )
                return row[index]

            texts_a.append(cell(text_a_column, "text_a"))
            if text_b_column is not None:
                texts_b.append(cell(text_b_column, "text_b"))
            labels.append(_label(cell(label_column, "label").strip(), label_names, path, line_number))
    return TextClassificationData(
        texts_a, texts_b if text_b_column is not None else None, labels, label_names, str(path)
    )


# --- SQuAD JSON ---


def _line_of(raw_text, needle):
    position = raw_text.find(needle)
    return raw_text.count("\n", 0, position) + 1 if position >= 0 else None


def read_squad_json(path):
    """Reads SQuAD v1.1 or v2.0 JSON into `SquadExample`s.

    Each answer's `answer_start` must lie inside its context and the context
    must hold the answer text there (compared with whitespace collapsed, as
    the original `run_squad` does).

    Example:
    >>> squad = {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{
    ...     "context": "Paris is in France.", "qas": [
    ...         {"id": "q1", "question": "Where is Paris?", "is_impossible": False,
    ...          "answers": [{"text": "France", "answer_start": 12}]},
    ...         {"id": "q2", "question": "Who?", "is_impossible": True, "answers": []}]}]}]}
    >>> _ = pathlib.Path("dev.json").write_text(json.dumps(squad))
    >>> [(e.qid, e.gold_texts, e.is_impossible) for e in read_squad_json("dev.json")]
    [('q1', ['France'], False), ('q2', [], True)]
    """
    with _open_text(path) as f:
        raw = f.read()
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as e:
        raise DataError(path, e.lineno, f"unparsable JSON ({e.msg})") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise DataError(path, 1, "expected a SQuAD object with a 'data' list")
    examples = []
    for a, article in enumerate(document["data"]):
        for p, paragraph in enumerate(article.get("paragraphs", [])):
            where = f"data[{a}].paragraphs[{p}]"
            if not isinstance(paragraph.get("context"), str):
                raise DataError(path, None, f"{where} has no 'context' string")
            context = paragraph["context"]
            for q, qa in enumerate(paragraph.get("qas", [])):
                qid = str(qa.get("id", f"{a}-{p}-{q}"))
                line = _line_of(raw, f'"{qid}"')
                if not isinstance(qa.get("question"), str):
                    raise DataError(path, line, f"question {qid} ({where}.qas[{q}]) has no 'question' string")
                impossible = bool(qa.get("is_impossible", False))
                answers = [] if impossible else qa.get("answers", [])
                checked = []
                for answer in answers:
                    text, start = answer.get("text"), answer.get("answer_start")
                    if not isinstance(text, str) or not isinstance(start, int):
                        raise DataError(path, line, f"question {qid}: answer {answer!r} needs 'text' and an int 'answer_start'")
                    end = start + len(text)
                    if start < 0 or end > len(context):
                        raise DataError(
                            path, line,
                            f"question {qid}: answer [{start}, {end}) lies outside its context of {len(context)} characters",
                        )
                    if " ".join(context[start:end].split()) != " ".join(text.split()):
                        raise DataError(
                            path, line,
                            f"question {qid}: context[{start}:{end}] is {context[start:end]!r}, not the answer {text!r}",
                        )
                    checked.append({"text": text, "answer_start": start})
                examples.append(SquadExample(qid, qa["question"], context, checked, impossible or not checked))
    return examples


# --- CoNLL ---


def read_conll(path, token_column=0, tag_column=-1, tag_names=None, delimiter=None):
    """Reads CoNLL-style tagging data: one word per line, blank line between sentences.

    Args:
        path: the file.
        token_column, tag_column: column indices of the word and its tag
            (CoNLL-2003: 0 and -1).
        tag_names: the tag set; default: the tags seen, "O" first then sorted.
        delimiter: column separator (None = any whitespace).

    Lines starting with "-DOCSTART-" are skipped.

    Example:
    >>> _ = pathlib.Path("train.txt").write_text("-DOCSTART- O\\n\\nJohn B-PER\\nruns O\\n\\nParis B-LOC\\n")
    >>> data = read_conll("train.txt")
    >>> data.tokens, data.tags[0], data.tag_names
    ([['John', 'runs'], ['Paris']], ['B-PER', 'O'], ('O', 'B-LOC', 'B-PER'))
    """
    sentences, sentence_tags, words, tags = [], [], [], []
    with _open_text(path) as f:
        for line_number, line in enumerate(f, start=1):
            stripped = line.strip()
            if stripped.startswith("-DOCSTART-"):
                continue
            if not stripped:
                if words:
                    sentences.append(words)
                    sentence_tags.append(tags)
                    words, tags = [], []
                continue
            cells = stripped.split(delimiter)
            for column, what in ((token_column, "token"), (tag_column, "tag")):
                if not -len(cells) <= column < len(cells) or (len(cells) < 2 and token_column != tag_column):
                    raise DataError(path, line_number, f"missing {what} column {column}: line has {len(cells)} columns")
            words.append(cells[token_column])
            tags.append(cells[tag_column])
            if tag_names is not None and tags[-1] not in tag_names:
                raise DataError(path, line_number, f"tag {tags[-1]!r} is not in the tag set {list(tag_names)}")
    if words:
        sentences.append(words)
        sentence_tags.append(tags)
    if tag_names is None:
        seen = {t for s in sentence_tags for t in s}
        tag_names = ["O"] + sorted(seen - {"O"})
    return TaggingData(sentences, sentence_tags, tuple(tag_names), str(path))


# --- multiple choice ---

_LETTERS = "ABCDEFGHIJ"


def _choice_label(value, num_choices, path, line_number):
    if isinstance(value, str) and len(value) == 1 and value.upper() in _LETTERS[:num_choices]:
        return _LETTERS.index(value.upper())
    try:
        index = int(value)
    except (TypeError, ValueError):
        index = -1
    if not 0 <= index < num_choices:
        raise DataError(
            path, line_number,
            f"label {value!r} is not one of {num_choices} choices (expected 0..{num_choices - 1} or A..{_LETTERS[num_choices - 1]})",
        )
    return index


def read_multiple_choice(path):
    """Reads multiple-choice data: RACE-style JSON(L) or SWAG-style CSV.

    JSON (one object per file or per line) in either form:
      * RACE: {"article", "questions": [...], "options": [[...], ...],
        "answers": ["A", ...]} -> one example per question, the question
        prepended to each option;
      * generic: {"context", "choices" (or "endings"), "label"} with the
        label an index or a letter.
    CSV (header required), SWAG: `sent1`, `sent2` (or `startphrase`),
    `ending0`..`endingN`, `label`; `sent2` is prepended to each ending.

    Example:
    >>> _ = pathlib.Path("val.csv").write_text(
    ...     "sent1,sent2,ending0,ending1,label\\nShe opens the door.,She,walks in.,flies off.,0\\n")
    >>> data = read_multiple_choice("val.csv")
    >>> data.contexts, data.choices, data.labels
    (['She opens the door.'], [['She walks in.', 'She flies off.']], [0])
    """
    path = pathlib.Path(path)
    contexts, choices, labels = [], [], []
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    if name.endswith(".csv"):
        with _open_text(path) as f:
            reader = csv.DictReader(f)
            fields = reader.fieldnames or []
            endings = sorted((c for c in fields if re.fullmatch(r"ending\d+", c)), key=lambda c: int(c[6:]))
            for required in ("label",):
                if required not in fields:
                    raise DataError(path, 1, f"missing column {required!r}; header has {fields}")
            if not endings or not ({"sent1", "sent2"} <= set(fields) or "startphrase" in fields):
                raise DataError(path, 1, f"expected sent1, sent2 (or startphrase) and ending0..N columns; header has {fields}")
            for line_number, row in enumerate(reader, start=2):
                if any(row.get(c) is None for c in endings + ["label"]):
                    raise DataError(path, line_number, "row has fewer columns than the header")
                if "sent1" in row and "sent2" in row and row["sent1"] is not None:
                    context, lead = row["sent1"], row["sent2"] or ""
                else:
                    context, lead = row["startphrase"], ""
                contexts.append(context)
                choices.append([f"{lead} {row[c]}".strip() for c in endings])
                labels.append(_choice_label(row["label"], len(endings), path, line_number))
        return MultipleChoiceData(contexts, choices, labels, str(path))

    with _open_text(path) as f:
        raw = f.read()
    try:
        records = [(1, json.loads(raw))]
    except json.JSONDecodeError:
        records = list(_read_jsonl(path))
    for line_number, record in records:
        if isinstance(record, list):
            raise DataError(path, line_number, "expected JSON objects, got a list")
        if "article" in record:
            article = _field(record, "article", path, line_number)
            questions = _field(record, "questions", path, line_number, list)
            options = _field(record, "options", path, line_number, list)
            answers = _field(record, "answers", path, line_number, list)
            if not len(questions) == len(options) == len(answers):
                raise DataError(path, line_number, f"{len(questions)} questions, {len(options)} option lists, {len(answers)} answers")
            for question, opts, answer in zip(questions, options, answers):
                contexts.append(article)
                # RACE cloze questions hold a "_" blank to fill with the option.
                choices.append([question.replace("_", o) if "_" in question else f"{question} {o}" for o in opts])
                labels.append(_choice_label(answer, len(opts), path, line_number))
        else:
            context = _field(record, "context", path, line_number)
            key = "choices" if "choices" in record else "endings"
            opts = _field(record, key, path, line_number, list)
            if "label" not in record:
                raise DataError(path, line_number, f"missing field 'label' (has {sorted(record)})")
            contexts.append(context)
            choices.append([str(o) for o in opts])
            labels.append(_choice_label(record["label"], len(opts), path, line_number))
    counts = {len(c) for c in choices}
    if len(counts) > 1:
        raise DataError(path, None, f"examples have different numbers of choices: {sorted(counts)}")
    return MultipleChoiceData(contexts, choices, labels, str(path))


# --- shipped data ---


def movie_reviews(split="train", regression=False, path=None):
    """The Rotten Tomatoes review snippets (10,568 sentences), fixed split.

    Args:
        split: "train" (80%), "dev" (10%), "test" (10%) or "all"; see
            `split_of` (keyed by the text).
        regression: use the mean human score (-4..4) instead of the label.
        path: another file of the same format (columns label, score, text).

    Returns:
        `TextClassificationData` with label names ("negative", "positive").
    """
    _check_split(split)
    path = path or _resource("movie_review_snippets.tsv")
    texts, labels = [], []
    with _open_text(path) as f:
        for line_number, line in enumerate(f, start=1):
            cells = line.rstrip("\r\n").split("\t")
            if line_number == 1:
                if cells[:3] != ["label", "score", "text"]:
                    raise DataError(path, 1, f"expected the header label, score, text; got {cells}")
                continue
            if not line.strip():
                continue
            if len(cells) != 3:
                raise DataError(path, line_number, f"expected 3 tab-separated columns, got {len(cells)}")
            label, score, text = cells
            if not _in_split(text, split):
                continue
            if regression:
                labels.append(_label(score, None, path, line_number))
            else:
                labels.append(_label(label, ("0", "1"), path, line_number))
            texts.append(text)
    return TextClassificationData(
        texts, None, labels, None if regression else MOVIE_REVIEW_LABELS, f"{path}[{split}]"
    )


def vitaminc(split="train", path=None):
    """VitaminC fact verification pairs, fixed split keyed by the claim.

    Segment A is the evidence, segment B the claim; labels "True" (the
    evidence supports the claim), "False" (refutes) and "Neither", class ids
    0, 1, 2 in that order (`VITAMINC_LABELS`).
    """
    _check_split(split)
    path = path or _resource("vitaminc.jsonl.gz")
    evidence, claims, labels = [], [], []
    for line_number, record in _read_jsonl(path):
        claim = _field(record, "claim", path, line_number)
        text = _field(record, "evidence", path, line_number)
        label = _label_id(_field(record, "label", path, line_number), VITAMINC_LABELS, path, line_number)
        if not _in_split(claim, split):
            continue
        evidence.append(text)
        claims.append(claim)
        labels.append(label)
    return TextClassificationData(evidence, claims, labels, VITAMINC_LABELS, f"{path}[{split}]")


def _find_answer(context, answer):
    """Character span of `answer` in `context`, tolerant to whitespace.

    The shipped contexts are whitespace-tokenized ("40 , 000") while many
    answers are not ("40,000"), so an exact search falls back to one that
    ignores whitespace. The first occurrence wins (about 9% of the answers
    occur more than once and the data carries no offset to disambiguate).
    """
    start = context.find(answer)
    if start >= 0:
        return start, start + len(answer)
    pattern = r"\s*".join(re.escape(ch) for ch in answer if not ch.isspace())
    match = re.search(pattern, context) if pattern else None
    return (match.start(), match.end()) if match else None


def disfl_qa(split="train", path=None):
    """Disfl-QA as SQuAD 2.0 examples, fixed split keyed by the context.

    The answer "unknown" marks an unanswerable question (no answers,
    `is_impossible=True`). Other answers are located in the context
    (`_find_answer`: exact first occurrence, else a whitespace-insensitive
    match); the gold answers are the context's span and, when it differs,
    the original answer text, so EM/F1 accept either. An answer absent from
    the context raises `DataError`. Question ids are `disfl_qa-<line>`.
    """
    _check_split(split)
    path = path or _resource("disfl_qa.jsonl.gz")
    examples = []
    for line_number, record in _read_jsonl(path):
        question = _field(record, "question", path, line_number)
        context = _field(record, "context", path, line_number)
        answer = _field(record, "answer", path, line_number)
        if not _in_split(context, split):
            continue
        qid = f"disfl_qa-{line_number}"
        if answer.strip() == DISFL_QA_UNANSWERABLE:
            examples.append(SquadExample(qid, question, context, [], True))
            continue
        span = _find_answer(context, answer)
        if span is None:
            raise DataError(path, line_number, f"answer {answer!r} does not occur in the context")
        start, end = span
        answers = [{"text": context[start:end], "answer_start": start}]
        if context[start:end] != answer:
            answers.append({"text": answer, "answer_start": start})
        examples.append(SquadExample(qid, question, context, answers, False))
    return examples

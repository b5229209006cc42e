"""Evaluation metrics with the reference semantics, in plain NumPy.

Classification and regression metrics follow scikit-learn / SciPy (the
GLUE reference implementations use them); entity-level F1 for BIO/IOBES
tags follows seqeval's default (conlleval) mode. Nothing here imports
TensorFlow, so `evaluate` can score predictions from any source.

Example:
>>> accuracy([0, 1, 1], [0, 1, 0])
0.6666666666666666
>>> entity_f1([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]])["f1"]
1.0
"""

import collections

import numpy as np

F1_AVERAGES = ("binary", "macro", "micro")


def _as_1d(values, name):
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    return array


def _pair(y_true, y_pred):
    y_true, y_pred = _as_1d(y_true, "y_true"), _as_1d(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred differ in length: {y_true.shape[0]} vs {y_pred.shape[0]}"
        )
    if y_true.size == 0:
        raise ValueError("Cannot score an empty set of predictions")
    return y_true, y_pred


def accuracy(y_true, y_pred):
    """Fraction of positions where `y_pred == y_true` (both [N])."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, labels=None):
    """Counts [K, K]: row = true label, column = predicted label.

    `labels` fixes the order (default: sorted union of both arrays);
    pairs whose labels are not listed are ignored, as in scikit-learn.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if labels is None:
        labels = np.union1d(y_true, y_pred)
    labels = list(labels)
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        if t in index and p in index:
            matrix[index[t], index[p]] += 1
    return matrix


def _safe_divide(numerator, denominator):
    # scikit-learn's zero_division default: an undefined ratio counts as 0.
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)


def f1_score(y_true, y_pred, average="binary", pos_label=1, labels=None):
    """F1 of class predictions, as `sklearn.metrics.f1_score`.

    Args:
        y_true, y_pred: [N] labels.
        average: "binary" (F1 of `pos_label`), "macro" (unweighted mean of
            per-class F1 over `labels`, default the union of both arrays) or
            "micro" (from global counts).
        pos_label: the positive class for "binary".
        labels: classes to include for "macro"/"micro".
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if average not in F1_AVERAGES:
        raise ValueError(f"Unknown average {average!r}; expected one of {F1_AVERAGES}")
    if average == "binary":
        present = set(np.union1d(y_true, y_pred).tolist())
        if len(present - {pos_label}) > 1:
            raise ValueError(
                f"average='binary' needs at most two classes, found {sorted(present)}; "
                "use average='macro'"
            )
        labels = [pos_label]
    elif labels is None:
        labels = np.union1d(y_true, y_pred).tolist()
    labels = list(labels)
    tp = np.array([np.sum((y_true == c) & (y_pred == c)) for c in labels], dtype=np.float64)
    pred_pos = np.array([np.sum(y_pred == c) for c in labels], dtype=np.float64)
    true_pos = np.array([np.sum(y_true == c) for c in labels], dtype=np.float64)
    if average == "micro":
        tp, pred_pos, true_pos = tp.sum(keepdims=True), pred_pos.sum(keepdims=True), true_pos.sum(keepdims=True)
    # F1 = 2 tp / (2 tp + fp + fn); written this way it is 0 (not NaN) when undefined.
    per_class = _safe_divide(2 * tp, pred_pos + true_pos)
    return float(np.mean(per_class))


def matthews_corrcoef(y_true, y_pred):
    """Matthews correlation (multi-class form of Gorodkin 2004), as scikit-learn.

    Returns 0.0 when it is undefined (a constant prediction or truth).
    """
    y_true, y_pred = _pair(y_true, y_pred)
    matrix = confusion_matrix(y_true, y_pred).astype(np.float64)
    t_sum, p_sum = matrix.sum(axis=1), matrix.sum(axis=0)
    correct, samples = np.trace(matrix), matrix.sum()
    cov_ytyp = correct * samples - np.dot(t_sum, p_sum)
    cov_ypyp = samples**2 - np.dot(p_sum, p_sum)
    cov_ytyt = samples**2 - np.dot(t_sum, t_sum)
    if cov_ypyp * cov_ytyt == 0:
        return 0.0
    return float(cov_ytyp / np.sqrt(cov_ytyt * cov_ypyp))


def pearson(x, y):
    """Pearson correlation of two [N] arrays (as `scipy.stats.pearsonr`)."""
    x, y = _pair(x, y)
    x, y = x.astype(np.float64), y.astype(np.float64)
    if x.size < 2:
        raise ValueError(f"Pearson correlation needs at least 2 values, got {x.size}")
    dx, dy = x - x.mean(), y - y.mean()
    denominator = np.sqrt(np.dot(dx, dx) * np.dot(dy, dy))
    if denominator == 0:
        return float("nan")  # SciPy also returns NaN for a constant input.
    return float(np.clip(np.dot(dx, dy) / denominator, -1.0, 1.0))


def _average_ranks(values):
    # Ties share the mean of the ranks they span (SciPy's rankdata "average").
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(values.size, dtype=np.float64)
    start = 0
    while start < values.size:
        end = start
        while end + 1 < values.size and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start:end + 1]] = (start + end) / 2.0 + 1.0
        start = end + 1
    return ranks


def spearman(x, y):
    """Spearman rank correlation: Pearson of average ranks (as `scipy.stats.spearmanr`)."""
    x, y = _pair(x, y)
    return pearson(_average_ranks(x.astype(np.float64)), _average_ranks(y.astype(np.float64)))


def classification_metrics(y_true, y_pred, num_classes):
    """The standard set for a classification task: accuracy, F1, MCC.

    Binary tasks report the F1 of class 1 (GLUE's MRPC/QQP convention) and
    multi-class tasks the macro F1 over all `num_classes` classes.
    """
    metrics = {
        "accuracy": accuracy(y_true, y_pred),
        "matthews_corrcoef": matthews_corrcoef(y_true, y_pred),
        "f1_macro": f1_score(y_true, y_pred, average="macro", labels=range(num_classes)),
    }
    if num_classes == 2:
        metrics["f1"] = f1_score(y_true, y_pred, average="binary", pos_label=1)
    return metrics


def regression_metrics(y_true, y_pred):
    """Pearson, Spearman (STS-B's pair) and mean squared error."""
    y_true, y_pred = _pair(y_true, y_pred)
    return {
        "pearson": pearson(y_true, y_pred),
        "spearman": spearman(y_true, y_pred),
        "mse": float(np.mean((y_true.astype(np.float64) - y_pred.astype(np.float64)) ** 2)),
    }


# --- Ranking metrics (answer sentence selection: WikiQA, TREC-QA, ASNQ) ---


def _ranked_relevance(query_ids, labels, scores):
    """Per query, its items' 0/1 relevance in descending score order.

    Ties keep input order (a stable sort). Queries without a relevant item
    are skipped, as in the WikiQA / TREC-QA evaluations.
    """
    query_ids = _as_1d(query_ids, "query_ids")
    labels, scores = _pair(labels, scores)
    if query_ids.shape != labels.shape:
        raise ValueError(f"query_ids and labels differ in length: {query_ids.shape[0]} vs {labels.shape[0]}")
    ranked = []
    for query in dict.fromkeys(query_ids.tolist()):
        rows = np.flatnonzero(query_ids == query)
        relevance = (labels[rows] > 0)[np.argsort(-scores[rows].astype(np.float64), kind="stable")]
        if relevance.any():
            ranked.append(relevance)
    if not ranked:
        raise ValueError("No query has a relevant item; ranking metrics are undefined")
    return ranked


def mean_average_precision(query_ids, labels, scores):
    """MAP: the mean over queries of the precision at each relevant item's rank.

    Args:
        query_ids: [N] the query of each item (any hashable values).
        labels: [N] 1 for a relevant item, 0 otherwise.
        scores: [N] the model's scores; higher ranks first.

    Returns:
        float in [0, 1], over the queries that have a relevant item.

    Raises:
        ValueError: lengths differ, or no query has a relevant item.

    Example:
    >>> mean_average_precision(["q1", "q1", "q1", "q2", "q2"], [0, 1, 1, 1, 0], [0.9, 0.8, 0.1, 0.7, 0.2])
    0.7916666666666666
    """
    precisions = []
    for relevance in _ranked_relevance(query_ids, labels, scores):
        ranks = np.flatnonzero(relevance) + 1
        precisions.append(np.mean(np.arange(1, len(ranks) + 1) / ranks))
    return float(np.mean(precisions))


def mean_reciprocal_rank(query_ids, labels, scores):
    """MRR: the mean over queries of 1 / the rank of the first relevant item.

    Arguments, result and errors as `mean_average_precision`.

    Example:
    >>> mean_reciprocal_rank(["q1", "q1", "q1", "q2", "q2"], [0, 1, 1, 1, 0], [0.9, 0.8, 0.1, 0.7, 0.2])
    0.75
    """
    return float(np.mean([1.0 / (np.argmax(r) + 1) for r in _ranked_relevance(query_ids, labels, scores)]))


def precision_at_k(query_ids, labels, scores, k=1):
    """P@k: the mean over queries of the fraction of relevant items among the top `k`.

    Arguments, result and errors as `mean_average_precision`; a query with
    fewer than `k` items counts its missing ranks as not relevant.

    Example:
    >>> precision_at_k(["q1", "q1", "q1", "q2", "q2"], [0, 1, 1, 1, 0], [0.9, 0.8, 0.1, 0.7, 0.2])
    0.5
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k!r}")
    return float(np.mean([r[:k].sum() / k for r in _ranked_relevance(query_ids, labels, scores)]))


# --- Entity-level F1 for BIO / IOBES tags (seqeval default mode) ---


def _split_tag(tag):
    if tag in ("O", ""):
        return "O", ""
    prefix, _, entity_type = tag.partition("-")
    if not entity_type:
        # A bare "B"/"I" has no type; seqeval names it "_".
        return prefix, "_"
    return prefix, entity_type


def _chunk_ends(prev_prefix, prefix, prev_type, entity_type):
    if prev_prefix in ("E", "S"):
        return True
    if prev_prefix in ("B", "I") and prefix in ("B", "S", "O"):
        return True
    return prev_prefix != "O" and prev_type != entity_type


def _chunk_starts(prev_prefix, prefix, prev_type, entity_type):
    if prefix in ("B", "S"):
        return True
    # conlleval is lenient: an I/E after O or after a finished chunk opens one.
    if prefix in ("E", "I") and prev_prefix in ("E", "S", "O"):
        return True
    return prefix != "O" and prev_type != entity_type


def get_entities(tags):
    """Entities of one tag sequence as (type, first, last) word indices.

    Accepts BIO, IOB1 and IOBES tags ("B-PER", "I-PER", "E-PER", "S-PER",
    "O"). An "I-X" that does not continue an "X" chunk starts a new one
    (conlleval / seqeval default semantics).

    >>> get_entities(["B-PER", "I-PER", "O", "I-LOC"])
    [('PER', 0, 1), ('LOC', 3, 3)]
    """
    entities = []
    prev_prefix, prev_type, begin = "O", "", 0
    for index, tag in enumerate(list(tags) + ["O"]):
        if not isinstance(tag, str):
            raise ValueError(f"Tags must be strings, got {tag!r} at position {index}")
        prefix, entity_type = _split_tag(tag)
        if prefix not in ("B", "I", "E", "S", "O"):
            raise ValueError(
                f"Unknown tag {tag!r} at position {index}; expected O or B-/I-/E-/S-<type>"
            )
        if _chunk_ends(prev_prefix, prefix, prev_type, entity_type) and prev_prefix != "O":
            entities.append((prev_type, begin, index - 1))
        if _chunk_starts(prev_prefix, prefix, prev_type, entity_type):
            begin = index
        prev_prefix, prev_type = prefix, entity_type
    return entities


def entity_f1(true_tags, pred_tags):
    """Micro precision/recall/F1 over exact entity matches, plus per-type F1.

    Args:
        true_tags, pred_tags: lists of tag sequences (one per sentence),
            equal lengths sentence by sentence.

    Returns:
        {"precision", "recall", "f1", "per_type": {type: {"precision",
        "recall", "f1", "support"}}}.
    """
    if len(true_tags) != len(pred_tags):
        raise ValueError(f"{len(true_tags)} true sentences but {len(pred_tags)} predicted ones")
    true_set, pred_set = set(), set()
    for sentence, (truth, pred) in enumerate(zip(true_tags, pred_tags)):
        if len(truth) != len(pred):
            raise ValueError(
                f"Sentence {sentence}: {len(truth)} true tags but {len(pred)} predicted tags"
            )
        true_set.update((sentence,) + e for e in get_entities(truth))
        pred_set.update((sentence,) + e for e in get_entities(pred))

    def score(truth, pred):
        hits = len(truth & pred)
        precision = hits / len(pred) if pred else 0.0
        recall = hits / len(truth) if truth else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1}

    result = score(true_set, pred_set)
    by_type = collections.defaultdict(lambda: (set(), set()))
    for entity in true_set:
        by_type[entity[1]][0].add(entity)
    for entity in pred_set:
        by_type[entity[1]][1].add(entity)
    result["per_type"] = {
        entity_type: dict(score(truth, pred), support=len(truth))
        for entity_type, (truth, pred) in sorted(by_type.items())
    }
    return result

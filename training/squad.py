"""SQuAD span decoding and the official v1.1 / v2.0 answer metrics.

Metric semantics are those of the official SQuAD v2.0 evaluation script
(which reduces to v1.1 when every question has an answer):

* an answer is normalized by lowercasing, removing ASCII punctuation,
  removing the articles a/an/the and collapsing whitespace;
* EM and token F1 of a prediction are the max over its gold answers;
  an unanswerable question has the single gold answer "" and scores 1
  only for an empty prediction;
* `na_probs` (the model's no-answer score per question) and
  `na_prob_thresh`: a question whose score exceeds the threshold counts as
  predicted unanswerable; with `na_probs` given, the best threshold for EM
  and F1 is searched as the official script does.

Span decoding follows the original BERT/ALBERT `run_squad`: the n-best
start and end positions of every window, spans inside the context only,
`end >= start`, at most `max_answer_length` tokens; the null score is
`start_logits[0] + end_logits[0]` (the [CLS] token), minimized over the
windows; SQuAD 2.0 predicts "" when `null - best_span > threshold`. Token
spans map back to character spans of the original context through the
per-token character offsets from the QA preprocessor.

Example:
>>> exact_match(["The Eiffel Tower"], "eiffel tower")
1.0
>>> round(token_f1(["in the 1990s"], "1990s"), 3)
0.667
"""

import collections
import dataclasses
import re
import string

import numpy as np

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text):
    """Official SQuAD normalization: lowercase, no punctuation/articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _tokens(text):
    return normalize_answer(text).split() if text else []


def _exact_one(gold, pred):
    return float(normalize_answer(gold) == normalize_answer(pred))


def _f1_one(gold, pred):
    gold_tokens, pred_tokens = _tokens(gold), _tokens(pred)
    if not gold_tokens or not pred_tokens:
        # Unanswerable (or all-stopword) gold: only an equally empty prediction scores.
        return float(gold_tokens == pred_tokens)
    common = collections.Counter(gold_tokens) & collections.Counter(pred_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def _gold_or_empty(golds):
    if isinstance(golds, str):
        golds = [golds]
    # As the official script: gold answers that normalize to nothing are
    # dropped, and a question left with none is scored against "".
    kept = [g for g in golds if normalize_answer(g)]
    return kept or [""]


def exact_match(golds, prediction):
    """1.0 if `prediction` equals any gold answer after normalization, else 0.0.

    `golds` is a list of answer texts (empty for an unanswerable question).
    """
    return max(_exact_one(g, prediction) for g in _gold_or_empty(golds))


def token_f1(golds, prediction):
    """Max over the gold answers of the bag-of-tokens F1 with `prediction`."""
    return max(_f1_one(g, prediction) for g in _gold_or_empty(golds))


def _best_threshold(predictions, scores, na_probs, has_answer):
    # Start from "everything predicted unanswerable", then admit questions
    # in increasing no-answer score order and keep the best running total.
    current = sum(1 for qid in has_answer if not has_answer[qid])
    best, best_threshold = current, 0.0
    for qid in sorted(na_probs, key=lambda k: na_probs[k]):
        if qid not in scores:
            continue
        if has_answer[qid]:
            current += scores[qid]
        elif predictions[qid]:
            current -= 1
        if current > best:
            best, best_threshold = current, na_probs[qid]
    return 100.0 * best / len(scores), best_threshold


def squad_evaluate(gold_answers, predictions, na_probs=None, na_prob_thresh=1.0):
    """Scores predictions as the official SQuAD v2.0 script (v1.1 is the special case).

    Args:
        gold_answers: {question id: list of gold answer texts}; an empty
            list marks an unanswerable question.
        predictions: {question id: predicted text}; "" means "no answer".
        na_probs: optional {question id: no-answer score}; higher = more
            likely unanswerable.
        na_prob_thresh: questions with `na_probs[qid] > na_prob_thresh`
            count as predicted unanswerable (the official default 1.0).

    Returns:
        dict with `exact`, `f1` (percent), `total`, the same for the
        `HasAns_` and `NoAns_` subsets where present, and with `na_probs`
        `best_exact`, `best_exact_thresh`, `best_f1`, `best_f1_thresh`.
    """
    missing = [qid for qid in gold_answers if qid not in predictions]
    if missing:
        raise ValueError(
            f"{len(missing)} questions have no prediction, e.g. {missing[:3]}; "
            "predict '' for questions the model finds unanswerable"
        )
    if not gold_answers:
        raise ValueError("gold_answers is empty: nothing to evaluate")
    na_probs_given = na_probs is not None
    if na_probs is None:
        na_probs = {qid: 0.0 for qid in gold_answers}
    has_answer = {qid: bool(golds) for qid, golds in gold_answers.items()}
    exact_raw = {qid: exact_match(g, predictions[qid]) for qid, g in gold_answers.items()}
    f1_raw = {qid: token_f1(g, predictions[qid]) for qid, g in gold_answers.items()}

    def thresholded(raw):
        return {
            qid: float(not has_answer[qid]) if na_probs[qid] > na_prob_thresh else score
            for qid, score in raw.items()
        }

    exact, f1 = thresholded(exact_raw), thresholded(f1_raw)

    def summary(qids, prefix=""):
        return {
            f"{prefix}exact": 100.0 * sum(exact[q] for q in qids) / len(qids),
            f"{prefix}f1": 100.0 * sum(f1[q] for q in qids) / len(qids),
            f"{prefix}total": len(qids),
        }

    result = summary(list(gold_answers))
    has_ids = [q for q in gold_answers if has_answer[q]]
    no_ids = [q for q in gold_answers if not has_answer[q]]
    if has_ids:
        result.update(summary(has_ids, "HasAns_"))
    if no_ids:
        result.update(summary(no_ids, "NoAns_"))
    if na_probs_given:
        result["best_exact"], result["best_exact_thresh"] = _best_threshold(
            predictions, exact_raw, na_probs, has_answer
        )
        result["best_f1"], result["best_f1_thresh"] = _best_threshold(
            predictions, f1_raw, na_probs, has_answer
        )
    return result


# --- Span decoding ---


@dataclasses.dataclass
class SpanPrediction:
    """The decoded answer of one question.

    Attributes:
        text: the answer, `context[start_char:end_char]`; "" = no answer.
        start_char, end_char: character span in the original context
            (-1, -1 for no answer).
        null_score_diff: null score minus best span score; the no-answer
            score that `squad_evaluate(na_probs=...)` takes.
        n_best: up to n candidates, best first, each a dict with `text`,
            `start_char`, `end_char`, `start_logit`, `end_logit`,
            `probability` (softmax over the candidates' summed logits).
    """

    text: str
    start_char: int
    end_char: int
    null_score_diff: float
    n_best: list


def _top_indices(logits, n):
    # Stable sort so that ties resolve to the earlier position, as the
    # original sorted(enumerate(...)).
    return np.argsort(-np.asarray(logits, dtype=np.float64), kind="stable")[:n].tolist()


def decode_span(
    context,
    windows,
    n_best_size=20,
    max_answer_length=30,
    version_2=True,
    null_score_diff_threshold=0.0,
):
    """Decodes one question's answer from the logits of its windows.

    Args:
        context: the original context string.
        windows: list of dicts, one per packed window of the question:
            `start_logits` [T], `end_logits` [T] floats; `offsets` [T, 2]
            ints, each token's [start, end) character span in `context`,
            negative where the token is not a context token (question,
            [CLS]/[SEP], padding); optional `max_context` [T] bools, true
            where this window is the one that sees the token with the most
            surrounding context (spans must start there, for doc-stride
            windows).
        n_best_size: start and end candidates per window, and n-best size.
        max_answer_length: longest answer in tokens.
        version_2: SQuAD 2.0 (allow "no answer") or 1.1 (always a span).
        null_score_diff_threshold: predict "" when
            `null_score - best_span_score` exceeds it (SQuAD 2.0).

    Returns:
        A `SpanPrediction`.
    """
    if not windows:
        raise ValueError("decode_span needs at least one window")
    if n_best_size < 1 or max_answer_length < 1:
        raise ValueError(
            f"n_best_size and max_answer_length must be >= 1, got {n_best_size}, {max_answer_length}"
        )
    candidates = []
    null_score, null_logits = None, None
    for index, window in enumerate(windows):
        start_logits = np.asarray(window["start_logits"], dtype=np.float64)
        end_logits = np.asarray(window["end_logits"], dtype=np.float64)
        offsets = np.asarray(window["offsets"], dtype=np.int64)
        if not (start_logits.shape == end_logits.shape == offsets.shape[:1]) or offsets.ndim != 2:
            raise ValueError(
                f"Window {index}: start_logits {start_logits.shape}, end_logits "
                f"{end_logits.shape} and offsets {offsets.shape} must be [T], [T], [T, 2]"
            )
        max_context = window.get("max_context")
        in_context = (offsets[:, 0] >= 0) & (offsets[:, 1] > offsets[:, 0])
        window_null = start_logits[0] + end_logits[0]
        if null_score is None or window_null < null_score:
            null_score, null_logits = window_null, (start_logits[0], end_logits[0])
        for start in _top_indices(start_logits, n_best_size):
            if not in_context[start]:
                continue
            if max_context is not None and not max_context[start]:
                continue
            for end in _top_indices(end_logits, n_best_size):
                if not in_context[end] or end < start or end - start + 1 > max_answer_length:
                    continue
                candidates.append(
                    (start_logits[start] + end_logits[end], start_logits[start],
                     end_logits[end], int(offsets[start, 0]), int(offsets[end, 1]))
                )
    candidates.sort(key=lambda c: -c[0])

    n_best, seen = [], set()
    for _, start_logit, end_logit, start_char, end_char in candidates:
        # Offsets of a SentencePiece token may include its leading space.
        while start_char < end_char and context[start_char].isspace():
            start_char += 1
        while end_char > start_char and context[end_char - 1].isspace():
            end_char -= 1
        text = context[start_char:end_char]
        if not text or text in seen:
            continue
        seen.add(text)
        n_best.append(
            {"text": text, "start_char": start_char, "end_char": end_char,
             "start_logit": float(start_logit), "end_logit": float(end_logit)}
        )
        if len(n_best) >= n_best_size:
            break
    best_span = n_best[0] if n_best else None
    if version_2 or not n_best:
        # The null answer competes in the n-best list (and is the only
        # candidate when no valid span exists).
        n_best.append(
            {"text": "", "start_char": -1, "end_char": -1,
             "start_logit": float(null_logits[0]), "end_logit": float(null_logits[1])}
        )
        n_best.sort(key=lambda c: -(c["start_logit"] + c["end_logit"]))
    totals = np.array([c["start_logit"] + c["end_logit"] for c in n_best])
    probabilities = np.exp(totals - totals.max())
    probabilities /= probabilities.sum()
    for candidate, probability in zip(n_best, probabilities):
        candidate["probability"] = float(probability)

    if best_span is None:
        return SpanPrediction("", -1, -1, float("inf"), n_best)
    null_score_diff = float(null_score - best_span["start_logit"] - best_span["end_logit"])
    if version_2 and null_score_diff > null_score_diff_threshold:
        return SpanPrediction("", -1, -1, null_score_diff, n_best)
    return SpanPrediction(
        best_span["text"], best_span["start_char"], best_span["end_char"], null_score_diff, n_best
    )

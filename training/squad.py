"""SQuAD span decoding, the official v1.1 / v2.0 answer metrics and two trivial baselines.

Metric semantics are those of the official SQuAD evaluation scripts
(`evaluate-v2.0.py`; `evaluate-v1.1.py` reports only EM and F1, which
equal v2.0's whenever every gold answer keeps a word after normalization):

* an answer is normalized by lowercasing, removing ASCII punctuation,
  removing the articles a/an/the and collapsing whitespace;
* EM and token F1 of a prediction are the max over its gold answers;
  gold answers that normalize to nothing are dropped and a question left
  without any (an unanswerable one) has the single gold answer "", so
  only a prediction that normalizes to "" scores 1 on it;
* `na_probs` (the model's no-answer score per question) and
  `na_prob_thresh`: a question whose score exceeds the threshold counts as
  predicted unanswerable; with `na_probs` given, the best threshold for EM
  and F1 is searched as the official script does (questions admitted in
  score order, ties in the order of `na_probs`).

Span decoding follows the original BERT/ALBERT `run_squad`: the n-best
start and end positions of every window, spans inside the context only,
starting on a token whose max-context window this is, `end >= start`, at
most `max_answer_length` tokens; the null score is
`start_logits[0] + end_logits[0]` (the [CLS] token), minimized over the
windows; SQuAD 2.0 predicts "" when `null - best_span > threshold`. Token
spans map back to character spans of the original context through the
per-token character offsets from the QA preprocessor.

Baselines: `no_answer_baseline` (always ""), `overlap_sentence_baseline`
(the context sentence sharing most words with the question).

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
    """Official SQuAD normalization: lowercase, no punctuation/articles, single spaces.

    Example:
    >>> normalize_answer("  The Eiffel-Tower, (Paris)! ")
    'eiffeltower paris'
    """
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

    Example:
    >>> exact_match(["Denver Broncos", "Broncos"], "the broncos"), exact_match([], "")
    (1.0, 1.0)
    """
    return max(_exact_one(g, prediction) for g in _gold_or_empty(golds))


def token_f1(golds, prediction):
    """Max over the gold answers of the bag-of-tokens F1 with `prediction`.

    Example:
    >>> round(token_f1(["Santa Clara, California"], "Santa Clara"), 3), token_f1([], "Santa Clara")
    (0.8, 0.0)
    """
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


def squad_evaluate(gold_answers, predictions, na_probs=None, na_prob_thresh=1.0, version_2=True):
    """Scores predictions as the official SQuAD evaluation scripts do.

    SQuAD 2.0 (`version_2=True`) returns what `evaluate-v2.0.py` prints;
    SQuAD 1.1 returns only the overall `exact` and `f1` (and `total`), the
    numbers of `evaluate-v1.1.py`: on data where every gold answer has a
    word left after normalization both scripts give the same EM and F1.

    Args:
        gold_answers: {question id: list of gold answer texts}; an empty
            list marks an unanswerable question.
        predictions: {question id: predicted text}; "" means "no answer".
            Ids absent from `gold_answers` are ignored, as the official
            script ignores them.
        na_probs: optional {question id: no-answer score} covering every
            gold id; higher = more likely unanswerable (SQuAD 2.0 only).
        na_prob_thresh: questions with `na_probs[qid] > na_prob_thresh`
            count as predicted unanswerable (the official default 1.0).
        version_2: SQuAD 2.0 report (HasAns / NoAns subsets, best
            thresholds) or the SQuAD 1.1 one.

    Returns:
        dict with `exact`, `f1` (percent) and `total`; for SQuAD 2.0 also
        the same three for the `HasAns_` and `NoAns_` subsets where
        present and, with `na_probs`, `best_exact`, `best_exact_thresh`,
        `best_f1`, `best_f1_thresh`.

    Raises:
        ValueError: no gold answers, a gold question without a prediction
            or without a no-answer score, or `na_probs` with SQuAD 1.1.

    Example:
    >>> gold = {"q1": ["Denver Broncos"], "q2": []}
    >>> out = squad_evaluate(gold, {"q1": "the Denver Broncos", "q2": "Carolina"},
    ...                      na_probs={"q1": 0.1, "q2": 0.7})
    >>> out["exact"], out["HasAns_exact"], out["NoAns_exact"], out["best_exact"], out["best_exact_thresh"]
    (50.0, 100.0, 0.0, 100.0, 0.1)
    >>> squad_evaluate({"q1": ["Denver Broncos"]}, {"q1": "Broncos"}, version_2=False)
    {'exact': 0.0, 'f1': 66.66666666666666, 'total': 1}
    """
    if not gold_answers:
        raise ValueError("gold_answers is empty: nothing to evaluate")
    missing = [qid for qid in gold_answers if qid not in predictions]
    if missing:
        raise ValueError(
            f"{len(missing)} questions have no prediction, e.g. {missing[:3]}; "
            "predict '' for questions the model finds unanswerable"
        )
    if na_probs is not None:
        if not version_2:
            raise ValueError("na_probs is a SQuAD 2.0 notion: pass version_2=True or no na_probs")
        unscored = [qid for qid in gold_answers if qid not in na_probs]
        if unscored:
            raise ValueError(f"{len(unscored)} questions have no na_probs entry, e.g. {unscored[:3]}")
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
    if not version_2:
        return result
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


# --- Trivial baselines ---

# A sentence ends at ., ! or ? followed by whitespace (the shipped contexts
# put a space before the stop as well: "in 1891 . The").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def no_answer_baseline(examples):
    """Predicts "no answer" for every question: the SQuAD 2.0 floor.

    Its EM and F1 are the share of unanswerable questions.

    Args:
        examples: objects with a `qid` (e.g. `training.data.readers.SquadExample`).

    Returns:
        {qid: ""}, ready for `squad_evaluate`.

    Example:
    >>> from types import SimpleNamespace as Question
    >>> no_answer_baseline([Question(qid="q1"), Question(qid="q2")])
    {'q1': '', 'q2': ''}
    """
    return {example.qid: "" for example in examples}


def overlap_sentence_baseline(examples):
    """Answers each question with the context sentence sharing most of its words.

    Words are compared after the official normalization (lowercase, no
    punctuation or articles), counted once each; a tie goes to the earlier
    sentence. It never predicts "no answer".

    Args:
        examples: objects with `qid`, `question` and `context` (e.g.
            `training.data.readers.SquadExample`).

    Returns:
        {qid: sentence text as it stands in the context}, ready for
        `squad_evaluate`.

    Example:
    >>> from types import SimpleNamespace as Question
    >>> context = "Paris is the capital. The Seine flows through Paris. It is long!"
    >>> overlap_sentence_baseline([Question(qid="q1", question="What flows through Paris?", context=context)])
    {'q1': 'The Seine flows through Paris.'}
    """
    predictions = {}
    for example in examples:
        question_words = set(normalize_answer(example.question).split())
        best, best_overlap = "", -1
        for sentence in _SENTENCE_END.split(example.context.strip()):
            overlap = len(question_words & set(normalize_answer(sentence).split()))
            if overlap > best_overlap:
                best, best_overlap = sentence, overlap
        predictions[example.qid] = best
    return predictions


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
        n_best: the n-best list as `run_squad` builds it: up to
            `n_best_size` distinct answers, best first, the null answer ""
            among them in SQuAD 2.0 (appended last when it ranks lower);
            each a dict with `text`, `start_char`, `end_char`,
            `start_logit`, `end_logit`, `probability` (softmax over the
            candidates' summed logits).
        span_text: the best span's text, also when the null answer wins
            ("" only when no valid span exists): the prediction that the
            official script thresholds on `null_score_diff`.
    """

    text: str
    start_char: int
    end_char: int
    null_score_diff: float
    n_best: list
    span_text: str = ""


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

    Raises:
        ValueError: no windows, logits and offsets of different lengths,
            or `n_best_size` / `max_answer_length` below 1.

    Example:
    >>> context = "Paris is in France."
    >>> # [CLS] where ? [SEP] Paris is in France. [SEP]
    >>> offsets = [(-1, -1)] * 4 + [(0, 5), (6, 8), (9, 11), (12, 19)] + [(-1, -1)]
    >>> window = {"start_logits": [1, 0, 0, 0, 0, 0, 0, 4, 0],
    ...           "end_logits": [1, 0, 0, 0, 0, 0, 0, 3, 0], "offsets": offsets}
    >>> out = decode_span(context, [window])
    >>> out.text, (out.start_char, out.end_char), out.null_score_diff
    ('France.', (12, 19), -5.0)
    >>> decode_span(context, [window], null_score_diff_threshold=-6.0).text
    ''
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
    if version_2:
        # As in run_squad, the null answer ranks among the spans (after any
        # span of equal score) and takes one of the n-best places.
        candidates.append((null_score, null_logits[0], null_logits[1], -1, -1))
    candidates.sort(key=lambda c: -c[0])

    n_best, seen, best_span = [], set(), None
    for _, start_logit, end_logit, start_char, end_char in candidates:
        if start_char >= 0:
            # A token's span may hold spaces (a piece's leading space in
            # hand-made offsets, a run the tokenizer collapsed); an answer
            # never starts or ends on one.
            while start_char < end_char and context[start_char].isspace():
                start_char += 1
            while end_char > start_char and context[end_char - 1].isspace():
                end_char -= 1
            if start_char == end_char:
                continue
        text = context[start_char:end_char] if start_char >= 0 else ""
        if text in seen:
            continue
        entry = {"text": text, "start_char": start_char, "end_char": end_char,
                 "start_logit": float(start_logit), "end_logit": float(end_logit)}
        if best_span is None and text:
            best_span = entry
        if len(n_best) < n_best_size:
            seen.add(text)
            n_best.append(entry)
        elif best_span is not None:
            break
    if "" not in seen and (version_2 or not n_best):
        # The null answer is always an n-best candidate in SQuAD 2.0, and
        # the only one when no valid span exists.
        n_best.append({"text": "", "start_char": -1, "end_char": -1,
                       "start_logit": float(null_logits[0]), "end_logit": float(null_logits[1])})
    totals = np.array([c["start_logit"] + c["end_logit"] for c in n_best])
    probabilities = np.exp(totals - totals.max())
    probabilities /= probabilities.sum()
    for candidate, probability in zip(n_best, probabilities):
        candidate["probability"] = float(probability)

    if best_span is None:
        return SpanPrediction("", -1, -1, float("inf"), n_best)
    null_score_diff = float(null_score - best_span["start_logit"] - best_span["end_logit"])
    if version_2 and null_score_diff > null_score_diff_threshold:
        return SpanPrediction("", -1, -1, null_score_diff, n_best, best_span["text"])
    return SpanPrediction(
        best_span["text"], best_span["start_char"], best_span["end_char"], null_score_diff, n_best,
        best_span["text"],
    )


def evaluate_decoded(gold_answers, decoded, version_2=True, null_score_diff_threshold=0.0):
    """Official SQuAD metrics of decoded answers, with the predictions that give them.

    SQuAD 2.0 is scored as the official script scores run_squad's output:
    each question's best span (`span_text`) is the prediction, its
    `null_score_diff` the no-answer score and `null_score_diff_threshold`
    the threshold, so `exact`, `f1` and the HasAns / NoAns subsets are those
    of the decoded answers (`text`), and `best_*` search every threshold,
    also above the one the answers were decoded with.

    Args:
        gold_answers: {question id: list of gold answer texts}, empty for
            an unanswerable question.
        decoded: {question id: `SpanPrediction`} from `decode_span`.
        version_2: SQuAD 2.0 or 1.1 (`squad_evaluate`).
        null_score_diff_threshold: the threshold `decode_span` used.

    Returns:
        `squad_evaluate`'s metrics plus `predictions` ({qid: text}) and,
        for SQuAD 2.0, `na_probs` ({qid: null_score_diff}, 1e30 where no
        span was valid) and `na_prob_thresh`: the official
        `evaluate-v2.0.py DATA predictions.json --na-prob-file na_probs.json
        --na-prob-thresh <na_prob_thresh>` reproduces the metrics. SQuAD 1.1
        predictions are the decoded answers.

    Example:
    >>> offsets = [(-1, -1)] * 3 + [(0, 5), (6, 8), (9, 11), (12, 18)] + [(-1, -1)]
    >>> window = {"start_logits": [3, 0, 0, 1, 0, 0, 2, 0],
    ...           "end_logits": [3, 0, 0, 1, 0, 0, 2, 0], "offsets": offsets}
    >>> decoded = {"q1": decode_span("Paris is in France", [window])}
    >>> decoded["q1"].text, decoded["q1"].span_text, decoded["q1"].null_score_diff
    ('', 'France', 2.0)
    >>> out = evaluate_decoded({"q1": ["France"]}, decoded)
    >>> out["exact"], out["best_exact"], out["best_exact_thresh"], out["predictions"]
    (0.0, 100.0, 2.0, {'q1': 'France'})
    """
    if not version_2:
        predictions = {qid: d.text for qid, d in decoded.items()}
        return dict(squad_evaluate(gold_answers, predictions, version_2=False), predictions=predictions)
    predictions = {qid: d.span_text for qid, d in decoded.items()}
    # JSON has no infinity: a question without a valid span gets a score
    # above any threshold.
    na_probs = {qid: min(d.null_score_diff, 1e30) for qid, d in decoded.items()}
    metrics = squad_evaluate(gold_answers, predictions, na_probs=na_probs, na_prob_thresh=null_score_diff_threshold)
    return dict(metrics, predictions=predictions, na_probs=na_probs, na_prob_thresh=null_score_diff_threshold)

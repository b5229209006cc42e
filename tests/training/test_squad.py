"""SQuAD metrics, span decoding and the trivial baselines.

Metrics: `squad_evaluate` is compared, number for number, with a port of
the official `evaluate-v2.0.py` / `evaluate-v1.1.py` scripts
(`tests.helpers.squad`) run on the same SQuAD JSON, plus hand-worked
cases. Decoding: hand-made windows, then the real document-stride windows
of `AlbertQAPreprocessor` over a long context, with logits that point at
the gold span.
"""

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import squad as official
from training import squad


def _squad_json(questions):
    """A SQuAD `data` list with one paragraph per (qid, gold answers) pair."""
    return [{"title": "fixture", "paragraphs": [
        {"context": "unused", "qas": [{"id": qid, "question": "?", "answers": [{"text": t, "answer_start": 0} for t in golds]}]}
        for qid, golds in questions
    ]}]


# qid: (gold answers, prediction, no-answer score); the scores repeat so
# that the threshold search meets ties.
OFFICIAL_FIXTURE = {
    "case": (["Denver Broncos"], "DENVER BRONCOS", 0.1),
    "punctuation": (["Santa Clara, California"], "Santa Clara California!", 0.3),
    "articles": (["the Eiffel Tower"], "an Eiffel Tower", 0.3),
    "whitespace": (["  New\tYork  City "], "New York\nCity", 0.5),
    "article_inside_word": (["theatre"], "atre", 0.3),
    "several_golds": (["February 7, 2016", "Feb 7", "7 February 2016"], "7 February", 0.5),
    "partial": (["an apple a day"], "apple day keeps", 0.7),
    "repeated_tokens": (["x x y"], "x x x", 0.1),
    "gold_of_only_an_article": (["The"], "", 0.5),
    "answerable_predicted_empty": (["1990s"], "", 0.9),
    "answerable_predicted_punctuation": (["1990s"], "!!", 0.7),
    "unanswerable_predicted_empty": ([], "", 0.9),
    "unanswerable_predicted_span": ([], "Levi's Stadium", 0.3),
    "unanswerable_predicted_article": ([], "the", 0.5),
    "unanswerable_predicted_space": ([], " ", 0.1),
    "unanswerable_predicted_empty_low": ([], "", 0.1),
}
DATA = _squad_json((qid, v[0]) for qid, v in OFFICIAL_FIXTURE.items())
GOLD = official.gold_answers(DATA)
# A prediction and a score for a question the data does not hold: both scripts ignore them.
PRED = dict({q: v[1] for q, v in OFFICIAL_FIXTURE.items()}, not_in_data="Paris")
NA_PROBS = dict({q: v[2] for q, v in OFFICIAL_FIXTURE.items()}, not_in_data=0.2)


@pytest.mark.parametrize("na_prob_thresh", [1.0, 0.5, 0.3, 0.1, 0.0, -1.0])
def test_squad_evaluate_equals_the_official_v2_script(na_prob_thresh):
    ours = squad.squad_evaluate(GOLD, PRED, na_probs=NA_PROBS, na_prob_thresh=na_prob_thresh)
    assert ours == official.official_v2(DATA, PRED, NA_PROBS, na_prob_thresh)
    assert {"HasAns_total", "NoAns_total", "best_exact_thresh", "best_f1_thresh"} <= set(ours)


def test_squad_evaluate_without_na_probs_equals_the_official_v2_script():
    ours = squad.squad_evaluate(GOLD, PRED)
    assert ours == official.official_v2(DATA, PRED)
    assert not any(key.startswith("best_") for key in ours)


def test_official_fixture_scores_worked_out_by_hand():
    ours = squad.squad_evaluate(GOLD, PRED, na_probs=NA_PROBS)
    # A gold answer that normalizes to nothing ("The") is scored against "",
    # yet its question still counts as answerable; "the" and " " predicted
    # for unanswerable questions are right (they normalize to "").
    exact = {q: squad.exact_match(GOLD[q], PRED[q]) for q in GOLD}
    assert [q for q, v in exact.items() if v] == [
        "case", "punctuation", "articles", "whitespace", "gold_of_only_an_article",
        "unanswerable_predicted_empty", "unanswerable_predicted_article",
        "unanswerable_predicted_space", "unanswerable_predicted_empty_low",
    ]
    # Max over the golds: "February 7, 2016" and "7 February 2016" give P 1, R 2/3; "Feb 7" 0.5.
    assert squad.token_f1(GOLD["several_golds"], "7 February") == pytest.approx(0.8)
    assert ours["HasAns_total"] == 11 and ours["NoAns_total"] == 5
    assert ours["exact"] == pytest.approx(100 * 9 / 16)
    # The threshold walk starts at 5 (every unanswerable question right)
    # and admits questions by score, ties in file order; "the" and " "
    # count there as answers given to unanswerable questions (-1 each),
    # although their EM is 1. Running total: 0.1: 6 5 5 (case, repeated,
    # space, empty_low), 0.3: 6 7 7 6, 0.5: 7 7 8 7, 0.7: 7 7, 0.9: 7 7;
    # the best, 8 of 16, is reached inside the 0.5 tie.
    assert (ours["best_exact"], ours["best_exact_thresh"]) == (50.0, 0.5)


def test_tied_no_answer_scores_follow_the_official_order():
    # Three questions share the score 0.3; the official walk admits them
    # one by one in the order of the na_probs file and may stop inside the
    # tie, so "best" depends on that order and can exceed what any
    # threshold gives (all three admitted: 2 of 3). Kept as the official.
    gold = {"a": ["x"], "b": [], "c": ["y"]}
    predictions = {"a": "x", "b": "z", "c": "y"}
    best = []
    for order in (["a", "b", "c"], ["b", "a", "c"], ["a", "c", "b"]):
        na_probs = {q: 0.3 for q in order}
        data = _squad_json((q, gold[q]) for q in order)
        ours = squad.squad_evaluate({q: gold[q] for q in order}, predictions, na_probs=na_probs)
        assert ours == official.official_v2(data, predictions, na_probs)
        best.append((ours["best_exact"], ours["best_exact_thresh"]))
    assert best == [(100 * 2 / 3, 0.3), (100 * 2 / 3, 0.3), (100.0, 0.3)]


def test_squad_evaluate_equals_the_official_v2_script_on_random_cases():
    rng = np.random.default_rng(7)
    words = ["The", "a", "cat", "Cat,", "sat", "on", "mat.", "an", "1990s", "x", "!", ""]

    def phrase(max_words):
        return " ".join(rng.choice(words, size=rng.integers(0, max_words + 1)))

    questions, predictions, na_probs = [], {}, {}
    for i in range(400):
        qid = f"q{i}"
        golds = [] if rng.random() < 0.3 else [phrase(4) for _ in range(rng.integers(1, 4))]
        questions.append((qid, golds))
        predictions[qid] = "" if rng.random() < 0.3 else phrase(4)
        na_probs[qid] = float(rng.integers(0, 10)) / 10  # ties on purpose
    data = _squad_json(questions)
    gold = official.gold_answers(data)
    for thresh in (1.0, 0.45, 0.0):
        assert squad.squad_evaluate(gold, predictions, na_probs, thresh) == official.official_v2(
            data, predictions, na_probs, thresh
        )
    assert squad.squad_evaluate(gold, predictions) == official.official_v2(data, predictions)


def test_squad_v1_report_equals_the_official_v1_script():
    answerable = [(q, g) for q, (g, _, _) in OFFICIAL_FIXTURE.items() if g and q != "gold_of_only_an_article"]
    data = _squad_json(answerable)
    ours = squad.squad_evaluate(official.gold_answers(data), PRED, version_2=False)
    v1 = official.official_v1(data, PRED)
    assert ours == {"exact": v1["exact_match"], "f1": v1["f1"], "total": len(answerable)}
    v2 = official.official_v2(data, PRED)
    assert (ours["exact"], ours["f1"]) == (v2["exact"], v2["f1"])


def test_squad_evaluate_errors_name_the_problem():
    gold = {"a": ["Paris"], "b": ["1889"]}
    with pytest.raises(ValueError, match="no prediction.*'b'"):
        squad.squad_evaluate(gold, {"a": "paris"})
    with pytest.raises(ValueError, match="no na_probs entry.*'b'"):
        squad.squad_evaluate(gold, {"a": "paris", "b": ""}, na_probs={"a": 0.0})
    with pytest.raises(ValueError, match="SQuAD 2.0 notion"):
        squad.squad_evaluate(gold, {"a": "paris", "b": ""}, na_probs={"a": 0.0, "b": 0.0}, version_2=False)
    with pytest.raises(ValueError, match="empty"):
        squad.squad_evaluate({}, {})


# qid: (gold answers, prediction, no-answer probability)
FIXTURE = {
    # EM 1, F1 1 (second gold only differs by an article).
    "q1": (["Denver Broncos", "the Denver Broncos"], "Denver Broncos", 0.1),
    # "the 1990s." normalizes to "1990s" = second gold: EM 1, F1 1.
    "q2": (["in 1990s", "1990s"], "the 1990s.", 0.2),
    # gold "santa clara california" vs "santa clara": P 1, R 2/3 -> F1 0.8, EM 0.
    "q3": (["Santa Clara, California"], "Santa Clara", 0.6),
    # unanswerable, predicted "": 1, 1.
    "q4": ([], "", 0.9),
    # unanswerable, predicted a span: 0, 0.
    "q5": ([], "Levi's Stadium", 0.3),
    # answerable, predicted "": 0, 0.
    "q6": (["February 7, 2016"], "", 0.8),
    # gold "apple day" vs "apple day keeps": P 2/3, R 1 -> F1 0.8, EM 0.
    "q7": (["an apple a day"], "apple day keeps", 0.4),
}
HAND_GOLD = {q: v[0] for q, v in FIXTURE.items()}
HAND_PRED = {q: v[1] for q, v in FIXTURE.items()}
HAND_NA_PROBS = {q: v[2] for q, v in FIXTURE.items()}


def test_normalization_and_single_scores():
    assert squad.normalize_answer("  The  Eiffel-Tower, (Paris)! ") == "eiffeltower paris"
    assert squad.normalize_answer("an apple a day") == "apple day"
    # articles only as whole words: "theatre" keeps its "the".
    assert squad.normalize_answer("Theatre") == "theatre"
    assert squad.exact_match([], "") == 1.0
    assert squad.token_f1([], "something") == 0.0
    assert squad.token_f1(["x b c"], "b c d") == pytest.approx(2 * (2 / 3) * (2 / 3) / (4 / 3))
    # Repeated tokens count with multiplicity (Counter intersection).
    assert squad.token_f1(["x x y"], "x x x") == pytest.approx(2 / 3)


def test_squad_evaluate_matches_hand_worked_numbers():
    out = squad.squad_evaluate(HAND_GOLD, HAND_PRED)
    assert out["total"] == 7 and out["HasAns_total"] == 5 and out["NoAns_total"] == 2
    assert out["exact"] == pytest.approx(100 * 3 / 7)
    assert out["f1"] == pytest.approx(100 * 4.6 / 7)
    assert out["HasAns_exact"] == pytest.approx(40.0)
    assert out["HasAns_f1"] == pytest.approx(72.0)
    assert out["NoAns_exact"] == pytest.approx(50.0) and out["NoAns_f1"] == pytest.approx(50.0)
    assert "best_f1" not in out


def test_squad_evaluate_with_no_answer_probabilities():
    out = squad.squad_evaluate(HAND_GOLD, HAND_PRED, na_probs=HAND_NA_PROBS, na_prob_thresh=0.5)
    # Above 0.5: q3 (has answer -> 0), q4 (no answer -> 1), q6 (has answer -> 0).
    assert out["exact"] == pytest.approx(100 * 3 / 7)
    assert out["f1"] == pytest.approx(100 * 3.8 / 7)
    # Best-threshold walk in na order q1 q2 q5 q7 q3 q6 q4, starting at 2
    # (all no-answer questions right): EM 3,4,3,3,3,3,3 -> 4 at 0.2;
    # F1 3,4,3,3.8,4.6,4.6,4.6 -> 4.6 first reached at 0.6.
    assert out["best_exact"] == pytest.approx(100 * 4 / 7)
    assert out["best_exact_thresh"] == pytest.approx(0.2)
    assert out["best_f1"] == pytest.approx(100 * 4.6 / 7)
    assert out["best_f1_thresh"] == pytest.approx(0.6)
    # The official default threshold 1.0 leaves the raw scores untouched.
    default = squad.squad_evaluate(HAND_GOLD, HAND_PRED, na_probs=HAND_NA_PROBS)
    assert default["exact"] == pytest.approx(100 * 3 / 7)


def test_squad_v1_reports_exact_and_f1_only():
    gold = {"a": ["Paris"], "b": ["1889"]}
    out = squad.squad_evaluate(gold, {"a": "paris", "b": "in 1889"}, version_2=False)
    assert out == {"exact": 50.0, "f1": pytest.approx(100 * (1 + 2 / 3) / 2), "total": 2}


CONTEXT = "The game was played at Levi's Stadium in 2016."


def _window(start_scores, end_scores, question_tokens=2):
    """[CLS] q.. [SEP] words of CONTEXT [SEP]; logits -5 except those given."""
    words, offsets, position = CONTEXT.split(" "), [], 0
    for word in words:
        start = CONTEXT.index(word, position)
        # SentencePiece pieces carry their leading space: include it.
        offsets.append((max(start - 1, 0) if start else 0, start + len(word)))
        position = start + len(word)
    offsets = [(-1, -1)] * (question_tokens + 2) + offsets + [(-1, -1)]
    length = len(offsets)
    start_logits, end_logits = np.full(length, -5.0), np.full(length, -5.0)
    for index, value in start_scores.items():
        start_logits[index] = value
    for index, value in end_scores.items():
        end_logits[index] = value
    return {"start_logits": start_logits, "end_logits": end_logits, "offsets": np.array(offsets)}


# Token indices: 0 [CLS], 1-2 question, 3 [SEP], 4 The, 5 game, 6 was,
# 7 played, 8 at, 9 Levi's, 10 Stadium, 11 in, 12 2016., 13 [SEP].


def test_decode_span_picks_best_valid_span_and_maps_characters():
    # The question tokens hold the highest logits but are never an answer.
    window = _window({1: 9.0, 9: 4.0, 11: 1.0}, {2: 9.0, 10: 3.0, 12: 2.0})
    out = squad.decode_span(CONTEXT, [window])
    assert out.text == "Levi's Stadium"
    assert CONTEXT[out.start_char:out.end_char] == "Levi's Stadium"
    # null = -5 + -5; best span = 4 + 3.
    assert out.null_score_diff == pytest.approx(-10.0 - 7.0)
    texts = [c["text"] for c in out.n_best]
    assert texts[:3] == ["Levi's Stadium", "Levi's Stadium in 2016.", "in 2016."]
    assert sum(c["probability"] for c in out.n_best) == pytest.approx(1.0)


def test_decode_span_respects_max_answer_length_and_order():
    # Best pair (4, 12) is 9 tokens, (4, 10) 7; with max 3 the next valid is (11, 12);
    # (11, 10) has end < start and is skipped.
    window = _window({4: 5.0, 11: 3.0}, {12: 5.0, 10: 4.5})
    assert squad.decode_span(CONTEXT, [window]).text == "The game was played at Levi's Stadium in 2016."
    assert squad.decode_span(CONTEXT, [window], max_answer_length=3).text == "in 2016."


def test_decode_span_null_threshold_squad2_and_v1():
    window = _window({0: 6.0, 9: 3.0}, {0: 6.0, 10: 3.0})
    out = squad.decode_span(CONTEXT, [window])
    # null 12 - span 6 = 6 > 0: unanswerable.
    assert (out.text, out.start_char, out.null_score_diff) == ("", -1, pytest.approx(6.0))
    assert out.n_best[0]["text"] == ""
    assert squad.decode_span(CONTEXT, [window], null_score_diff_threshold=7.0).text == "Levi's Stadium"
    assert squad.decode_span(CONTEXT, [window], version_2=False).text == "Levi's Stadium"


def test_decode_span_over_windows_uses_min_null_and_best_span():
    first = _window({0: 2.0, 5: 1.0}, {0: 2.0, 5: 1.0})
    second = _window({0: -1.0, 9: 2.0}, {0: -1.0, 10: 2.5})
    out = squad.decode_span(CONTEXT, [first, second])
    assert out.text == "Levi's Stadium"
    assert out.null_score_diff == pytest.approx(-2.0 - 4.5)
    # With max_context the second window may not start spans at token 9.
    second["max_context"] = np.arange(len(second["offsets"])) != 9
    assert squad.decode_span(CONTEXT, [first, second]).text == "game"


def test_decode_span_bad_input():
    window = _window({}, {})
    window["offsets"] = window["offsets"][:-1]
    with pytest.raises(ValueError, match=r"Window 0: .*must be \[T\], \[T\], \[T, 2\]"):
        squad.decode_span(CONTEXT, [window])
    with pytest.raises(ValueError, match="at least one window"):
        squad.decode_span(CONTEXT, [])


def test_decoded_predictions_score_through_squad_evaluate():
    windows = {
        "answerable": _window({9: 3.0}, {10: 3.0}),
        "unanswerable": _window({0: 5.0, 4: 1.0}, {0: 5.0, 4: 1.0}),
    }
    gold = {"answerable": ["Levi's Stadium"], "unanswerable": []}
    decoded = {q: squad.decode_span(CONTEXT, [w]) for q, w in windows.items()}
    predictions = {q: d.text for q, d in decoded.items()}
    na_probs = {q: d.null_score_diff for q, d in decoded.items()}
    out = squad.squad_evaluate(gold, predictions, na_probs=na_probs, na_prob_thresh=0.0)
    assert out["exact"] == 100.0 and out["f1"] == 100.0


def test_n_best_gives_the_null_answer_a_place_as_run_squad():
    # Spans: "Levi's Stadium" 7, "Levi's Stadium in 2016." 6, "in 2016." 3.
    spans = ({9: 4.0, 11: 1.0}, {10: 3.0, 12: 2.0})
    ranked_second = _window({0: 3.0, **spans[0]}, {0: 3.5, **spans[1]})
    out = squad.decode_span(CONTEXT, [ranked_second], n_best_size=2)
    assert [c["text"] for c in out.n_best] == ["Levi's Stadium", ""]
    ranked_last = _window({0: -3.0, **spans[0]}, {0: -3.0, **spans[1]})
    out = squad.decode_span(CONTEXT, [ranked_last], n_best_size=2)
    assert [c["text"] for c in out.n_best] == ["Levi's Stadium", "Levi's Stadium in 2016.", ""]
    # SQuAD 1.1 has no null candidate while a span exists.
    assert "" not in [c["text"] for c in squad.decode_span(CONTEXT, [ranked_second], version_2=False).n_best]


def test_evaluate_decoded_scores_as_the_official_script_on_run_squad_output():
    windows = {
        # Span 7 vs null -10: answered, right.
        "right": (_window({9: 4.0}, {10: 3.0}), ["Levi's Stadium"]),
        # Span 2 vs null 4: unanswered (diff 2), though the span is right.
        "shy": (_window({0: 2.0, 9: 1.0}, {0: 2.0, 10: 1.0}), ["Levi's Stadium"]),
        # Unanswerable, null 10 beats "The" 2: right.
        "unanswerable": (_window({0: 5.0, 4: 1.0}, {0: 5.0, 4: 1.0}), []),
    }
    decoded = {q: squad.decode_span(CONTEXT, [w]) for q, (w, _) in windows.items()}
    gold = {q: golds for q, (_, golds) in windows.items()}
    out = squad.evaluate_decoded(gold, decoded)
    assert out["predictions"] == {"right": "Levi's Stadium", "shy": "Levi's Stadium", "unanswerable": "The"}
    assert (out["na_probs"], out["na_prob_thresh"]) == ({"right": -17.0, "shy": 2.0, "unanswerable": 8.0}, 0.0)
    # exact / f1 are those of the decoded answers ...
    answers = {q: d.text for q, d in decoded.items()}
    assert answers == {"right": "Levi's Stadium", "shy": "", "unanswerable": ""}
    on_answers = squad.squad_evaluate(gold, answers)
    assert {k: out[k] for k in on_answers} == on_answers and out["exact"] == pytest.approx(200 / 3)
    # ... and best_* search every threshold, also above the decoding one:
    # admitting "shy" (2.0) makes all three right.
    assert (out["best_exact"], out["best_exact_thresh"]) == (100.0, 2.0)
    data = _squad_json(gold.items())
    official_out = official.official_v2(data, out["predictions"], out["na_probs"], out["na_prob_thresh"])
    assert {k: out[k] for k in official_out} == official_out
    # SQuAD 1.1: the decoded answers, no no-answer scores.
    v1 = squad.evaluate_decoded({"right": ["Levi's Stadium"]}, {"right": decoded["right"]}, version_2=False)
    assert v1 == {"exact": 100.0, "f1": 100.0, "total": 1, "predictions": {"right": "Levi's Stadium"}}


# --- Decoding across the real document-stride windows of a long context ---

NATO = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
        "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
        "uniform", "victor", "whiskey", "xray", "yankee", "zulu"]
# 78 sentences "word n." (246 pieces); with the 3-piece question: 14 windows
# of up to 42 context pieces, 16 apart.
LONG_CONTEXT = " ".join(f"{word} {i}." for i, word in enumerate(NATO * 3))


@pytest.fixture(scope="module")
def long_windows():
    """The windows of LONG_CONTEXT: offsets [T, 2] and max-context flags, zero logits."""
    from albert_tf.text import AlbertQAPreprocessor, AlbertTokenizer

    preprocessor = AlbertQAPreprocessor(AlbertTokenizer(), seq_length=48, max_question_length=8, doc_stride=16)
    out = {k: v.numpy() for k, v in preprocessor(tf.constant(["which word?"]), tf.constant([LONG_CONTEXT])).items()}
    assert out["example_index"].tolist() == [0] * 14
    return [
        {"offsets": np.stack([out["token_start_char"][w], out["token_end_char"][w]], axis=-1),
         "max_context": out["token_is_max_context"][w].astype(bool)}
        for w in range(14)
    ]


def _pointing_at(windows, answer, start_logit=5.0, end_logit=5.0):
    """Copies of `windows` whose logits point at `answer` wherever a window holds it whole.

    Returns the windows and the indices of those holding the answer.
    """
    start_char = LONG_CONTEXT.index(answer)
    end_char = start_char + len(answer)
    out, holders = [], []
    for index, window in enumerate(windows):
        length = len(window["offsets"])
        window = dict(window, start_logits=np.zeros(length), end_logits=np.zeros(length))
        starts = np.flatnonzero(window["offsets"][:, 0] == start_char)
        ends = np.flatnonzero(window["offsets"][:, 1] == end_char)
        if starts.size and ends.size:
            window["start_logits"][starts[0]] = start_logit
            window["end_logits"][ends[0]] = end_logit
            holders.append(index)
        out.append(window)
    return out, holders


@pytest.mark.parametrize("answer, expected_holders", [
    ("bravo 1.", [0]),                       # the first window only
    ("foxtrot 31. golf 32.", [4, 5, 6]),    # the middle, in three overlapping windows
    ("yankee 76. zulu 77.", [13]),          # the end: the last window only
])
def test_decode_span_finds_the_gold_answer_in_any_window(long_windows, answer, expected_holders):
    windows, holders = _pointing_at(long_windows, answer)
    assert holders == expected_holders
    out = squad.decode_span(LONG_CONTEXT, windows)
    start = LONG_CONTEXT.index(answer)
    assert (out.text, out.start_char, out.end_char) == (answer, start, start + len(answer))
    # Null (0 in every window) minus the best span (5 + 5).
    assert out.null_score_diff == pytest.approx(-10.0)
    assert squad.decode_span(LONG_CONTEXT, windows, version_2=False).text == answer


def test_max_context_rule_decides_between_overlapping_windows(long_windows):
    answer = "foxtrot 31. golf 32."
    windows, holders = _pointing_at(long_windows, answer)
    start_char = LONG_CONTEXT.index(answer)
    # Windows 4, 5, 6 hold the start token with 33 / 17 / 1 pieces before it
    # and 8 / 24 / 40 after, of 42: scores 8.42, 17.42, 1.42 -> window 5.
    best = [w for w in holders if windows[w]["max_context"][windows[w]["offsets"][:, 0] == start_char][0]]
    assert holders == [4, 5, 6] and best == [5]
    # The other windows, seeing the start with less context, are more
    # confident in a longer (wrong) span starting at the same token.
    for w in holders:
        if w != 5:
            start = np.flatnonzero(windows[w]["offsets"][:, 0] == start_char)[0]
            wrong_end = np.flatnonzero(windows[w]["end_logits"])[0] + 2
            windows[w]["start_logits"][start], windows[w]["end_logits"][wrong_end] = 8.0, 8.0
            wrong = LONG_CONTEXT[start_char:windows[w]["offsets"][wrong_end, 1]]
    assert squad.decode_span(LONG_CONTEXT, windows).text == answer
    without_rule = [{k: v for k, v in window.items() if k != "max_context"} for window in windows]
    assert squad.decode_span(LONG_CONTEXT, without_rule).text == wrong == "foxtrot 31. golf 32. hotel 33"


def test_null_score_is_the_minimum_over_windows_and_the_threshold_decides(long_windows):
    windows, _ = _pointing_at(long_windows, "yankee 76. zulu 77.", start_logit=2.0, end_logit=1.0)
    # [CLS] logits differ per window; the smallest sum (window 3: -1 + -2) is the null score.
    for index, window in enumerate(windows):
        window["start_logits"][0] = 6.0 - (3 if index == 3 else 0)
        window["end_logits"][0] = 6.0 - (8 if index == 3 else 0)
    out = squad.decode_span(LONG_CONTEXT, windows)
    assert out.null_score_diff == pytest.approx((3.0 - 2.0) - (2.0 + 1.0))
    assert out.text == "yankee 76. zulu 77."  # -2 <= threshold 0
    null = [c for c in out.n_best if c["text"] == ""]
    assert (null[0]["start_logit"], null[0]["end_logit"]) == (3.0, -2.0)
    assert squad.decode_span(LONG_CONTEXT, windows, null_score_diff_threshold=-2.01).text == ""
    # Strictly above the threshold predicts no answer: equal keeps the span.
    assert squad.decode_span(LONG_CONTEXT, windows, null_score_diff_threshold=-2.0).text == "yankee 76. zulu 77."
    # Without window 3's low null, the null (12) beats the span (3).
    del windows[3]
    high_null = squad.decode_span(LONG_CONTEXT, windows)
    assert (high_null.text, high_null.start_char, high_null.null_score_diff) == ("", -1, pytest.approx(9.0))
    assert squad.decode_span(LONG_CONTEXT, windows, version_2=False).text == "yankee 76. zulu 77."


# --- Trivial baselines ---


def test_overlap_sentence_baseline_picks_the_sentence_sharing_most_question_words():
    from training.data.readers import SquadExample

    # Whitespace-tokenized like the shipped Disfl-QA contexts.
    context = "Tesla moved to New York in 1884 . He worked for Edison there ! Did Edison pay him ? Yes ."
    examples = [
        # "edison" and "pay" (case and punctuation ignored) beat "edison" alone.
        SquadExample("pay", "Did EDISON pay Tesla?", context, []),
        # One shared word each ("tesla" / "he" not shared): the earlier sentence wins the tie.
        SquadExample("tie", "Tesla or Edison?", context, []),
        # Articles do not count as shared words.
        SquadExample("articles", "the a an", "The end . A start .", []),
        SquadExample("empty", "Why?", "", []),
    ]
    assert squad.overlap_sentence_baseline(examples) == {
        "pay": "Did Edison pay him ?",
        "tie": "Tesla moved to New York in 1884 .",
        "articles": "The end .",
        "empty": "",
    }


def test_baselines_on_disfl_qa_score_as_their_definition_says():
    from training.data import readers

    test = readers.disfl_qa("test")
    gold = {e.qid: e.gold_texts for e in test}
    no_answer = squad.squad_evaluate(gold, squad.no_answer_baseline(test))
    unanswerable = sum(e.is_impossible for e in test)
    assert (no_answer["total"], no_answer["NoAns_total"]) == (752, unanswerable)
    assert no_answer["exact"] == no_answer["f1"] == 100.0 * unanswerable / 752
    assert (no_answer["HasAns_f1"], no_answer["NoAns_exact"]) == (0.0, 100.0)
    overlap = squad.squad_evaluate(gold, squad.overlap_sentence_baseline(test))
    # Always a sentence: every unanswerable question is wrong; a whole
    # sentence rarely equals an answer but often contains it.
    assert overlap["NoAns_exact"] == 0.0
    assert overlap["HasAns_exact"] < 5.0 < overlap["HasAns_f1"]

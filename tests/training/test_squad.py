"""SQuAD metrics and span decoding on hand-made cases.

The fixture's expected numbers are worked out by hand from the official
SQuAD v2.0 evaluation script's definitions (normalization, max over gold
answers, no-answer threshold, best-threshold search); see the comments.
"""

import numpy as np
import pytest

from training import squad

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
GOLD = {q: v[0] for q, v in FIXTURE.items()}
PRED = {q: v[1] for q, v in FIXTURE.items()}
NA_PROBS = {q: v[2] for q, v in FIXTURE.items()}


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


def test_squad_evaluate_matches_official_definitions():
    out = squad.squad_evaluate(GOLD, PRED)
    assert out["total"] == 7 and out["HasAns_total"] == 5 and out["NoAns_total"] == 2
    assert out["exact"] == pytest.approx(100 * 3 / 7)
    assert out["f1"] == pytest.approx(100 * 4.6 / 7)
    assert out["HasAns_exact"] == pytest.approx(40.0)
    assert out["HasAns_f1"] == pytest.approx(72.0)
    assert out["NoAns_exact"] == pytest.approx(50.0) and out["NoAns_f1"] == pytest.approx(50.0)
    assert "best_f1" not in out


def test_squad_evaluate_with_no_answer_probabilities():
    out = squad.squad_evaluate(GOLD, PRED, na_probs=NA_PROBS, na_prob_thresh=0.5)
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
    default = squad.squad_evaluate(GOLD, PRED, na_probs=NA_PROBS)
    assert default["exact"] == pytest.approx(100 * 3 / 7)


def test_squad_v1_has_no_noans_section_and_missing_prediction_raises():
    gold = {"a": ["Paris"], "b": ["1889"]}
    out = squad.squad_evaluate(gold, {"a": "paris", "b": "in 1889"})
    assert out["exact"] == 50.0 and out["f1"] == pytest.approx(100 * (1 + 2 / 3) / 2)
    assert "NoAns_total" not in out
    with pytest.raises(ValueError, match="no prediction.*'b'"):
        squad.squad_evaluate(gold, {"a": "paris"})


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

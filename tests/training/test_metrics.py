"""training.metrics against scikit-learn / SciPy on random fixtures, and
entity F1 on hand-made BIO cases with seqeval's (conlleval) semantics."""

import numpy as np
import pytest
import scipy.stats
import sklearn.metrics

from training import metrics


@pytest.fixture(params=range(5))
def rng(request):
    return np.random.default_rng(request.param)


def test_classification_metrics_equal_sklearn(rng):
    for num_classes in (2, 3, 5):
        y_true = rng.integers(0, num_classes, size=200)
        y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, num_classes, size=200))
        assert metrics.accuracy(y_true, y_pred) == pytest.approx(
            sklearn.metrics.accuracy_score(y_true, y_pred), abs=1e-12)
        assert metrics.matthews_corrcoef(y_true, y_pred) == pytest.approx(
            sklearn.metrics.matthews_corrcoef(y_true, y_pred), abs=1e-12)
        assert metrics.f1_score(y_true, y_pred, average="macro") == pytest.approx(
            sklearn.metrics.f1_score(y_true, y_pred, average="macro"), abs=1e-12)
        assert metrics.f1_score(y_true, y_pred, average="micro") == pytest.approx(
            sklearn.metrics.f1_score(y_true, y_pred, average="micro"), abs=1e-12)
        np.testing.assert_array_equal(
            metrics.confusion_matrix(y_true, y_pred, labels=range(num_classes)),
            sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(num_classes)))
        if num_classes == 2:
            assert metrics.f1_score(y_true, y_pred) == pytest.approx(
                sklearn.metrics.f1_score(y_true, y_pred), abs=1e-12)


def test_degenerate_cases_equal_sklearn():
    import warnings

    warnings.simplefilter("ignore")
    constant = np.zeros(10, int)
    y_true = np.array([0, 1] * 5)
    assert metrics.matthews_corrcoef(y_true, constant) == sklearn.metrics.matthews_corrcoef(y_true, constant) == 0.0
    assert metrics.f1_score(y_true, constant) == sklearn.metrics.f1_score(y_true, constant) == 0.0
    # A class never predicted nor present in `labels` still counts in the macro mean.
    labels = [0, 1, 2]
    assert metrics.f1_score(y_true, y_true, average="macro", labels=labels) == pytest.approx(
        sklearn.metrics.f1_score(y_true, y_true, average="macro", labels=labels))


def test_correlations_equal_scipy(rng):
    x = rng.normal(size=100)
    y = 0.5 * x + rng.normal(size=100)
    assert metrics.pearson(x, y) == pytest.approx(scipy.stats.pearsonr(x, y)[0], abs=1e-12)
    assert metrics.spearman(x, y) == pytest.approx(scipy.stats.spearmanr(x, y)[0], abs=1e-12)
    # Ties: GLUE STS-B labels are on a coarse grid.
    xt, yt = np.round(x * 2) / 2, np.round(y)
    assert metrics.spearman(xt, yt) == pytest.approx(scipy.stats.spearmanr(xt, yt)[0], abs=1e-12)
    out = metrics.regression_metrics(x, y)
    assert out["mse"] == pytest.approx(sklearn.metrics.mean_squared_error(x, y))


def test_bad_input_raises():
    with pytest.raises(ValueError, match="differ in length"):
        metrics.accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="Unknown average"):
        metrics.f1_score([0, 1], [0, 1], average="weighted")
    with pytest.raises(ValueError, match="average='binary' needs at most two classes"):
        metrics.f1_score([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="empty"):
        metrics.accuracy([], [])


def test_get_entities_bio_iobes_and_lenient_cases():
    assert metrics.get_entities(["B-PER", "I-PER", "O", "B-LOC"]) == [("PER", 0, 1), ("LOC", 3, 3)]
    # conlleval leniency: a dangling I- starts a chunk; a type change splits one.
    assert metrics.get_entities(["O", "I-PER", "I-PER", "I-LOC"]) == [("PER", 1, 2), ("LOC", 3, 3)]
    assert metrics.get_entities(["B-PER", "B-PER"]) == [("PER", 0, 0), ("PER", 1, 1)]
    assert metrics.get_entities(["S-PER", "B-LOC", "I-LOC", "E-LOC", "O"]) == [("PER", 0, 0), ("LOC", 1, 3)]
    with pytest.raises(ValueError, match="Unknown tag 'X-PER' at position 1"):
        metrics.get_entities(["O", "X-PER"])


def test_entity_f1_counts_exact_entity_matches():
    truth = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-MISC", "I-MISC"]]
    pred = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "O", "B-MISC", "O"]]
    # true entities: PER, LOC, ORG, MISC(2-3); predicted: PER, ORG, MISC(2-2).
    out = metrics.entity_f1(truth, pred)
    assert out["precision"] == pytest.approx(2 / 3)
    assert out["recall"] == pytest.approx(2 / 4)
    assert out["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert out["per_type"]["PER"]["f1"] == 1.0
    assert out["per_type"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert out["per_type"]["MISC"]["f1"] == 0.0
    with pytest.raises(ValueError, match="Sentence 0: 4 true tags but 3 predicted"):
        metrics.entity_f1([truth[0]], [pred[0][:3]])


def test_ranking_metrics_equal_hand_computed_values():
    # q1 ranks [0, 1, 1] (AP = (1/2 + 2/3) / 2, RR = 1/2, P@1 = 0), q2 ranks [1, 0]
    # (AP = RR = P@1 = 1); q3 has no relevant sentence and is skipped.
    queries = ["q1", "q1", "q1", "q2", "q2", "q3"]
    labels = [0, 1, 1, 1, 0, 0]
    scores = [0.9, 0.8, 0.1, 0.7, 0.2, 0.5]
    assert metrics.mean_average_precision(queries, labels, scores) == pytest.approx((7 / 12 + 1) / 2)
    assert metrics.mean_reciprocal_rank(queries, labels, scores) == pytest.approx(0.75)
    assert metrics.precision_at_k(queries, labels, scores, k=1) == pytest.approx(0.5)
    assert metrics.precision_at_k(queries, labels, scores, k=2) == pytest.approx((1 / 2 + 1 / 2) / 2)
    # Ties keep input order; a query's items need not be contiguous.
    assert metrics.mean_reciprocal_rank([1, 2, 1], [0, 1, 1], [0.5, 0.0, 0.5]) == pytest.approx((1 / 2 + 1) / 2)
    assert metrics.mean_average_precision([7, 7, 7, 7], [1, 0, 1, 0], [0.1, 0.2, 0.3, 0.4]) == pytest.approx(
        (1 / 2 + 2 / 4) / 2)


def test_ranking_metric_errors_are_named():
    with pytest.raises(ValueError, match="No query has a relevant item"):
        metrics.mean_reciprocal_rank(["q"], [0], [1.0])
    with pytest.raises(ValueError, match="query_ids and labels differ in length"):
        metrics.mean_average_precision(["q"], [1, 0], [1.0, 0.0])
    with pytest.raises(ValueError, match="k must be >= 1"):
        metrics.precision_at_k(["q"], [1], [1.0], k=0)

"""The comparison's verdicts: who won at a budget, by how much, and whether that is told apart
from zero; and the columns a method's encoded rows really use."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from chromatic_learning._compare import nonempty_columns, paired_interval, paired_winner
from chromatic_learning.cli._reports import winner_text


def test_a_clear_winner_leads_the_runner_up_by_the_paired_mean():
    rng = np.random.default_rng(0)
    shared = rng.exponential(0.5, size=2_000)  # what every method pays on a row
    losses = {
        "first": shared + 0.05 + rng.normal(0, 0.01, size=2_000),
        "second": shared + rng.normal(0, 0.01, size=2_000),
        "third": shared + 0.2,
    }
    verdict = paired_winner(losses)
    assert (verdict["winner"], verdict["runner_up"]) == ("second", "first")
    assert verdict["difference"] == pytest.approx(losses["first"].mean() - losses["second"].mean())
    assert 0 < verdict["low"] < verdict["difference"] < verdict["high"]
    assert verdict["difference"] == pytest.approx(0.05, abs=0.002)
    assert verdict["distinguishable"] is True
    # Paired: the shared row costs (standard deviation 0.5) do not widen the interval.
    assert verdict["high"] - verdict["low"] < 0.002


def test_the_verdict_does_not_depend_on_the_order_the_methods_are_named():
    rng = np.random.default_rng(1)
    better, worse = rng.random(500), rng.random(500) + 0.3
    forward = paired_winner({"better": better, "worse": worse})
    backward = paired_winner({"worse": worse, "better": better})
    assert forward == backward
    assert forward["winner"] == "better" and forward["difference"] > 0


def test_a_tie_whose_interval_contains_zero_is_not_distinguishable():
    rng = np.random.default_rng(2)
    base = rng.random(400)
    swing = rng.normal(0, 0.1, size=200)
    # Differences that cancel but for a lead far inside the noise.
    a = base + np.concatenate([swing, -swing]) + 1e-4
    verdict = paired_winner({"a": a, "b": base})
    assert (verdict["winner"], verdict["runner_up"]) == ("b", "a")
    assert verdict["low"] < 0 < verdict["high"]
    assert verdict["difference"] == pytest.approx(1e-4)
    assert verdict["distinguishable"] is False


def test_equal_losses_go_to_the_method_named_first_and_are_not_distinguishable():
    same = np.linspace(0.1, 1.0, 50)
    verdict = paired_winner({"x": same, "y": same.copy()})
    assert (verdict["winner"], verdict["runner_up"]) == ("x", "y")
    assert verdict["difference"] == verdict["low"] == verdict["high"] == 0
    assert verdict["distinguishable"] is False


def test_the_interval_is_the_normal_one_of_the_paired_differences():
    a = np.array([0.9, 0.4, 0.7, 0.8])
    b = np.array([0.5, 0.3, 0.4, 0.6])
    d = a - b
    half = 1.96 * d.std(ddof=1) / 2
    assert paired_interval(a, b) == pytest.approx((d.mean(), d.mean() - half, d.mean() + half))
    verdict = paired_winner({"a": a, "b": b})
    assert (verdict["low"], verdict["high"]) == pytest.approx((d.mean() - half, d.mean() + half))


@pytest.mark.parametrize(
    ("losses", "message"),
    [
        ({"only": np.ones(5)}, "two methods"),
        ({"a": np.ones(5), "b": np.ones(4)}, "same rows"),
        ({"a": np.ones(1), "b": np.zeros(1)}, "two rows"),
    ],
)
def test_a_verdict_needs_two_methods_on_the_same_rows(losses, message):
    with pytest.raises(ValueError, match=message):
        paired_winner(losses)


def test_winner_text_claims_a_win_only_when_the_interval_excludes_zero():
    won = {
        "budget": 256,
        "winner": "CL+SFC",
        "runner_up": "frequency",
        "difference": 0.0123,
        "low": 0.0101,
        "high": 0.0145,
        "distinguishable": True,
    }
    assert winner_text(won) == (
        "budget 256: CL+SFC wins, by 0.0123 log loss per test row over frequency "
        "(paired 95% interval 0.0101 to 0.0145)"
    )
    tied = {**won, "low": -0.0020, "high": 0.0266, "distinguishable": False}
    assert winner_text(tied) == (
        "budget 256: CL+SFC and frequency are not distinguishable (CL+SFC lower by 0.0123 log "
        "loss per test row, paired 95% interval -0.0020 to 0.0266)"
    )
    # A narrow interval gets the decimals that keep its low end from reading as zero.
    narrow = {**won, "difference": 0.000102, "low": 0.0000025, "high": 0.000202}
    assert "by 0.000102 log loss" in winner_text(narrow)
    assert "interval 0.000003 to 0.000202" in winner_text(narrow)


def test_nonempty_columns_counts_columns_with_a_non_zero_value():
    Z = sp.csr_matrix(([1.0, 0.0, -1.0], ([0, 1, 1], [0, 2, 4])), shape=(2, 6))
    assert Z.nnz == 3  # the zero at column 2 is stored, as signed hashes can leave one
    assert nonempty_columns(Z) == 2
    assert nonempty_columns(Z.tocsc()) == 2
    assert nonempty_columns(Z.toarray()) == 2
    assert nonempty_columns(sp.csr_matrix((3, 4))) == 0

"""scikit-learn conventions: the full estimator check suite and use inside a pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.estimator_checks import parametrize_with_checks

from chromatic_learning import (
    ChromaticCompressor,
    ChromaticEncoder,
    FrequencyEncoder,
    HashingEncoder,
    SubmodularCompressor,
)

from conftest import load_dataset

# Every estimator of the package, with small settings so that the whole check suite runs in
# seconds (``n_jobs=1``: the machine running the suite is shared).
ESTIMATORS = [
    ChromaticEncoder(n_jobs=1),
    ChromaticEncoder(output="onehot", strategy="dsatur", n_jobs=1),
    ChromaticCompressor(budget=8, n_frequent=2, n_jobs=1),
    ChromaticCompressor(budget=8, n_frequent=0, sparse_output=False, n_jobs=1),
    SubmodularCompressor(budget=8, n_jobs=1),
    HashingEncoder(n_features=16, n_jobs=1),
    HashingEncoder(n_features=5, alternate_sign=False, n_jobs=1),
    FrequencyEncoder(n_features=8),
    FrequencyEncoder(n_features=1),
]

# Checks known to fail, with the reason, per estimator class. Run in strict mode: a check listed
# here that passes fails the suite, so an entry must be removed as soon as its cause is fixed.
#
# SubmodularCompressor reads integer codes (0 = absent; the output of ChromaticEncoder), and the
# checks below fit it on continuous floats (rng.uniform, rng.normal, iris): check_codes refuses
# them with "codes must be whole numbers" before the check gets to what it tests. Rounding or
# binning floats silently would make up codes, so the contract stays.
_CONTINUOUS_X = (
    "fits on continuous floats; the input is non-negative integer codes, and non-whole values "
    "are refused ('codes must be whole numbers')"
)

EXPECTED_FAILED_CHECKS = {
    SubmodularCompressor: {
        **dict.fromkeys(
            [
                "check_fit_score_takes_y",
                "check_estimators_overwrite_params",
                "check_dont_overwrite_parameters",
                "check_estimators_fit_returns_self",
                "check_readonly_memmap_input",
                "check_n_features_in_after_fitting",
                "check_estimators_dtypes",
                "check_pipeline_consistency",
                "check_estimators_pickle",
                "check_f_contiguous_array_estimator",
                "check_transformer_data_not_an_array",
                "check_transformer_general",
                "check_methods_sample_order_invariance",
                "check_methods_subset_invariance",
                "check_dict_unchanged",
                "check_fit_idempotent",
                "check_fit_check_is_fitted",
                "check_n_features_in",
                "check_fit2d_predict1d",
            ],
            _CONTINUOUS_X,
        ),
        "check_dtype_object": (
            "fits on an object array of continuous floats; codes must be integers (an object "
            "array is refused: 'codes must be integers, got dtype object')"
        ),
        "check_estimators_nan_inf": (
            "NaN and inf are refused ('Input contains NaN'), but the check then fits on "
            "continuous floats, refused as non-whole codes"
        ),
        "check_positive_only_tag_during_fit": (
            "the positive_only tag is set (codes are >= 0), so the check expects 'Negative "
            "values in data'; its input, iris minus its mean, is refused first as non-whole codes"
        ),
        "check_fit2d_1feature": (
            "one column of continuous floats is refused as non-whole codes, where the check "
            "expects a fit or a message about 1 feature"
        ),
    },
}


def expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator), {})


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.slow
def test_pipeline_with_logistic_regression():
    X, y, _ = load_dataset("flights_small")
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    model = make_pipeline(
        ChromaticEncoder(),
        OneHotEncoder(handle_unknown="ignore"),
        # Coordinate descent on the sparse one-hot columns: it converges where lbfgs stops at
        # its iteration limit.
        LogisticRegression(solver="liblinear"),
    ).fit(X_train, y_train)
    proba = model.predict_proba(X_test)[:, 1]
    assert proba.shape == (X_test.shape[0],)
    # Better than predicting the base rate: the codes carry the signal of the raw features.
    base = y_train.mean()
    base_loss = -np.mean(y_test * np.log(base) + (1 - y_test) * np.log(1 - base))
    loss = -np.mean(y_test * np.log(proba) + (1 - y_test) * np.log(1 - proba))
    assert loss < base_loss - 0.01


class CountedEncoder(ChromaticEncoder):
    """A ChromaticEncoder that counts its fits (module level, so that joblib can hash it)."""

    fits = 0

    def fit(self, X, y=None):
        CountedEncoder.fits += 1
        return super().fit(X, y)

    def fit_transform(self, X, y=None, **fit_params):
        CountedEncoder.fits += 1
        return super().fit_transform(X, y, **fit_params)


def test_grid_search_over_the_budget_reuses_the_coloring(tmp_path):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    from chromatic_learning import make_onehot_zipf

    X = make_onehot_zipf(3_000, 400, 5, random_state=0)
    y = (np.asarray(X[:, :40].sum(axis=1)).ravel() > 0).astype(int)

    def search(memory):
        CountedEncoder.fits = 0
        pipeline = Pipeline(
            [
                ("colors", CountedEncoder(random_state=0, n_jobs=1)),
                ("buckets", SubmodularCompressor(budget=8, random_state=0, n_jobs=1)),
                ("model", LogisticRegression(max_iter=200)),
            ],
            memory=memory,
        )
        grid = GridSearchCV(pipeline, {"buckets__budget": [8, 16, 32]}, cv=3)
        return grid.fit(X, y), CountedEncoder.fits

    cached, cached_fits = search(str(tmp_path))
    plain, plain_fits = search(None)
    # Without a cache: a coloring for every budget in every fold, and the refit. With one: a
    # coloring per fold, and one for the refit on all rows.
    assert plain_fits == 3 * 3 + 1
    assert cached_fits == 3 + 1
    assert cached.best_params_ == plain.best_params_
    np.testing.assert_allclose(
        cached.cv_results_["mean_test_score"], plain.cv_results_["mean_test_score"]
    )

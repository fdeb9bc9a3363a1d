"""scikit-learn conventions: the full estimator check suite and use inside a pipeline."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.estimator_checks import parametrize_with_checks

from chromatic import ChromaticEncoder

from conftest import load_dataset


def expected_failed_checks(estimator):
    return {
        "check_dict_unchanged": (
            "transform records last_collisions_ and last_unseen_, the collision and unseen-feature "
            "counts of the last call, by design"
        ),
    }


@parametrize_with_checks(
    [ChromaticEncoder(), ChromaticEncoder(output="onehot", strategy="dsatur")],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_pipeline_with_logistic_regression():
    X, y, _ = load_dataset("flights_small")
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    model = make_pipeline(
        ChromaticEncoder(),
        OneHotEncoder(handle_unknown="ignore"),
        LogisticRegression(max_iter=200),
    ).fit(X_train, y_train)
    proba = model.predict_proba(X_test)[:, 1]
    assert proba.shape == (X_test.shape[0],)
    # Better than predicting the base rate: the codes carry the signal of the raw features.
    base = y_train.mean()
    base_loss = -np.mean(y_test * np.log(base) + (1 - y_test) * np.log(1 - base))
    loss = -np.mean(y_test * np.log(proba) + (1 - y_test) * np.log(1 - proba))
    assert loss < base_loss - 0.01

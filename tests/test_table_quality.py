"""What a model learns from a raw table through chromatic, against the peers on the same tokens.

On real flights (``../shared/data/flights/flights-3m.parquet``: date, delay, distance, origin,
destination), the target a departure over 15 minutes late: ``ChromaticCompressor(budget=1024)``
on the raw columns against ``FeatureHasher`` and frequency truncation at the same width, and
against ``OneHotEncoder`` on every value, each followed by the same logistic regression. The
comparisons are paired per test row, with 95% intervals.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction import FeatureHasher
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

from chromatic_learning import ChromaticCompressor, FrequencyEncoder

from conftest import DATA_DIR, require_data

# Slow: a model trained on the flights table for each method.
pytestmark = pytest.mark.slow

pq = pytest.importorskip("pyarrow.parquet")

FLIGHTS = DATA_DIR / "flights" / "flights-3m.parquet"
N_ROWS = 400_000


def _row_losses(Z_train, y_train, Z_test, y_test) -> np.ndarray:
    model = LogisticRegression(max_iter=1000).fit(Z_train, y_train)
    p = np.clip(model.predict_proba(Z_test)[:, 1], 1e-15, 1 - 1e-15)
    return -(y_test * np.log(p) + (1 - y_test) * np.log(1 - p))


def _tokens(frame) -> list:
    """``column=value`` strings of every row: the tokens a hashing user feeds FeatureHasher."""
    columns = [name + "=" + frame[name].astype(str) for name in frame.columns]
    return [list(row) for row in zip(*columns, strict=True)]


def test_compression_of_raw_columns_is_no_worse_than_the_peers_on_flights():
    require_data(FLIGHTS)
    table = pq.read_table(FLIGHTS)
    rows = np.sort(np.random.default_rng(0).choice(table.num_rows, N_ROWS, replace=False))
    table = table.take(rows)
    y = (table.column("delay").to_numpy() > 15).astype(np.int64)
    X = table.drop_columns(["delay"])
    cut = int(0.8 * N_ROWS)
    train, test, y_train, y_test = X.slice(0, cut), X.slice(cut), y[:cut], y[cut:]

    losses = {}
    compressor = ChromaticCompressor(budget=1024, random_state=0)
    Z_train = compressor.fit_transform(train, y_train)
    assert Z_train.shape[1] <= 1024
    losses["CL+SFC"] = _row_losses(Z_train, y_train, compressor.transform(test), y_test)

    frequency = FrequencyEncoder(n_features=1024).fit(train)
    losses["frequency"] = _row_losses(
        frequency.transform(train), y_train, frequency.transform(test), y_test
    )
    frame_train, frame_test = train.to_pandas(), test.to_pandas()
    hasher = FeatureHasher(n_features=1024, input_type="string")
    losses["hashing"] = _row_losses(
        hasher.transform(_tokens(frame_train)),
        y_train,
        hasher.transform(_tokens(frame_test)),
        y_test,
    )
    onehot = OneHotEncoder(handle_unknown="ignore").fit(frame_train.astype(str))
    losses["one-hot"] = _row_losses(
        onehot.transform(frame_train.astype(str)),
        y_train,
        onehot.transform(frame_test.astype(str)),
        y_test,
    )

    means = {name: float(loss.mean()) for name, loss in losses.items()}
    best_peer = min(("hashing", "frequency"), key=means.get)
    for peer in (best_peer, "one-hot"):
        difference = losses["CL+SFC"] - losses[peer]
        half_width = 1.96 * difference.std(ddof=1) / np.sqrt(len(difference))
        # No worse: the interval of the paired difference reaches zero or below.
        assert difference.mean() - half_width <= 0, (peer, means)

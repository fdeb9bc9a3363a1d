"""Tables given to the estimators: their columns read as ``column=value`` features.

A pandas or polars DataFrame, or a pyarrow Table or RecordBatch, is always a table: each
estimator reads it through a ``TableEncoder`` (its ``table`` parameter, or one with the default
settings), which it keeps as ``table_encoder_``. The estimator's ``n_features_in_`` and
``feature_names_in_`` are then the table's columns read, and the features it colors, hashes or
counts are the encoder's ``column=value`` features, named by them. A matrix keeps its meaning
(any non-zero is its column's feature).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import _check_feature_names_in

from ._columns import TableFeatures, arrow_table
from ._input import validated_sparse_input
from ._table_encoder import TableEncoder, set_features


def feature_rows(estimator, X, *, reset: bool):
    """Return ``X`` as the binary rows ``estimator`` reads: a table's features, or a matrix.

    With ``reset`` (in fit), a table fits the estimator's table encoder and sets the input
    attributes to its columns; a matrix drops any encoder a former fit kept. Without, the input
    must be of the kind the estimator was fitted on.
    """
    table = arrow_table(X)
    if reset:
        if table is None:
            estimator.__dict__.pop("table_encoder_", None)
            return validated_sparse_input(estimator, X, reset=True)
        encoder = clone(table_template(estimator))
        rows = encoder.fit_transform(table)
        estimator.table_encoder_ = encoder
        estimator.n_features_in_ = encoder.n_features_in_
        estimator.feature_names_in_ = encoder.feature_names_in_
        return rows
    encoder = getattr(estimator, "table_encoder_", None)
    if encoder is None:
        return validated_sparse_input(estimator, X, reset=False)
    if table is None:
        raise ValueError(
            f"{type(estimator).__name__} was fitted on a table of the columns "
            f"{list(encoder.feature_names_in_)[:8]}; it reads a table holding them (a pandas or "
            f"polars DataFrame, a pyarrow Table), not {type(X).__name__}"
        )
    return encoder.transform(table)


def table_template(estimator) -> TableEncoder:
    """Return the unfitted table encoder of ``estimator``: its ``table``, or the defaults."""
    if estimator.table is not None:
        return estimator.table
    return TableEncoder(n_jobs=getattr(estimator, "n_jobs", None))


def set_table_features(estimator, features: TableFeatures) -> None:
    """Give ``estimator`` the table encoder of ``features`` and the input attributes.

    ``features`` were fitted outside the estimator (on files, or on a cluster).
    """
    encoder = set_features(clone(table_template(estimator)), features)
    estimator.table_encoder_ = encoder
    estimator.n_features_in_ = encoder.n_features_in_
    estimator.feature_names_in_ = encoder.feature_names_in_


def n_binary_features(estimator) -> int:
    """Return the number of binary features ``estimator`` was fitted on.

    A table's are its encoder's ``column=value`` features; a matrix's are its columns.
    """
    encoder = getattr(estimator, "table_encoder_", None)
    return estimator.n_features_in_ if encoder is None else encoder.n_features_out_


def binary_feature_names(estimator, input_features=None) -> np.ndarray:
    """Name every binary feature of ``estimator``: ``column=value`` for a table's.

    ``input_features`` is checked against the input columns as scikit-learn does; a matrix's
    features are named by it (or ``x0, x1, ...``).
    """
    names = _check_feature_names_in(estimator, input_features)
    encoder = getattr(estimator, "table_encoder_", None)
    return names if encoder is None else encoder.get_feature_names_out()


def column_of_binary_feature(estimator) -> np.ndarray | None:
    """Return the input column of each binary feature of a table's estimator (None for a matrix)."""
    encoder = getattr(estimator, "table_encoder_", None)
    return None if encoder is None else encoder.features_.column_of_feature()

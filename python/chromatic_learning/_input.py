"""Turn user input into the borrowed CSR arrays the engine reads.

Nothing is copied when the input is already CSR with int32/int64 indices and
float32/float64/bool values.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

from ._columns import non_numeric_columns


@dataclass(frozen=True)
class CsrArrays:
    """The three arrays of a CSR matrix, in dtypes the engine accepts, and its shape."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_rows: int
    n_features: int

    def engine_args(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        return self.indptr, self.indices, self.data, self.n_features


def validated_sparse_input(estimator, X, *, reset: bool):
    """Check ``X`` with scikit-learn's ``validate_data`` for ``estimator``; CSR when sparse.

    This checks the shape, the feature count and names. Non-finite values pass: the engine (or
    ``check_finite``) reports them by row and column.
    """
    text = non_numeric_columns(X)
    if text:
        raise ValueError(
            f"X is a table whose columns {text[:5]} hold values that are not numbers, but this "
            f"{type(estimator).__name__} was fitted on a matrix: fit it on the table (each "
            "column=value is a feature), or encode the table with chromatic_learning.TableEncoder"
        )
    X = validate_data(
        estimator,
        X,
        reset=reset,
        accept_sparse="csr",
        dtype="numeric",
        ensure_all_finite=False,
    )
    if reset:
        warn_of_ids(X)
    return X


def warn_of_ids(X) -> None:
    """Warn when an integer matrix holds values other than 0 and 1: ids read as presence.

    A matrix is read as presence (any non-zero is the column's feature), so a column of ids
    (300 users as 0..299) would collapse to one feature; the warning says what to do instead.
    """
    values = X.data if sp.issparse(X) else X
    if values.dtype.kind not in "iu" or values.size == 0:
        return
    other = (values != 0) & (values != 1)
    if not other.any():
        return
    if sp.issparse(X):
        column = int(X.indices[np.flatnonzero(other)[0]])
        value = values[np.flatnonzero(other)[0]]
    else:
        row, column = np.argwhere(other)[0]
        value = values[row, column]
    warnings.warn(
        f"X holds integers other than 0 and 1 (such as {value} in column {column}); a matrix "
        "is read as presence, any non-zero being the column's one feature, so ids in a column "
        "collapse into one feature. Pass ids as a table through "
        "chromatic_learning.TableEncoder, or "
        "one-hot encode them first (scikit-learn's OneHotEncoder(handle_unknown='ignore')).",
        UserWarning,
        stacklevel=3,
    )


def csr_arrays(X) -> CsrArrays:
    """``X`` is a validated 2-D numpy array or scipy sparse matrix/array."""
    if not sp.issparse(X):
        X = sp.csr_array(X)
    elif X.format != "csr":
        X = X.tocsr()
    indptr, indices = X.indptr, X.indices
    if indptr.dtype != indices.dtype or indptr.dtype not in (np.int32, np.int64):
        indptr, indices = indptr.astype(np.int64), indices.astype(np.int64)
    data = X.data
    if data.dtype.kind == "f" and data.dtype not in (np.float32, np.float64):
        data = data.astype(np.float64)
    elif data.dtype.kind not in "fb":
        # Integer values: only presence matters.
        data = data != 0
    n_rows, n_features = X.shape
    if len(indptr) != n_rows + 1:
        raise ValueError(
            f"indptr has {len(indptr)} entries, but a matrix of {n_rows} rows needs {n_rows + 1}"
        )
    return CsrArrays(aligned(indptr), aligned(indices), aligned(data), int(n_rows), int(n_features))


def aligned(array: np.ndarray) -> np.ndarray:
    """Return ``array`` as the engine borrows it: C-contiguous and aligned.

    Arrays received from other processes may sit unaligned in a message buffer; only those
    are copied.
    """
    return np.require(array, requirements=["C", "A"])


def available_cores() -> int:
    """Cores this process may run on (affinity and cgroup CPU sets included)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def thread_limit() -> int | None:
    """Return the threads ``OMP_NUM_THREADS`` allows this process, None without a limit.

    joblib's process workers get it (``cores // n_jobs``, or ``inner_max_num_threads`` of
    ``parallel_config``), so that ``GridSearchCV(n_jobs=2)`` on two cores runs two fits of one
    thread each; scikit-learn's OpenMP estimators honour it the same way.
    """
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    try:
        limit = int(value)
    except ValueError:
        return None
    return limit if limit > 0 else None


def effective_n_jobs(n_jobs: int | None) -> int | None:
    """Return the threads for the engine, ``None`` for its shared pool over every core.

    ``None`` means every core, or as many threads as ``OMP_NUM_THREADS`` allows where it is
    set (see ``thread_limit``). As in joblib, ``-1`` means all cores and ``-2`` all but one;
    counts above the available cores are capped, since more threads than cores only add
    overhead.
    """
    if n_jobs is None:
        limit = thread_limit()
        return None if limit is None or limit >= available_cores() else limit
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning; use None, a positive count or -1")
    cores = available_cores()
    if n_jobs < 0:
        n_jobs = max(1, cores + 1 + n_jobs)
    return None if n_jobs >= cores else int(n_jobs)


def check_finite(arrays: CsrArrays) -> None:
    """Refuse a NaN or infinite stored value, naming its row and column in the engine's words.

    The engine's own message is "row 3, column 7 holds NaN: stored values must be finite"; this
    one is the same, so that a value is named alike whichever side finds it.
    """
    data = arrays.data
    if data.dtype.kind != "f":
        return
    bad = ~np.isfinite(data)
    if not bad.any():
        return
    k = int(np.flatnonzero(bad)[0])
    row = int(np.searchsorted(arrays.indptr, k, side="right") - 1)
    value = data[k]
    text = "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    raise ValueError(
        f"row {row}, column {arrays.indices[k]} holds {text}: stored values must be finite"
    )


def check_structure(arrays: CsrArrays) -> None:
    """Refuse row pointers or column indices that do not describe the matrix, as the engine does.

    Code that indexes numpy arrays with the column indices needs this check before: numpy reads
    index -1 as the last column, and scipy does not check the indices of a matrix built from
    its arrays. The messages are the engine's, so that a matrix is named alike whichever side
    reads it.
    """
    indptr, indices = arrays.indptr, arrays.indices
    if len(indptr) == 0:
        raise ValueError("indptr is empty: a CSR matrix needs n_rows + 1 row pointers")
    if indptr[0] != 0:
        raise ValueError(f"indptr[0] is {indptr[0]}: the first row pointer must be 0")
    decreasing = np.flatnonzero(np.diff(indptr) < 0)
    if len(decreasing):
        row = int(decreasing[0])
        raise ValueError(
            f"indptr is not monotone: row {row} starts at {indptr[row]} and ends at "
            f"{indptr[row + 1]}"
        )
    if indptr[-1] != len(indices):
        raise ValueError(f"indptr[-1] is {indptr[-1]} but indices has {len(indices)} entries")
    outside = (indices < 0) | (indices >= arrays.n_features)
    if outside.any():
        k = int(np.flatnonzero(outside)[0])
        row = int(np.searchsorted(indptr, k, side="right") - 1)
        raise ValueError(
            f"row {row} holds column index {indices[k]}, outside [0, {arrays.n_features})"
        )


def presence_csr(X) -> sp.csr_matrix:
    """Return ``X`` as a binary CSR matrix, sorted, without duplicates or explicit zeros.

    Row pointers and column indices that do not describe the matrix (``check_structure``), or
    a NaN or infinite value (``check_finite``), are a ValueError naming the row and column.
    """
    arrays = csr_arrays(X)
    check_structure(arrays)
    check_finite(arrays)
    # Copies of the structure: the clean-up below works in place and must not touch the input.
    B = sp.csr_matrix(
        ((arrays.data != 0).astype(np.float64), arrays.indices.copy(), arrays.indptr.copy()),
        shape=(arrays.n_rows, arrays.n_features),
    )
    B.eliminate_zeros()
    B.sum_duplicates()
    B.data[:] = 1.0
    return B

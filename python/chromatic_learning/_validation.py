"""The checks every entry point shares: code matrices, binary labels, index bases, memory sizes.

Each names what is wrong (row, column, value) in one message, the same wherever the value comes
in.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.multiclass import type_of_target

INT32_MAX = np.iinfo(np.int32).max


def check_codes(
    X,
    n_columns: int | None = None,
    *,
    min_columns: int = 0,
    noun: str = "column",
    fitted: str = "",
) -> np.ndarray:
    """Return an integer code matrix as C-contiguous int32.

    Whole-number floats are accepted; negative codes and codes beyond int32 are refused with
    the row and the ``noun`` ("column", "color") that holds them. The matrix must have at least
    ``min_columns`` columns (scikit-learn's message), and with ``n_columns`` exactly that many;
    ``fitted`` says what fixed that number in the message (default: "the fit saw N").
    """
    codes = check_array(X, dtype=None, ensure_min_features=min_columns)
    if codes.dtype.kind == "f":
        if not np.all(np.isfinite(codes)) or np.any(codes != np.round(codes)):
            raise ValueError("codes must be whole numbers")
    elif codes.dtype.kind not in "iub":
        raise ValueError(f"codes must be integers, got dtype {codes.dtype}")
    if n_columns is not None and codes.shape[1] != n_columns:
        expected = fitted or f"the fit saw {n_columns}"
        raise ValueError(f"codes have {codes.shape[1]} columns, but {expected}")
    negative = codes < 0
    if np.any(negative):
        row, col = np.argwhere(negative)[0]
        raise ValueError(
            f"row {row}, {noun} {col} holds code {codes[row, col]}: codes must be >= 0"
        )
    if codes.size and codes.max() > INT32_MAX:
        row, col = np.unravel_index(np.argmax(codes), codes.shape)
        raise ValueError(
            f"row {row}, {noun} {col} holds code {codes[row, col]}, outside the int32 range"
        )
    return np.ascontiguousarray(codes, dtype=np.int32)


def binary_labels(y, *, owner: str = "this estimator") -> tuple[np.ndarray, np.ndarray]:
    """Return ``(classes, y == classes[1])`` for a binary target.

    Anything else is a ValueError that says what ``y`` is, in the words scikit-learn's checks
    look for: ``owner`` "requires y to be passed, but the target y is None", "got 1 class",
    "Unknown label type".
    """
    if y is None:
        raise ValueError(
            f"{owner} requires y to be passed, but the target y is None; y must be a binary target"
        )
    y = label_array(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {y.shape}")
    kind = type_of_target(y, input_name="y", raise_unknown=True)
    if kind != "binary":
        raise ValueError(f"y must be a binary target (two classes), got a {kind!r} target")
    classes = np.unique(y)
    if len(classes) != 2:
        noun = "class" if len(classes) == 1 else "classes"
        raise ValueError(
            f"y must be a binary target with two classes, got {len(classes)} {noun}: {classes}"
        )
    return classes, y == classes[1]


def label_array(y) -> np.ndarray:
    """Return labels as a numpy array, refusing those that mix strings and numbers.

    numpy would turn ``[0, "1", 1]`` into the strings ``"0", "1", "1"`` without a word, and
    an object array of both has no order to find the classes by. An object array of numbers
    only (a pandas column, say) becomes numeric, as scikit-learn finds no label type in it.
    """
    if isinstance(y, np.ndarray) and y.dtype != object:
        return y
    values = np.asarray(y, dtype=object)
    flat = values.ravel()
    strings = np.fromiter((isinstance(v, (str, bytes)) for v in flat), bool, len(flat))
    if strings.any() and not strings.all():
        text, number = flat[np.argmax(strings)], flat[np.argmin(strings)]
        raise ValueError(
            f"y mixes strings and numbers (such as {text!r} and {number!r}); labels must be "
            "all numbers or all strings"
        )
    return np.asarray(values.tolist()) if values.ndim else np.asarray(y)


class LabelError(ValueError):
    """Labels that are not what the fit needs (binary ones for a budget), in a named file."""


def check_label_classes(classes: np.ndarray, *, complete: bool) -> None:
    """Check that labels read in parts (chunks, partitions) stay binary.

    More than two classes so far is an error, and with ``complete`` (all rows read) so is
    fewer than two.
    """
    if len(classes) > 2:
        raise ValueError(f"the labels must be binary (two classes); found {classes[:5]}...")
    if complete and len(classes) != 2:
        raise ValueError(f"the labels must be binary (two classes); found {classes}")


def check_index_base(zero_based) -> None:
    """Refuse an index base other than True, False or "auto"."""
    if zero_based != "auto" and zero_based not in (True, False):
        raise ValueError(f"zero_based must be True, False or 'auto', got {zero_based!r}")


def resolve_zero_based(zero_based: bool | str, min_index: int) -> bool:
    """Decide whether indices start at 0.

    ``"auto"`` says so when some index is 0 (as scikit-learn's ``load_svmlight_file`` does); a
    declared 1-based input may not hold index 0.
    """
    check_index_base(zero_based)
    if zero_based == "auto":
        return bool(min_index == 0)
    if not zero_based and min_index == 0:
        raise ValueError("index 0 found, but the indices were declared 1-based")
    return bool(zero_based)


_BYTE_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


#: The largest memory limit the engine takes (an unsigned 64-bit count of bytes).
MAX_MEMORY_BYTES = 2**64 - 1


def memory_bytes(limit: int | str | None) -> int | None:
    """Read a memory limit as bytes.

    The limit is an int, or a string such as ``"16G"``, ``"512MB"``, ``"1.5GiB"`` (binary
    units); it must come to at least one byte and at most ``MAX_MEMORY_BYTES``.
    """
    if limit is None:
        return None
    if isinstance(limit, (int, np.integer)) and not isinstance(limit, bool):
        size = int(limit)
    else:
        text = str(limit).strip().upper().removesuffix("B").removesuffix("I")
        unit = text[-1:] if text[-1:] in _BYTE_UNITS and text[-1:] != "" else ""
        try:
            value = float(text[: len(text) - len(unit)])
        except ValueError:
            value = np.nan
        if not (value > 0 and np.isfinite(value)):
            raise ValueError(f"memory_limit {limit!r} is not a size such as 16G, 512M or 1000000")
        size = int(value * _BYTE_UNITS[unit])
    if size < 1:
        raise ValueError(f"memory_limit {limit!r} is less than one byte")
    if size > MAX_MEMORY_BYTES:
        raise ValueError(f"memory_limit {limit!r} is more than 2**64 - 1 bytes")
    return size

"""Rows as the inputs of embedding models: categorical fields, and a bag of binary features.

Click models (logistic regression, factorization machines, Wide & Deep, DeepFM) look up one
embedding per field of a row. The encoders give their rows that shape here, without torch:

* ``ChromaticEncoder``: one field per color, its code the value (lossless);
* ``ChromaticCompressor``: one field per color, its bucket the value, and the frequent features
  kept apart as a bag (one embedding each, summed): ``n_features_out_`` embeddings in all;
* ``HashingEncoder`` and ``FrequencyEncoder``: a bag of their output columns (the hashed
  buckets, with their signs as weights; the kept features and the count of the others).

Value 0 of a field is "none of its values": it has no embedding. ``chromatic_learning.torch`` turns
``Fields`` into tensors and trains models on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Fields:
    """Rows as fields and a bag: what an embedding model looks up.

    Attributes
    ----------
    values : ndarray of shape (n_rows, n_fields), int64
        The value of every field of every row: ``0`` for none, else ``1..field_dims[f] - 1``.
    field_dims : ndarray of shape (n_fields,), int64
        The values of each field, 0 included: field ``f`` needs ``field_dims[f] - 1``
        embeddings.
    bag_indptr, bag_indices : ndarray of int64
        The bag of every row as CSR rows over ``bag_dim`` binary features (each one embedding):
        row ``i`` holds ``bag_indices[bag_indptr[i]:bag_indptr[i + 1]]``.
    bag_weights : ndarray of float32
        The weight of each entry of the bag (1 for a present feature; a hashed bucket's sign or
        count).
    bag_dim : int
        Features of the bag (0: no bag).
    """

    values: np.ndarray
    field_dims: np.ndarray
    bag_indptr: np.ndarray
    bag_indices: np.ndarray
    bag_weights: np.ndarray
    bag_dim: int

    def __post_init__(self):
        n_rows = self.values.shape[0]
        if self.values.ndim != 2 or self.values.shape[1] != len(self.field_dims):
            raise ValueError(
                f"values must have shape (n_rows, {len(self.field_dims)}), got {self.values.shape}"
            )
        if len(self.bag_indptr) != n_rows + 1:
            raise ValueError(
                f"bag_indptr has {len(self.bag_indptr)} entries, expected {n_rows + 1}"
            )
        if len(self.bag_indices) != len(self.bag_weights):
            raise ValueError("bag_indices and bag_weights differ in length")

    @property
    def n_rows(self) -> int:
        """Rows."""
        return int(self.values.shape[0])

    @property
    def n_fields(self) -> int:
        """Fields (the bag not counted)."""
        return int(self.values.shape[1])

    @property
    def field_offsets(self) -> np.ndarray:
        """Where each field's embeddings start in one table of all of them.

        Value ``v >= 1`` of field ``f`` is row ``field_offsets[f] + v - 1``; the bag's rows
        follow the fields'.
        """
        return np.concatenate(([0], np.cumsum(self.field_dims - 1)))[:-1].astype(np.int64)

    @property
    def n_embeddings(self) -> int:
        """Embeddings a model needs: every value of every field but "none", and the bag's."""
        return int((self.field_dims - 1).sum()) + int(self.bag_dim)

    def take(self, rows) -> Fields:
        """Return the rows ``rows`` (indices, in that order)."""
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.bag_indptr[rows], self.bag_indptr[rows + 1]
        lengths = ends - starts
        indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        # The positions of every entry of the chosen rows, row after row.
        positions = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        return Fields(
            values=self.values[rows],
            field_dims=self.field_dims,
            bag_indptr=indptr,
            bag_indices=self.bag_indices[positions],
            bag_weights=self.bag_weights[positions],
            bag_dim=self.bag_dim,
        )


def concat_fields(first: Fields, second: Fields) -> Fields:
    """Return the rows of ``first`` then those of ``second`` (laid out alike)."""
    if not np.array_equal(first.field_dims, second.field_dims) or first.bag_dim != second.bag_dim:
        raise ValueError("the fields to join are laid out differently")
    return Fields(
        values=np.concatenate([first.values, second.values]),
        field_dims=first.field_dims,
        bag_indptr=np.concatenate(
            [first.bag_indptr[:-1], second.bag_indptr + first.bag_indptr[-1]]
        ),
        bag_indices=np.concatenate([first.bag_indices, second.bag_indices]),
        bag_weights=np.concatenate([first.bag_weights, second.bag_weights]),
        bag_dim=first.bag_dim,
    )


def code_fields(codes: np.ndarray, field_dims: np.ndarray) -> Fields:
    """Fields of the codes of a ``ChromaticEncoder``: one per color, no bag."""
    return Fields(
        values=np.asarray(codes, dtype=np.int64),
        field_dims=np.asarray(field_dims, dtype=np.int64),
        bag_indptr=np.zeros(len(codes) + 1, dtype=np.int64),
        bag_indices=np.zeros(0, dtype=np.int64),
        bag_weights=np.zeros(0, dtype=np.float32),
        bag_dim=0,
    )


def bag_fields(Z) -> Fields:
    """Fields of a baseline's output columns ``Z`` (CSR): a bag of them, no field."""
    Z = sp.csr_matrix(Z)
    Z.sum_duplicates()
    return Fields(
        values=np.zeros((Z.shape[0], 0), dtype=np.int64),
        field_dims=np.zeros(0, dtype=np.int64),
        bag_indptr=Z.indptr.astype(np.int64),
        bag_indices=Z.indices.astype(np.int64),
        bag_weights=Z.data.astype(np.float32),
        bag_dim=int(Z.shape[1]),
    )


def bucket_layout(offsets: np.ndarray, output_of_value: np.ndarray, n_outputs: int):
    """Return the field and value of every bucket column, and the fields' dimensions.

    The buckets of a ``SubmodularCompressor`` are output columns, each holding values of one
    code column (a color); a row holds at most one bucket of each. Every color with a bucket is
    a field; its buckets are its values ``1, 2, ...`` in column order. A color without one (all
    its values in its reference bucket) is no field.
    """
    color_of_output = np.full(n_outputs, -1, dtype=np.int64)
    for color in range(len(offsets) - 1):
        outputs = output_of_value[offsets[color] : offsets[color + 1]]
        color_of_output[outputs[outputs >= 0]] = color
    if (color_of_output < 0).any():
        raise ValueError("a bucket column holds no value of any color")
    colors, field_of_output = np.unique(color_of_output, return_inverse=True)
    # Outputs of one color are numbered in column order from 1.
    order = np.argsort(field_of_output, kind="stable")
    field_sizes = np.bincount(field_of_output, minlength=len(colors))
    starts = np.concatenate(([0], np.cumsum(field_sizes)))[:-1]
    value_of_output = np.empty(n_outputs, dtype=np.int64)
    value_of_output[order] = np.arange(n_outputs) - np.repeat(starts, field_sizes) + 1
    return field_of_output.astype(np.int64), value_of_output, (field_sizes + 1).astype(np.int64)


def compressed_fields(Z, n_bag: int, buckets) -> Fields:
    """Fields of a ``ChromaticCompressor``'s output columns ``Z`` (CSR).

    The first ``n_bag`` columns (the frequent features, and a hashed tail) are the bag; the
    bucket columns after them, laid out by ``bucket_layout`` of ``buckets`` (``None``: no
    bucket), the fields.
    """
    Z = sp.csr_matrix(Z)
    frequent = bag_fields(Z[:, :n_bag])
    n_rows = Z.shape[0]
    if buckets is None:
        return frequent
    field_of_output, value_of_output, field_dims = bucket_layout(
        buckets.offsets_, buckets.output_of_value_, buckets.n_features_out_
    )
    tail = Z[:, n_bag:].tocoo()
    values = np.zeros((n_rows, len(field_dims)), dtype=np.int64)
    values[tail.row, field_of_output[tail.col]] = value_of_output[tail.col]
    return Fields(
        values=values,
        field_dims=field_dims,
        bag_indptr=frequent.bag_indptr,
        bag_indices=frequent.bag_indices,
        bag_weights=frequent.bag_weights,
        bag_dim=frequent.bag_dim,
    )

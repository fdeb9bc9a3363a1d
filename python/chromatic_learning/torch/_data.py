"""Fields as batches of tensors: a map-style dataset that hands a whole batch at a time."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .._fields import Fields


class FieldBatch(NamedTuple):
    """A batch of rows as a model reads it.

    ``values`` (batch, n_fields) int64, value 0 for none; the bag as ``nn.EmbeddingBag`` takes
    it: ``bag_indices`` (int64), ``bag_offsets`` (int64, where each row's entries start) and
    ``bag_weights`` (float32); ``labels`` float32 (empty when the rows have none).
    """

    values: torch.Tensor
    bag_indices: torch.Tensor
    bag_offsets: torch.Tensor
    bag_weights: torch.Tensor
    labels: torch.Tensor

    def to(self, device) -> FieldBatch:
        """Return the batch on ``device``."""
        return FieldBatch(*(t.to(device) for t in self))


class FieldDataset(Dataset):
    """Rows of ``Fields`` (and their binary labels) for a ``DataLoader``.

    ``__getitems__`` builds a whole batch from the rows' indices with array operations (no
    Python work per row), so ``field_loader`` (a ``DataLoader`` with ``batch_size``) hands the
    model ``FieldBatch``es. ``dataset[i]`` is the batch of row ``i`` alone.

    Parameters
    ----------
    fields : Fields
        The rows, from an encoder's ``to_fields`` (or a compressor's ``fit_to_fields``).
    y : array-like of shape (n_rows,) or None
        Binary labels (0/1, or two classes, the second positive); ``None`` for rows to predict.
    """

    def __init__(self, fields: Fields, y=None):
        if not isinstance(fields, Fields):
            raise TypeError(
                f"fields must be chromatic_learning.Fields (an encoder's to_fields), got "
                f"{type(fields).__name__}"
            )
        self.fields = fields
        self.labels = None if y is None else _binary_labels(y, fields.n_rows)

    def __len__(self) -> int:
        return self.fields.n_rows

    def __getitem__(self, row: int) -> FieldBatch:
        if not -len(self) <= row < len(self):
            raise IndexError(f"row {row} of {len(self)}")
        return self.__getitems__([row % len(self)])

    def __getitems__(self, rows) -> FieldBatch:
        rows = np.asarray(rows, dtype=np.int64)
        labels = None if self.labels is None else self.labels[rows]
        return batch_of(self.fields.take(rows), labels)


def batch_of(fields: Fields, labels: np.ndarray | None) -> FieldBatch:
    """Return the rows of ``fields`` (and their labels, or none) as a batch of tensors."""
    labels = np.zeros(0, np.float32) if labels is None else np.asarray(labels, np.float32)
    return FieldBatch(
        values=torch.from_numpy(fields.values),
        bag_indices=torch.from_numpy(fields.bag_indices),
        bag_offsets=torch.from_numpy(fields.bag_indptr[:-1].copy()),
        bag_weights=torch.from_numpy(fields.bag_weights),
        labels=torch.from_numpy(labels),
    )


def _binary_labels(y, n_rows: int) -> np.ndarray:
    y = np.asarray(y).reshape(-1)
    if len(y) != n_rows:
        raise ValueError(f"y has {len(y)} labels but the fields have {n_rows} rows")
    classes = np.unique(y)
    if len(classes) > 2:
        raise ValueError(f"y must be binary, got {len(classes)} classes: {classes[:5]}")
    positive = classes[-1] if len(classes) == 2 else 1
    return (y == positive).astype(np.float32)


def _whole_batch(batch: FieldBatch) -> FieldBatch:
    """Collate nothing: the dataset's ``__getitems__`` built the batch."""
    return batch


def field_loader(
    dataset: FieldDataset, batch_size: int = 1024, *, shuffle: bool = False, seed: int = 0, **kw
) -> DataLoader:
    """Return a ``DataLoader`` of ``FieldBatch``es of ``dataset``, shuffled by ``seed`` if asked.

    Other keyword arguments go to ``DataLoader`` (``num_workers`` among them).
    """
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        collate_fn=_whole_batch,
        **kw,
    )

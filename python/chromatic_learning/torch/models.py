"""Click models over fields and a bag: logistic regression, FM, Wide & Deep, DeepFM.

Small, plain ``nn.Module``s to read and copy. Each takes a ``FieldBatch`` and returns one logit
per row (train with ``BCEWithLogitsLoss``). Every model is built from the layout of the rows,
``field_dims`` and ``bag_dim`` (``Model.for_fields(fields, ...)`` reads them off ``Fields``):

* a field's values ``1..field_dims[f] - 1`` each have an embedding; value 0 (none) has none
  and contributes nothing;
* the bag's features each have an embedding, scaled by the entry's weight and summed.

The deep models (Wide & Deep, DeepFM) concatenate the field embeddings and the bag's sum as the
input of their multilayer perceptron.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .._fields import Fields
from ._data import FieldBatch


class FieldEmbedding(nn.Module):
    """One table of ``dim``-wide embeddings of every field value and every bag feature.

    It has ``sum(field_dims - 1) + bag_dim`` rows: the values of field ``f`` from
    ``offsets[f]``, then the bag's features.
    """

    def __init__(self, field_dims: Sequence[int], bag_dim: int, dim: int, std: float = 0.01):
        super().__init__()
        dims = torch.as_tensor(np.asarray(field_dims, dtype=np.int64))
        if (dims < 1).any():
            raise ValueError("every field has at least one value (0, none)")
        self.n_fields, self.bag_dim = len(dims), int(bag_dim)
        offsets = torch.cumsum(dims - 1, 0) - (dims - 1)
        self.register_buffer("offsets", offsets, persistent=False)
        self.n_field_rows = int((dims - 1).sum())
        rows = self.n_field_rows + self.bag_dim
        if rows == 0:
            raise ValueError("the rows have no field value and no bag: nothing to embed")
        self.weight = nn.Parameter(torch.randn(rows, dim) * std)

    def fields(self, values: torch.Tensor) -> torch.Tensor:
        """Embed every field of every row, zero for none: (batch, n_fields, dim)."""
        present = values > 0
        index = torch.where(present, values - 1 + self.offsets, torch.zeros_like(values))
        return nn.functional.embedding(index, self.weight) * present.unsqueeze(-1)

    def bag(self, batch: FieldBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Sum each row's weighted bag embeddings, and their squares: two (batch, dim) tensors.

        Both are zero without a bag.
        """
        n_rows, dim = batch.values.shape[0], self.weight.shape[1]
        zeros = self.weight.new_zeros(n_rows, dim)
        if self.bag_dim == 0 or batch.bag_indices.numel() == 0:
            return zeros, zeros
        end = batch.bag_offsets.new_tensor([len(batch.bag_indices)])
        lengths = torch.cat([batch.bag_offsets[1:], end]) - batch.bag_offsets
        row = torch.repeat_interleave(torch.arange(n_rows, device=end.device), lengths)
        entries = nn.functional.embedding(batch.bag_indices + self.n_field_rows, self.weight)
        entries = entries * batch.bag_weights.unsqueeze(-1)
        return zeros.index_add(0, row, entries), zeros.index_add(0, row, entries * entries)


class _FieldModel(nn.Module):
    """What every model shares: how it is built from ``Fields``."""

    @classmethod
    def for_fields(cls, fields: Fields, *, seed: int | None = None, **params):
        """Build the model for rows laid out as ``fields``; ``seed`` seeds its weights."""
        if seed is not None:
            torch.manual_seed(seed)
        return cls(fields.field_dims, fields.bag_dim, **params)


class LogisticRegression(_FieldModel):
    """A weight per field value and per bag feature, and a bias."""

    def __init__(self, field_dims: Sequence[int], bag_dim: int = 0):
        super().__init__()
        self.linear = FieldEmbedding(field_dims, bag_dim, 1)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, batch: FieldBatch) -> torch.Tensor:
        """Return one logit per row of ``batch``."""
        return _linear(self.linear, batch) + self.bias


class FactorizationMachine(_FieldModel):
    """Logistic regression plus the pairwise interactions of the row's features (Rendle, 2010).

    An interaction is the inner product of the two features' ``embed_dim``-wide embeddings.
    """

    def __init__(self, field_dims: Sequence[int], bag_dim: int = 0, embed_dim: int = 16):
        super().__init__()
        self.linear = FieldEmbedding(field_dims, bag_dim, 1)
        self.embedding = FieldEmbedding(field_dims, bag_dim, embed_dim)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, batch: FieldBatch) -> torch.Tensor:
        """Return one logit per row of ``batch``."""
        return _linear(self.linear, batch) + _interactions(self.embedding, batch) + self.bias


class _DeepModel(_FieldModel):
    """Weights and embeddings of the row's features, and a perceptron over the embeddings.

    The perceptron has layers of ``hidden`` units (ReLU, then ``dropout``) and reads the field
    embeddings and the bag's sum side by side.
    """

    def __init__(
        self,
        field_dims: Sequence[int],
        bag_dim: int = 0,
        embed_dim: int = 16,
        hidden: Sequence[int] = (256, 128),
        dropout: float = 0.1,
    ):
        super().__init__()
        self.linear = FieldEmbedding(field_dims, bag_dim, 1)
        self.embedding = FieldEmbedding(field_dims, bag_dim, embed_dim)
        self.mlp = _mlp(_deep_width(self.embedding, embed_dim), hidden, dropout)
        self.bias = nn.Parameter(torch.zeros(1))

    def _deep(self, batch: FieldBatch) -> torch.Tensor:
        return self.mlp(_deep_input(self.embedding, batch)).squeeze(-1)


class WideAndDeep(_DeepModel):
    """Logistic regression (wide) plus a perceptron over the embeddings (deep), Cheng et al. 2016.

    The perceptron has layers of ``hidden`` units (ReLU, then ``dropout``).
    """

    def forward(self, batch: FieldBatch) -> torch.Tensor:
        """Return one logit per row of ``batch``."""
        return _linear(self.linear, batch) + self._deep(batch) + self.bias


class DeepFM(_DeepModel):
    """A factorization machine and a perceptron on the same embeddings (Guo et al., 2017).

    The perceptron has layers of ``hidden`` units (ReLU, then ``dropout``).
    """

    def forward(self, batch: FieldBatch) -> torch.Tensor:
        """Return one logit per row of ``batch``."""
        fm = _linear(self.linear, batch) + _interactions(self.embedding, batch)
        return fm + self._deep(batch) + self.bias


def _linear(weights: FieldEmbedding, batch: FieldBatch) -> torch.Tensor:
    """Sum the row's weights: (batch,)."""
    bag, _ = weights.bag(batch)
    return weights.fields(batch.values).sum(dim=(1, 2)) + bag.squeeze(-1)


def _interactions(embedding: FieldEmbedding, batch: FieldBatch) -> torch.Tensor:
    """Sum the pairwise inner products of the row's embeddings: (batch,).

    Half the square of the sum less the sum of the squares, in time linear in the features.
    """
    fields = embedding.fields(batch.values)
    bag, bag_squares = embedding.bag(batch)
    total = fields.sum(dim=1) + bag
    squares = (fields * fields).sum(dim=1) + bag_squares
    return 0.5 * (total * total - squares).sum(dim=1)


def _deep_width(embedding: FieldEmbedding, embed_dim: int) -> int:
    return (embedding.n_fields + (embedding.bag_dim > 0)) * embed_dim


def _deep_input(embedding: FieldEmbedding, batch: FieldBatch) -> torch.Tensor:
    """Put the field embeddings and the bag's sum side by side: (batch, width)."""
    parts = [embedding.fields(batch.values).flatten(1)]
    if embedding.bag_dim > 0:
        parts.append(embedding.bag(batch)[0])
    return torch.cat(parts, dim=1)


def _mlp(width: int, hidden: Sequence[int], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
        width = size
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


__all__ = [
    "DeepFM",
    "FactorizationMachine",
    "FieldEmbedding",
    "LogisticRegression",
    "WideAndDeep",
]

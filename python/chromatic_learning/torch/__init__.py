"""PyTorch inputs and click models on colors (``pip install "chromatic-learning[torch]"``).

An encoder's ``to_fields`` (``ChromaticEncoder``, ``ChromaticCompressor``, ``HashingEncoder``,
``FrequencyEncoder``) gives rows as ``chromatic_learning.Fields``: categorical fields and a bag of
binary
features. Here they become batches of tensors (``FieldDataset`` in memory, ``FieldStream`` from
files larger than memory), the input of small click models (``models``: logistic regression,
factorization machine, Wide & Deep, DeepFM), trained by ``train`` with Adam and early stopping
on the validation log loss.

Examples
--------
>>> import numpy as np
>>> from chromatic_learning import ChromaticCompressor, make_onehot_zipf
>>> from chromatic_learning.torch import FieldDataset, predict_proba, train
>>> from chromatic_learning.torch.models import DeepFM
>>> X = make_onehot_zipf(3000, 300, 5, random_state=0)
>>> y = (np.asarray(X[:, :8].sum(axis=1)).ravel() > 0).astype(int)
>>> compressor = ChromaticCompressor(budget=64, n_frequent=16, random_state=0)
>>> train_rows = FieldDataset(compressor.fit_to_fields(X[:2000], y[:2000]), y[:2000])
>>> valid_rows = FieldDataset(compressor.to_fields(X[2000:]), y[2000:])
>>> model = DeepFM.for_fields(train_rows.fields, embed_dim=8, seed=0)
>>> result = train(model, train_rows, valid_rows, epochs=3, progress=False, seed=0)
>>> predict_proba(model, valid_rows).shape
(1000,)
"""

from __future__ import annotations

try:
    import torch  # noqa: F401
except ImportError as err:  # pragma: no cover - the message is the point
    raise ImportError(
        "chromatic_learning.torch needs PyTorch: "
        'pip install "chromatic-learning[torch]" (or pip install torch)'
    ) from err

from ._data import FieldBatch, FieldDataset, field_loader
from ._stream import FieldStream, stream_loader
from ._training import TrainResult, log_loss, predict_proba, train

__all__ = [
    "FieldBatch",
    "FieldDataset",
    "FieldStream",
    "TrainResult",
    "field_loader",
    "log_loss",
    "predict_proba",
    "stream_loader",
    "train",
]

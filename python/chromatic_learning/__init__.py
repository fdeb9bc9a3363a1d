"""Compress sparse, high-dimensional binary data by coloring the feature co-occurrence graph.

Chromatic Learning [1]_: features that never appear together in a training row share a color,
and each color becomes one categorical column, so tens of millions of sparse columns become a
few dozen dense ones. Submodular feature compression [2]_ then cuts the values of each color
into the buckets most informative about a binary target, to a budget of columns.

See Also
--------
ChromaticEncoder : One code column per color (lossless on the training rows).
SubmodularCompressor : Integer code columns to a budget of one-hot bucket columns.
ChromaticCompressor : Both in one: sparse binary rows to at most ``budget`` columns.
HashingEncoder, FrequencyEncoder : The baselines, the hashing trick and frequency truncation.
TableEncoder : The columns of a DataFrame or Arrow table as binary ``column=value`` features.

References
----------
.. [1] V. Feinberg and P. Bailis, "Chromatic Learning for Sparse Datasets",
   arXiv:2006.03779, 2020. https://arxiv.org/abs/2006.03779
.. [2] M. Bateni, L. Chen, H. Esfandiari, T. Fu, V. S. Mirrokni and A. Rostamizadeh,
   "Categorical Feature Compression via Submodular Optimization", Proceedings of the 36th
   International Conference on Machine Learning (ICML), PMLR 97, 2019. arXiv:1904.13389.

Examples
--------
>>> import numpy as np
>>> from chromatic_learning import ChromaticCompressor, ChromaticEncoder, make_onehot_zipf
>>> X = make_onehot_zipf(2000, 1000, 6, random_state=0)
>>> X.shape
(2000, 1000)
>>> ChromaticEncoder(dense_threshold=None).fit_transform(X).shape
(2000, 6)
>>> y = (X[:, :20].sum(axis=1) > 0).astype(int)
>>> ChromaticCompressor(budget=32, random_state=0).fit_transform(X, y).shape[1] <= 32
True
"""

from ._baselines import FrequencyEncoder, HashingEncoder
from ._compression import ChromaticCompressor
from ._core import ChromaticError, __version__
from ._encoder import ChromaticEncoder
from ._fields import Fields
from ._model import ModelFileError, load_model, save_model
from ._submodular import SubmodularCompressor
from ._table_encoder import TableEncoder
from .datasets import make_onehot_zipf
from .graph import cooccurrence_graph

__all__ = [
    "ChromaticCompressor",
    "ChromaticEncoder",
    "ChromaticError",
    "Fields",
    "FrequencyEncoder",
    "HashingEncoder",
    "ModelFileError",
    "SubmodularCompressor",
    "TableEncoder",
    "__version__",
    "cooccurrence_graph",
    "load_model",
    "make_onehot_zipf",
    "save_model",
]

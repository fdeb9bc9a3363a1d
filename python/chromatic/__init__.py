"""chromatic: compress sparse, high-dimensional binary data by coloring the feature
co-occurrence graph (Chromatic Learning).

Features that never appear together in a training row share a color, and each color becomes one
categorical column, so tens of millions of sparse columns become a few dozen dense ones.
"""

from ._core import __version__
from .baselines import FrequencyEncoder, HashingEncoder
from .compression import ChromaticCompressor, SubmodularCompressor
from .datasets import make_onehot_zipf
from .encoder import ChromaticEncoder
from .graph import cooccurrence_graph
from .model import load_model, save_model

__all__ = [
    "ChromaticCompressor",
    "ChromaticEncoder",
    "FrequencyEncoder",
    "HashingEncoder",
    "SubmodularCompressor",
    "__version__",
    "cooccurrence_graph",
    "load_model",
    "make_onehot_zipf",
    "save_model",
]

"""Fuzz ``chromatic_learning.load_model``.

Usage: python fuzz/fuzz_model.py [-atheris_runs=N] [corpus ...].
"""

from _driver import fuzz

if __name__ == "__main__":
    fuzz("model_target", "model_seeds")

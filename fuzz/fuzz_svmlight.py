"""Fuzz the svmlight reader: python fuzz/fuzz_svmlight.py [-atheris_runs=N] [corpus ...]."""

from _driver import fuzz

if __name__ == "__main__":
    fuzz("svmlight_target", "svmlight_seeds")

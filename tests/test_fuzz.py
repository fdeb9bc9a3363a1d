"""A short run of the fuzz targets (fuzz/targets.py) with a seeded mutator, for CI.

The seed is random unless CHROMATIC_FUZZ_SEED is set; a failure names it and saves the input,
so that ``CHROMATIC_FUZZ_SEED=<seed> pytest tests/test_fuzz.py`` or the target itself replays it.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))
import targets

N_INPUTS = 300


@pytest.mark.parametrize(
    ("target", "seeds"),
    [
        (targets.model_target, targets.model_seeds),
        (targets.svmlight_target, targets.svmlight_seeds),
    ],
)
def test_readers_raise_only_their_own_errors_on_mutated_inputs(tmp_path, target, seeds):
    seed = int(os.environ.get("CHROMATIC_FUZZ_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    corpus = seeds()
    for number in range(N_INPUTS):
        data = targets.mutate(rng.choice(corpus), rng)
        try:
            target(data)
        except Exception as error:
            saved = tmp_path / f"failing-input-{number}"
            saved.write_bytes(data)
            pytest.fail(
                f"CHROMATIC_FUZZ_SEED={seed}: input {number} (saved in {saved}) raised "
                f"{type(error).__name__}: {error}",
                pytrace=True,
            )
        corpus.append(data)


def test_the_seed_inputs_pass_and_the_mutations_reach_the_checks():
    # Unmutated seeds load (the harness itself is sound), and a mutated member is refused by
    # the check of that member rather than by the archive's checksum.
    for data in targets.model_seeds()[:4] + targets.svmlight_seeds():
        target = targets.model_target if data.startswith(b"PK") else targets.svmlight_target
        target(data)
    codes = sorted(targets.members(targets.seed_models()[0])).index("codes.npy")
    tampered = targets.mutated_model(0, [targets.Mutation("retype", codes, position=8)])
    path = targets._temporary(tampered, ".npz")
    with pytest.raises(targets.ModelFileError, match="member 'codes' holds float64 values"):
        targets.load_model(path)

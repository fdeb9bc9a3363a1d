"""Run a target of ``targets.py`` under atheris, starting from its seed inputs."""

from __future__ import annotations

import os
import sys
import tempfile


def fuzz(target: str, seeds: str) -> None:
    """Fuzz ``targets.<target>``; ``targets.<seeds>()`` fills a corpus when none is given."""
    try:
        import atheris
    except ImportError:
        sys.exit(
            "atheris is not installed: pip install 'chromatic-learning[fuzz]' (or atheris>=2.3)"
        )
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    with atheris.instrument_imports(include=["chromatic_learning", "targets"]):
        import targets
    argv = list(sys.argv)
    if not any(not arg.startswith("-") for arg in argv[1:]):
        corpus = tempfile.mkdtemp(prefix="chromatic-corpus-")
        for number, data in enumerate(getattr(targets, seeds)()):
            with open(os.path.join(corpus, f"seed-{number}"), "wb") as out:
                out.write(data)
        argv.append(corpus)
    atheris.Setup(argv, getattr(targets, target))
    atheris.Fuzz()

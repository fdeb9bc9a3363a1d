"""Writing a file atomically: the one way chromatic puts a model or an encoded file in place."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def atomic_output(path: str | os.PathLike, *, suffix: str = "") -> Iterator[str]:
    """Yield a temporary path beside ``path`` for the block to write, then rename it to ``path``.

    Guarantees: the temporary file is made empty by ``tempfile.mkstemp`` (so readable by its
    owner only, as the renamed file stays) in the folder of ``path``, so that the rename stays on
    one file system; it is named ``.chromatic-*`` and ends with ``suffix``, for writers that
    name files by their extension. It replaces ``path`` only when the block succeeds, so readers
    see the old file or the complete new one, never a part. On any failure or interrupt (any
    ``BaseException``, ``KeyboardInterrupt`` included) it is removed and the exception goes on,
    leaving ``path`` as it was.
    """
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".chromatic-", suffix=suffix, dir=directory)
    os.close(handle)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise

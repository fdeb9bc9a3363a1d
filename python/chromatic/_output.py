"""Writing files: the one way chromatic puts a model or an encoded file in place.

``check_outputs`` refuses, before any work, outputs that would replace an input (links
resolved) or each other; ``atomic_output`` writes a file under a temporary name and renames it
into place, with the mode an ordinary new file gets.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


def check_outputs(outputs: Iterable[str | os.PathLike], inputs: Iterable[str | os.PathLike]):
    """Refuse outputs that would replace an input or another output.

    Paths are compared once resolved (symbolic links, ``..``), and an existing output is also
    compared with the inputs by file identity (hard links). Raises ``ValueError`` naming the
    output.
    """
    inputs = [os.fspath(path) for path in inputs]
    resolved_inputs = {os.path.realpath(path): path for path in inputs}
    seen: dict[str, str] = {}
    for output in map(os.fspath, outputs):
        resolved = os.path.realpath(output)
        if resolved in resolved_inputs or any(
            os.path.exists(output) and os.path.exists(path) and os.path.samefile(output, path)
            for path in inputs
        ):
            raise ValueError(f"{output}: the output would overwrite its input")
        if resolved in seen:
            raise ValueError(
                f"{output}: written twice (from two inputs of the same name, {seen[resolved]!r} "
                "and this one); give the inputs distinct names"
            )
        seen[resolved] = output


def new_file_mode() -> int:
    """Return the mode an ordinary new file gets here: 0o666 less the process's umask."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    # Elsewhere the umask can only be read by setting it; it is put back at once.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_output(path: str | os.PathLike, *, suffix: str = "") -> Iterator[str]:
    """Yield a temporary path beside ``path`` for the block to write, then rename it to ``path``.

    Guarantees: the temporary file is made empty by ``tempfile.mkstemp`` in the folder of
    ``path``, so that the rename stays on one file system, and given the mode an ordinary new
    file gets (``mkstemp`` makes it readable by its owner only); it is named ``.chromatic-*``
    and ends with ``suffix``, for writers that name files by their extension. It replaces
    ``path`` only when the block succeeds, so readers see the old file or the complete new one,
    never a part. On any failure or interrupt (any ``BaseException``, ``KeyboardInterrupt``
    included) it is removed and the exception goes on,
    leaving ``path`` as it was.
    """
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".chromatic-", suffix=suffix, dir=directory)
    try:
        os.fchmod(handle, new_file_mode())
    finally:
        os.close(handle)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise

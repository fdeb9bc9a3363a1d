"""Writing files: every model and encoded file chromatic writes goes through ``Outputs``.

A writer first declares all its outputs, and each is checked before any work is done: none may
replace an input or another output (paths compared once links are resolved, existing files also
by identity), a file's folder must exist while a folder named as the output is created, and a
name must not say it holds another format than the one written (``.npz``, ``.parquet``,
``.svm``...). The outputs are then written under temporary names beside their targets, with the
mode an ordinary new file gets, and put in place together when the writer succeeds; on any
failure, interrupt or termination signal the temporary files are removed and every target is
left as it was.

Outputs that are not regular files are written to directly, since renaming over them would
replace them: a FIFO, a character device such as ``/dev/null``, or ``-`` for standard output.
Other special files (block devices, sockets) and folders are refused.

Examples
--------
>>> import os, tempfile
>>> from chromatic_learning._output import Outputs
>>> folder = tempfile.TemporaryDirectory()
>>> target = os.path.join(folder.name, "codes.svm.gz")
>>> outputs = Outputs()
>>> outputs.add(target, "svmlight") == target
True
>>> with outputs, outputs.open(target) as out:
...     _ = out.write(b"1 0:3 2:7")
>>> import gzip
>>> gzip.open(target).read()
b'1 0:3 2:7'
>>> folder.cleanup()
"""

from __future__ import annotations

import bz2
import functools
import gzip
import lzma
import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

STDOUT = "-"
# Writers of svmlight text by the suffix that says the file is compressed, with their default
# level (gzip's, bzip2's compresslevel, xz's preset).
COMPRESSORS = {
    ".gz": lambda raw, level=6: gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=level),
    ".bz2": lambda raw, level=9: bz2.BZ2File(raw, mode="wb", compresslevel=level),
    ".xz": lambda raw, level=6: lzma.LZMAFile(raw, mode="wb", preset=level),
}
SVMLIGHT_SUFFIXES = (".svm", ".svmlight", ".libsvm", ".txt")
#: Names of table inputs, never given to an output of another format.
TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".parquet", ".pq")
SUFFIXES = {"npz": (".npz",), "parquet": (".parquet", ".pq"), "svmlight": SVMLIGHT_SUFFIXES}
# A model is an npz file.
FORMAT_OF = {"model": "npz", "npz": "npz", "parquet": "parquet", "svmlight": "svmlight"}


class Terminated(BaseException):
    """The process was asked to end by a signal (SIGTERM or SIGHUP) while writing."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def ending_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into ``Terminated`` for the block, as Ctrl-C is.

    The engine polls for Python signals while it works, so the exception reaches the writer in
    the block, which removes its temporary files. Outside the main thread (where handlers
    cannot be installed) the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise Terminated(signum)

    previous = {sig: signal.signal(sig, terminate) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def compression_suffix(name: str) -> str | None:
    """Return the compression suffix of a file name (``.gz``, ``.bz2``, ``.xz``), if any."""
    return next((suffix for suffix in COMPRESSORS if name.endswith(suffix)), None)


def named_format(name: str) -> str | None:
    """Return the format a file name says it holds (``npz``, ``parquet``, ``svmlight``)."""
    compressed = compression_suffix(name)
    if compressed:
        inner = named_format(name[: -len(compressed)])
        # Only text is written compressed; other formats compress their own content.
        return "svmlight" if inner in (None, "svmlight") else f"{inner} compressed {compressed}"
    lower = name.lower()
    return next(
        (kind for kind, suffixes in SUFFIXES.items() if lower.endswith(suffixes)),
        None,
    )


def output_name(input_path: str | os.PathLike, format: str) -> str:
    """Name the output of one input: the input's name for svmlight, else its stem + suffix.

    ``day1.svm.gz`` gives ``day1.svm.gz`` (written compressed) as svmlight, ``day1.npz`` as
    npz and ``day1.parquet`` as Parquet. A table's name says what it holds: ``day1.csv.gz``
    gives ``day1.svm.gz`` as svmlight, ``day1.parquet`` as Parquet.
    """
    name = os.path.basename(os.fspath(input_path))
    compressed = compression_suffix(name)
    stem = name[: -len(compressed)] if compressed else name
    table = stem.lower().endswith(TABLE_SUFFIXES)
    if format == "svmlight":
        return os.path.splitext(stem)[0] + ".svm" + (compressed or "") if table else name
    if table or stem.lower().endswith(SVMLIGHT_SUFFIXES):
        stem = os.path.splitext(stem)[0]
    return stem + SUFFIXES[format][0]


def format_of_name(path: str | os.PathLike, default: str = "svmlight") -> str:
    """Return the format to write to ``path``: the one its name says, else ``default``."""
    named = named_format(os.path.basename(os.fspath(path)))
    # A name that says something chromatic cannot write is refused when the output is declared.
    return named if named in SUFFIXES else default


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
        resolved = output if output == STDOUT else os.path.realpath(output)
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


def is_stream(path: str) -> bool:
    """Whether ``path`` is written to directly: ``-``, or an existing FIFO or character device.

    Raises ``ValueError`` for a folder or another special file.
    """
    if path == STDOUT:
        return True
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISREG(mode):
        return False
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return True
    if stat.S_ISDIR(mode):
        raise ValueError(f"{path}: is a folder; name the file to write")
    raise ValueError(
        f"{path}: is a special file (block device or socket); chromatic writes regular files, "
        "FIFOs, character devices and - (standard output)"
    )


class Outputs:
    """The files one writer produces, checked before any work and put in place together.

    Parameters
    ----------
    inputs : iterable of path-like, default=()
        Files read by the same work, which no output may replace.

    Notes
    -----
    Declare every output with ``add`` (and ``add_folder`` for folders to create), then write
    each inside ``with outputs:`` through ``open``. Leaving the block normally renames every
    temporary file to its target; leaving it by any exception removes them all.
    """

    def __init__(self, inputs: Iterable[str | os.PathLike] = ()):
        self.inputs = [os.fspath(path) for path in inputs]
        self.targets: dict[str, str] = {}
        self.folders: list[str] = []
        self.pending: list[tuple[str, str]] = []

    def add_folder(self, folder: str | os.PathLike) -> str:
        """Declare a folder the outputs go into, created (with its parents) on entering."""
        folder = os.fspath(folder)
        if folder == STDOUT:
            raise ValueError("- (standard output) cannot hold several files; name a folder")
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise ValueError(f"{folder}: is not a folder")
        self.folders.append(os.path.realpath(folder))
        return folder

    def add(self, path: str | os.PathLike, format: str) -> str:
        """Declare an output holding ``format`` (``model``, ``npz``, ``parquet``, ``svmlight``).

        Raises ``ValueError`` naming the path when it cannot be written as asked.
        """
        path = os.fspath(path)
        stream = is_stream(path)
        check_outputs([*self.targets, path], self.inputs)
        if not stream:
            if path.endswith(os.sep) or (os.altsep and path.endswith(os.altsep)):
                raise ValueError(f"{path}: names a folder; name the file to write")
            folder = os.path.dirname(os.path.realpath(path))
            if not os.path.isdir(folder) and not any(
                folder == made or folder.startswith(made + os.sep) for made in self.folders
            ):
                raise ValueError(f"{path}: {folder} is not an existing folder")
            named = named_format(os.path.basename(path))
            if named is not None and named != FORMAT_OF[format]:
                raise ValueError(
                    f"{path}: the name says {named} but the file would hold "
                    f"{'a model (npz)' if format == 'model' else format}; "
                    f"name it {output_name(path, FORMAT_OF[format])}"
                )
        self.targets[path] = format
        return path

    def __enter__(self) -> Outputs:
        for folder in self.folders:
            os.makedirs(folder, exist_ok=True)
        return self

    def __exit__(self, kind, error, traceback) -> None:
        pending, self.pending = self.pending, []
        if kind is None:
            for temporary, target in pending:
                os.replace(temporary, target)
            return
        for temporary, _ in pending:
            _remove(temporary)

    @contextmanager
    def open(self, path: str | os.PathLike, compresslevel: int | None = None) -> Iterator[BinaryIO]:
        """Yield a binary file to write the declared output ``path``.

        A regular target is written to a temporary ``.chromatic-*`` file beside it (so that
        the rename stays on one file system), kept for the rename when the block succeeds and
        removed when it fails. Svmlight text whose name ends in ``.gz``, ``.bz2`` or ``.xz`` is
        compressed that way, at ``compresslevel`` when given (gzip's and bzip2's 1 to 9, xz's
        preset 0 to 9) and else at the compressor's default.
        """
        path = os.fspath(path)
        if path not in self.targets:
            raise ValueError(f"{path}: not a declared output")
        compressor = COMPRESSORS.get(compression_suffix(path) or "")
        if self.targets[path] != "svmlight":
            compressor = None
        elif compressor is not None and compresslevel is not None:
            compressor = functools.partial(compressor, level=compresslevel)
        if is_stream(path):
            raw = sys.stdout.buffer if path == STDOUT else open(path, "wb")
            try:
                yield from _written(raw, compressor)
            finally:
                if path == STDOUT:
                    raw.flush()
                else:
                    raw.close()
            return
        # Through a symbolic link, as a shell redirection writes: the link stays, its target
        # gets the new content.
        target = os.path.realpath(path)
        handle, temporary = tempfile.mkstemp(
            prefix=".chromatic-", suffix=".partial", dir=os.path.dirname(target)
        )
        try:
            # mkstemp makes the file readable by its owner only.
            os.fchmod(handle, new_file_mode())
            raw = os.fdopen(handle, "wb")
        except BaseException:
            os.close(handle)
            _remove(temporary)
            raise
        try:
            with raw:
                yield from _written(raw, compressor)
        except BaseException:
            _remove(temporary)
            raise
        self.pending.append((temporary, target))


def _written(raw: BinaryIO, compressor) -> Iterator[BinaryIO]:
    if compressor is None:
        yield raw
        return
    with compressor(raw) as compressed:
        yield compressed


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass

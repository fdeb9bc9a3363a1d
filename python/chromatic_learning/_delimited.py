r"""Read delimited text (CSV, TSV) into Arrow tables with the engine's parser, a chunk at a time.

Files may be plain or compressed (``.gz``, ``.bz2``, ``.xz``). The file is read in blocks of
``chunk_bytes``; the engine cuts each block's whole records into columns (in parallel, the GIL
released) and the incomplete record at its end goes with the next block, so memory is bounded by
a chunk. Each chunk becomes a ``pyarrow.Table`` built on the engine's buffers without copies.

Quoting follows RFC 4180 (a quoted field may hold the delimiter, line ends and ``""`` for a
quote); lines end in ``\n`` or ``\r\n``; empty lines are skipped but counted. An empty unquoted
field is missing (null), as in Criteo's files and for pandas; a quoted ``""`` is an empty string.
Every malformed record is an error that reads ``FILE:LINE: what is wrong``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import numpy as np

from . import _core
from ._core import DelimitedError as DelimitedError  # re-exported: malformed records raise it
from ._input import available_cores, effective_n_jobs
from ._text_files import (
    check_input_path,
    compression_of,
    open_binary,
    open_text,
    read_block,
    text_blocks,
)
from .svmlight import DEFAULT_CHUNK_BYTES, check_chunk_bytes

#: The delimiter a file's suffix says (a compression suffix aside).
DELIMITERS = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": "\t"}

#: The types a column can be read as, by the names ``column_types`` gives them.
COLUMN_TYPES = ("string", "int64", "float64")

#: The columns of Criteo's display-advertising files: the click label, 13 integer features and
#: 26 hashed categorical features (8 hex digits).
CRITEO_NAMES = ("label", *(f"I{i}" for i in range(1, 14)), *(f"C{i}" for i in range(1, 27)))


def criteo_format() -> dict:
    r"""Return the keyword arguments of ``iter_delimited_tables`` for Criteo's files.

    Criteo's display-advertising files (Kaggle's ``train.txt``, the Terabyte ``day_N``) are
    tab-separated without a header or quotes: ``label``, ``I1``..``I13`` (int64) and
    ``C1``..``C26`` (8 hex digits, strings); an empty field is missing.

    Examples
    --------
    >>> from chromatic_learning._delimited import criteo_format
    >>> options = criteo_format()
    >>> options["names"][:3], options["column_types"]["C1"], options["delimiter"] == "\t"
    (['label', 'I1', 'I2'], 'string', True)
    """
    types = {name: ("string" if name.startswith("C") else "int64") for name in CRITEO_NAMES}
    return {
        "delimiter": "\t",
        "quote": None,
        "header": False,
        "names": list(CRITEO_NAMES),
        "column_types": types,
    }


def delimiter_of(path: str | os.PathLike) -> str:
    """Return the delimiter a file's name says: ``.csv`` comma; ``.tsv``, ``.tab``, ``.txt`` tab."""
    name = _uncompressed_name(path).lower()
    for suffix, delimiter in DELIMITERS.items():
        if name.endswith(suffix):
            return delimiter
    raise ValueError(
        f"{os.fsdecode(os.fspath(path))}: the name does not say the delimiter "
        f"({', '.join(DELIMITERS)}); pass delimiter="
    )


def iter_delimited_tables(
    path: str | os.PathLike,
    *,
    delimiter: str | None = None,
    quote: str | None = '"',
    header: bool = True,
    names: Sequence[str] | None = None,
    column_types: Mapping[str, str] | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    n_jobs: int | None = None,
    read_ahead: bool = True,
    with_bytes_read: bool = False,
) -> Iterator:
    r"""Read a delimited text file chunk by chunk, each chunk a ``pyarrow.Table``.

    Parameters
    ----------
    path : str or os.PathLike
        The file (``.gz``, ``.bz2`` and ``.xz`` are decompressed).
    delimiter : str or None, default=None
        The one character between fields; ``None`` for the one the suffix says (``.csv``: comma,
        ``.tsv``, ``.tab``, ``.txt``: tab).
    quote : str or None, default='"'
        The character that quotes fields; ``None`` when fields are never quoted.
    header : bool, default=True
        Whether the first record names the columns.
    names : sequence of str or None, default=None
        The columns' names: needed without a header, and replacing the header's names with one.
    column_types : mapping of str to str or None, default=None
        Column name to ``"string"``, ``"int64"`` or ``"float64"``. Other columns are inferred
        from the first chunk that holds rows (int64 when every value reads as one, else float64,
        else string; a column with no value there is string) and kept for the whole file.
    chunk_bytes : int, default=DEFAULT_CHUNK_BYTES (64 MiB)
        Bytes read at a time; a chunk holds the whole records among them.
    n_jobs : int or None, default=None
        Threads of the parser; ``None`` for every core.
    read_ahead : bool, default=True
        Parse each chunk in a thread of its own while the caller works on the chunk before
        (which the engine's parser, releasing the GIL, lets run side by side); the file then
        holds two chunks at a time.
    with_bytes_read : bool, default=False
        Yield each table with the bytes of the file read once it was (compressed bytes for a
        compressed file; at most the file's size), for progress.

    Yields
    ------
    pyarrow.Table, or (pyarrow.Table, int) with ``with_bytes_read``
        The rows of a chunk (one empty table for a file of a header only). Strings are
        ``large_string``; missing values are nulls.

    Raises
    ------
    DelimitedError
        A malformed record (a ``ValueError`` reading ``FILE:LINE: what is wrong``, with
        ``.path`` and ``.line``): a number of fields other than the header's, a quote never
        closed, bytes that are not UTF-8, or a value that does not read as its column's type.
    ValueError
        An empty file, a header with empty or repeated names, or options that do not fit.
    OSError
        A missing path, a directory, or a truncated or corrupt compressed file, named.

    Examples
    --------
    >>> import os, tempfile
    >>> from chromatic_learning._delimited import iter_delimited_tables
    >>> path = os.path.join(tempfile.mkdtemp(), "clicks.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write('clicked,site,price\n1,"a,b",0.5\n0,,2\n')
    >>> [table] = iter_delimited_tables(path)
    >>> table.to_pydict()
    {'clicked': [1, 0], 'site': ['a,b', None], 'price': [0.5, 2.0]}
    """
    import pyarrow as pa

    check_chunk_bytes(chunk_bytes)
    check_input_path(path)
    shown = os.fsdecode(os.fspath(path))
    delimiter = delimiter_of(path) if delimiter is None else delimiter
    _check_character("delimiter", delimiter)
    if quote is not None:
        _check_character("quote", quote)
    if names is not None:
        names = _checked_names(list(names), f"{shown}: names")
    elif not header:
        raise ValueError(f"{shown}: header=False needs names for the columns")
    wanted = _wanted_types(column_types)
    threads = effective_n_jobs(n_jobs)
    reader = _ChunkReader(shown, delimiter, quote, threads, wanted)
    columns: list[str] | None = None
    if not header:
        columns = names
        _check_known(wanted, columns, shown)
    types: list | None = None
    if columns is not None and all(name in wanted for name in columns):
        types = [_arrow_type(wanted[name]) for name in columns]
    read_any = False

    def table_of(text, first_line):
        """Return the table of a block's records, ``None`` for a block with no row.

        The first block that holds records gives the header and the column types.
        """
        nonlocal columns, types, read_any
        n_fields = None if columns is None else len(columns)
        # Once the types are known, the engine reads the integer columns itself.
        integer_columns = None
        if types is not None:
            integer_columns = [k for k, kind in enumerate(types) if pa.types.is_int64(kind)]
        arrays = reader.split(text, n_fields, first_line, integer_columns)
        if not arrays:
            return None  # empty lines only, before the first record
        read_any = True
        skip = 0
        if columns is None:
            columns = reader.header(text, first_line, arrays, names)
            skip = 1
            _check_known(wanted, columns, shown)
        parsed = [_arrow_array(column).slice(skip) for column in arrays]
        if len(parsed[0]) == 0:
            return None
        if types is None:
            types = list(pool.map(_column_type, [wanted.get(n) for n in columns], parsed))
        values = list(pool.map(_cast_or_bad_row, parsed, types))
        reader.check_casts(values, parsed, types, columns, text, first_line, skip)
        return pa.Table.from_arrays(values, names=columns)

    # The casts of a chunk's columns run side by side (pyarrow releases the GIL as it casts).
    # With `read_ahead`, each block is parsed in a thread of its own while the caller works on
    # the table of the block before (the engine releases the GIL as it parses), so the two
    # overlap where either leaves a core idle. A block's records are done with before the next
    # block is asked for, which overwrites them. The blocks end (their reading thread stopped)
    # before the file closes, and the parsing thread before the blocks.
    with (
        open_text(path) as stream,
        closing(_record_blocks(stream, path, chunk_bytes, delimiter, quote)) as blocks,
        ThreadPoolExecutor(threads or available_cores()) as pool,
        ThreadPoolExecutor(1) as parsing,
    ):
        ready = None
        for text, first_line, bytes_read in blocks:
            if not read_ahead:
                table = table_of(text, first_line)
                if table is not None:
                    yield (table, bytes_read) if with_bytes_read else table
                continue
            parsed_block = parsing.submit(table_of, text, first_line)
            if ready is not None:
                yield ready
            table = parsed_block.result()
            ready = None if table is None else (table, bytes_read) if with_bytes_read else table
        if ready is not None:
            yield ready
        file_read = stream.bytes_read
    if not read_any:
        raise ValueError(f"{shown}: the file is empty: no header and no records")
    if types is None:
        # A header and no rows: the columns, empty.
        kinds = [_arrow_type(wanted.get(name, "string")) for name in columns]
        empty = pa.Table.from_arrays([pa.array([], kind) for kind in kinds], names=columns)
        yield (empty, file_read) if with_bytes_read else empty


def _record_blocks(stream, path, chunk_bytes: int, delimiter: str, quote: str | None):
    """Yield ``(records, first_line, bytes_read)``: the stream's whole records, block by block.

    The records are a block of ``text_blocks``, done with when the caller asks for the next;
    ``bytes_read`` is the bytes of the file read once it was.
    The first line of a block counts every line end before it, those inside quoted fields
    included.
    """
    line = 1
    with closing(
        text_blocks(
            stream, path, chunk_bytes, lambda data: _core.complete_records(data, delimiter, quote)
        )
    ) as blocks:
        for records, bytes_read in blocks:
            yield records, line, bytes_read
            line += _core.count_line_ends(records)


class _ChunkReader:
    """The engine's parser for one file: its format, threads, and errors that name the file."""

    def __init__(self, shown: str, delimiter: str, quote: str | None, threads, wanted: dict):
        self.shown, self.delimiter, self.quote, self.threads = shown, delimiter, quote, threads
        #: The types ``column_types`` gives, by column.
        self.wanted = wanted

    def split(self, text, n_fields: int | None, first_line: int, integer_columns=None) -> list:
        return _core.split_delimited(
            text,
            self.delimiter,
            self.quote,
            n_fields,
            first_line,
            self.threads,
            path=self.shown,
            integer_columns=integer_columns,
        )

    def line_of(self, text, first_line: int, row: int) -> int:
        """Return the line of record ``row`` of ``text``."""
        return _core.record_line(text, self.delimiter, self.quote, first_line, row)

    def header(self, text, first_line: int, arrays, names) -> list[str]:
        """Return the columns' names: the header's (checked) or ``names`` in their place."""
        where = f"{self.shown}:{self.line_of(text, first_line, 0)}: the header"
        found = []
        for offsets, data, valid in arrays:
            found.append(bytes(data[offsets[0] : offsets[1]]).decode() if valid[0] else "")
        if names is None:
            return _checked_names(found, where)
        if len(names) != len(found):
            raise ValueError(f"{where} has {len(found)} fields, but names has {len(names)}")
        return names

    def check_casts(self, values, strings, types, columns, text, first_line, skip) -> None:
        """Raise the error of the first value (by line) that did not read as its column's type.

        ``values`` holds each column's cast, or for a column whose cast failed, the row of its
        first value that does not cast.
        """
        bad = [(row, k) for k, row in enumerate(values) if isinstance(row, int)]
        if not bad:
            return
        row, k = min(bad)
        line = self.line_of(text, first_line, row + skip)
        name = columns[k]
        why = "column_types says" if name in self.wanted else "earlier lines made it"
        error = DelimitedError(
            f"{self.shown}:{line}: column {name!r} holds {strings[k][row].as_py()!r}, "
            f"but {why} {types[k]}"
        )
        error.path, error.line = self.shown, line
        raise error


def _cast_or_bad_row(strings, kind):
    """Return ``strings`` cast to ``kind``, or the row of the first value that does not cast.

    A column the engine read as integers is ``kind`` already.
    """
    import pyarrow as pa

    if strings.type == kind:
        return strings
    try:
        return strings.cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _first_uncastable(strings, kind)


def _arrow_type(name: str):
    """Return the Arrow type of a name of ``COLUMN_TYPES``."""
    import pyarrow as pa

    return {"string": pa.large_string, "int64": pa.int64, "float64": pa.float64}[name]()


def _arrow_array(column: tuple):
    """Return a column of ``split_delimited`` as an Arrow array on the engine's buffers.

    ``(offsets, data, valid)`` is a ``large_string`` column, ``(values, valid)`` an int64 one.
    """
    import pyarrow as pa

    *buffers, valid = column
    n = len(valid)
    present = int(np.count_nonzero(valid))
    # Arrow's validity is a bitmap (least significant bit first); none when nothing is missing.
    bitmap = None if present == n else pa.py_buffer(np.packbits(valid, bitorder="little"))
    kind = pa.large_string() if len(buffers) == 2 else pa.int64()
    buffers = [bitmap, *map(pa.py_buffer, buffers)]
    return pa.Array.from_buffers(kind, n, buffers, null_count=n - present)


def _column_type(wanted: str | None, strings):
    """Return the Arrow type of a column: the one given, else the narrowest its values read as."""
    import pyarrow as pa

    if wanted is not None:
        return _arrow_type(wanted)
    if strings.null_count == len(strings):
        # No value says what the column holds: string takes whatever later chunks hold.
        return pa.large_string()
    for kind in (pa.int64(), pa.float64()):
        if _casts(strings, kind):
            return kind
    return pa.large_string()


def _casts(strings, kind) -> bool:
    """Return whether every value of ``strings`` reads as ``kind``.

    A few values are tried first: a failing cast costs time for every value that fails, so a
    column of text is told from a few of its values rather than all.
    """
    import pyarrow as pa

    for size in (1 << 10, 1 << 16, len(strings)):
        try:
            strings.slice(0, size).cast(kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return False
        if size >= len(strings):
            break
    return True


def _first_uncastable(strings, kind) -> int:
    """Return the first row of ``strings`` (which fails to cast to ``kind``) that fails alone.

    Halves the rows where the failure lies: every step casts half of what is left, so the
    search costs about two casts of the whole column.
    """
    import pyarrow as pa

    low, high = 0, len(strings)
    while high - low > 1:
        middle = (low + high) // 2
        try:
            strings.slice(low, middle - low).cast(kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            high = middle
        else:
            low = middle
    return low


def _check_character(what: str, text) -> None:
    if not isinstance(text, str) or len(text) != 1 or not text.isascii() or text in "\r\n":
        raise ValueError(f"{what} must be one ASCII character other than a line end, got {text!r}")


def _checked_names(names: list, where: str) -> list[str]:
    """Return ``names`` after checking that each is a non-empty string and none repeats."""
    wrong = [name for name in names if not isinstance(name, str)]
    if wrong:
        raise ValueError(f"{where} holds {wrong[0]!r}, which is not a string")
    empty = [k + 1 for k, name in enumerate(names) if not name]
    if empty:
        raise ValueError(f"{where} has empty names (fields {', '.join(map(str, empty))})")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{where} names more than one column {', '.join(map(repr, repeated))}")
    return names


def _wanted_types(column_types: Mapping[str, str] | None) -> dict[str, str]:
    wanted = dict(column_types or {})
    for name, kind in wanted.items():
        if kind not in COLUMN_TYPES:
            raise ValueError(
                f"column_types[{name!r}] is {kind!r}; a column is read as one of {COLUMN_TYPES}"
            )
    return wanted


def _check_known(wanted: dict[str, str], columns: list[str], shown: str) -> None:
    unknown = [name for name in wanted if name not in columns]
    if unknown:
        raise ValueError(
            f"{shown}: column_types names {unknown[0]!r}, which is no column; the columns are "
            f"{columns}"
        )


def _uncompressed_name(path: str | os.PathLike) -> str:
    """Return the name of ``path`` without its compression suffix."""
    name = os.fsdecode(os.fspath(path))
    kind = compression_of(name)
    return name[: name.rfind(".")] if kind else name


#: How many bytes of a file's content are looked at to tell its kind.
SNIFF_BYTES = 1 << 16

PARQUET_MAGIC = b"PAR1"
_SVMLIGHT_ENTRY = re.compile(rb"qid:\d+|\d+(:\S+)?")


def is_svmlight_line(line: bytes) -> bool:
    """Say whether a stripped line reads as an svmlight row.

    That is a number (the label), then ``index[:value]`` entries, without a comma, tab,
    semicolon or pipe.
    """
    if any(byte in line for byte in (b",", b"\t", b";", b"|")):
        return False
    tokens = line.split(b"#")[0].split()
    if not tokens:
        return False
    try:
        float(tokens[0])
    except ValueError:
        return False  # a header: svmlight rows start with a number (the label)
    return all(_SVMLIGHT_ENTRY.fullmatch(entry) for entry in tokens[1:])


def sniff_table_kind(path: str | os.PathLike) -> str:
    r"""Return what a file holds: ``"parquet"``, ``"delimited"`` or ``"svmlight"``.

    Parquet is told by its magic bytes ``PAR1`` at the start (and at the end of a file that can
    be sought). Otherwise a ``.csv`` or ``.tsv`` name (compressed or not) says delimited text;
    any other name, the first line of the (decompressed) content: a line whose tokens read as an
    svmlight row (a number, then ``index[:value]`` entries) without a comma, tab, semicolon or
    pipe is svmlight, any other line (a header, a row of fields) delimited text.

    Raises
    ------
    ValueError
        A name that says one kind for a content of another (Parquet named ``.csv``, text named
        ``.parquet``), or a file that starts as Parquet but does not end as one.
    OSError
        A missing path, a directory, or a corrupt compressed file, named.

    Examples
    --------
    >>> import os, tempfile
    >>> from chromatic_learning._delimited import sniff_table_kind
    >>> folder = tempfile.mkdtemp()
    >>> for name, text in [("a.txt", "1 3:1 7:1\n"), ("b.txt", "label,site\n1,x\n")]:
    ...     with open(os.path.join(folder, name), "w") as f:
    ...         _ = f.write(text)
    >>> [sniff_table_kind(os.path.join(folder, n)) for n in ("a.txt", "b.txt")]
    ['svmlight', 'delimited']
    """
    check_input_path(path)
    shown = os.fsdecode(os.fspath(path))
    name = _uncompressed_name(path).lower()
    named_text = name.endswith((".csv", ".tsv", ".tab"))
    named_parquet = name.endswith((".parquet", ".pq"))
    with open(os.fspath(path), "rb") as raw:
        start = raw.read(len(PARQUET_MAGIC))
        end = None
        if start == PARQUET_MAGIC and raw.seekable():
            raw.seek(0, os.SEEK_END)
            if raw.tell() >= 2 * len(PARQUET_MAGIC):
                raw.seek(-len(PARQUET_MAGIC), os.SEEK_END)
                end = raw.read()
    if start == PARQUET_MAGIC:
        if end not in (None, PARQUET_MAGIC):
            raise ValueError(
                f"{shown}: starts as Parquet (PAR1) but does not end as it: cut short?"
            )
        if named_text:
            raise ValueError(f"{shown}: named as delimited text, but holds Parquet (PAR1)")
        return "parquet"
    kind = "delimited" if named_text else _text_kind(path)
    if named_parquet:
        raise ValueError(f"{shown}: named as Parquet, but holds {kind} text (no PAR1 magic)")
    return kind


def _text_kind(path) -> str:
    """Return ``"svmlight"`` or ``"delimited"`` from the first line of content of ``path``."""
    with open_binary(os.fspath(path)) as stream:
        head = read_block(stream, SNIFF_BYTES, path)
    for line in head.splitlines():
        line = line.strip()
        if not line or line.startswith(b"#"):
            continue  # svmlight comments and blank lines say nothing
        return "svmlight" if is_svmlight_line(line) else "delimited"
    return "svmlight"

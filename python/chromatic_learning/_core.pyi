"""The compiled engine. Arrays are borrowed, never copied: pass C-contiguous int32/int64
``indptr``/``indices`` of one dtype, and float64, float32 or bool ``data`` (or ``None`` when every
stored entry is present). Input the engine refuses raises ``ChromaticError`` (a ``ValueError``)."""

from typing import Any, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "ChromaticError",
    "ColoringGraph",
    "DelimitedError",
    "StreamingFit",
    "SvmlightError",
    "ValueCounts",
    "ValueVocabulary",
    "__version__",
    "assign_buckets",
    "complete_records",
    "complete_svmlight_lines",
    "cooccurrence_graph",
    "count_line_ends",
    "count_pairs",
    "decode",
    "encode",
    "fit",
    "fit_buckets",
    "format_codes",
    "format_rows",
    "hash_rows",
    "hash_table_rows",
    "merge_pair_counts",
    "parse_svmlight",
    "record_line",
    "set_purge_delay",
    "split_delimited",
    "transform_buckets",
]

__version__: str

#: One column of a table for ``ValueVocabulary.fit_rows``: ``(position, kind, values, valid,
#: lists)``, ``kind`` one of ``"strings"`` (``values`` the pair of Arrow offsets and data),
#: ``"integers"``, ``"booleans"``; ``lists`` the int64 list offsets of a list column, or None.
_TableColumn = tuple[
    int,
    str,
    tuple[npt.NDArray[np.int32] | npt.NDArray[np.int64], npt.NDArray[np.uint8]]
    | npt.NDArray[np.int64]
    | npt.NDArray[np.bool_],
    npt.NDArray[np.bool_] | None,
    npt.NDArray[np.int64] | None,
]

class ChromaticError(ValueError):
    """Input the engine refuses; the message names the row, column, file or line where it
    applies."""

class SvmlightError(ChromaticError):
    """A malformed svmlight line: ``path`` (the file, or None) and ``line`` (1-based) say where,
    and the message reads ``PATH:LINE: what is wrong`` (``line LINE: ...`` without a path)."""

    path: str | None
    line: int

def fit(
    indptr: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    data: npt.NDArray[np.float64] | npt.NDArray[np.float32] | npt.NDArray[np.bool_] | None,
    n_features: int,
    *,
    min_cooccurrence: int,
    strategy: str,
    seed: int,
    dense_threshold: float | None,
    n_colors: int | None = None,
    glauber_steps: int | None = None,
    memory_limit: int | None = None,
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """Fit the encoder. Keys: ``colors``, ``codes`` (int32 per feature), ``color_sizes``,
    ``document_frequency`` (int64), ``dense_features`` (uint32), ``n_vertices``, ``n_edges``,
    ``max_degree``, ``n_greedy_colors``, ``conflict_weight``."""

def encode(
    indptr: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    data: npt.NDArray[np.float64] | npt.NDArray[np.float32] | npt.NDArray[np.bool_] | None,
    n_features: int,
    feature_color: npt.NDArray[np.int32],
    feature_code: npt.NDArray[np.int32],
    out: npt.NDArray[np.int32],
    *,
    collision: str,
    n_jobs: int | None = None,
) -> tuple[int, int]:
    """Encode rows into ``out``, a zero-filled C-contiguous ``(n_rows, n_colors)`` int32 array;
    returns ``(collisions, unseen)``."""

def decode(
    codes: npt.NDArray[np.int32],
    feature_color: npt.NDArray[np.int32],
    feature_code: npt.NDArray[np.int32],
    color_sizes: npt.NDArray[np.int64],
    *,
    n_jobs: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Decode a C-contiguous code matrix into binary CSR ``(indptr, indices)``."""

def cooccurrence_graph(
    indptr: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    data: npt.NDArray[np.float64] | npt.NDArray[np.float32] | npt.NDArray[np.bool_] | None,
    n_features: int,
    *,
    min_cooccurrence: int,
    n_jobs: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
    """The graph over the features as CSR ``(indptr, indices, weights)``, rows sorted."""

def fit_buckets(
    codes: npt.NDArray[np.int32],
    labels: npt.NDArray[np.bool_],
    use_rows: npt.NDArray[np.bool_] | None,
    column_sizes: npt.NDArray[np.int64],
    *,
    budget: int,
    smoothing: float,
    min_bucket_rows: int,
    penalty: float,
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """Fit submodular compression. Keys: ``offsets``, ``output_of_value``, ``n_outputs``,
    ``boundary_offsets``, ``boundaries``, ``bucket_outputs``."""

def assign_buckets(
    codes: npt.NDArray[np.int32],
    labels: npt.NDArray[np.bool_],
    use_rows: npt.NDArray[np.bool_] | None,
    column_sizes: npt.NDArray[np.int64],
    boundary_offsets: npt.NDArray[np.int64],
    boundaries: npt.NDArray[np.float64],
    bucket_outputs: npt.NDArray[np.int32],
    *,
    smoothing: float,
    n_jobs: int | None = None,
) -> npt.NDArray[np.int32]:
    """The output column of every value, placed by its rate over the rows with ``use_rows``."""

def transform_buckets(
    codes: npt.NDArray[np.int32],
    offsets: npt.NDArray[np.int64],
    output_of_value: npt.NDArray[np.int32],
    n_outputs: int,
    *,
    n_jobs: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """One-hot bucket columns of a code matrix as CSR ``(indptr, indices)``."""

def hash_rows(
    indptr: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    data: npt.NDArray[np.float64] | npt.NDArray[np.float32] | npt.NDArray[np.bool_] | None,
    n_features: int,
    *,
    n_columns: int,
    alternate_sign: bool,
    seed: int,
    n_jobs: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The hashing trick as CSR ``(indptr, indices, values)``."""

def hash_table_rows(
    n_rows: int,
    columns: list[_TableColumn],
    *,
    n_columns: int,
    alternate_sign: bool,
    seed: int,
    n_jobs: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The hashing trick on a table's values (columns as ``ValueVocabulary.fit_rows`` takes
    them), with no vocabulary: CSR ``(indptr, indices, values)``."""

def parse_svmlight(
    text: bytes | npt.NDArray[np.uint8],
    first_line: int,
    *,
    skip_bad_lines: bool,
    n_jobs: int | None = None,
    path: str | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64], int, int, int]:
    """Parse whole svmlight lines: ``(labels, indptr, indices, skipped_lines, min_index,
    line_ends)``, indices as written; a malformed line raises ``SvmlightError("PATH:N: ...")``
    (``"line N: ..."`` without ``path``) unless skipped."""

def complete_svmlight_lines(data: bytes | npt.NDArray[np.uint8]) -> int:
    """Where the whole svmlight lines of ``data`` end (0 when none does): a line ends at
    ``\\n``, ``\\r\\n`` or a lone ``\\r``, and a final ``\\r`` waits for the next block."""

class DelimitedError(ChromaticError):
    """A malformed record of delimited text (CSV, TSV): ``path`` (the file, or None) and ``line``
    (1-based) say where, and the message reads ``PATH:LINE: what is wrong`` (``line LINE: ...``
    without a path)."""

    path: str | None
    line: int

def set_purge_delay(milliseconds: int) -> int: ...
def split_delimited(
    data: bytes | npt.NDArray[np.uint8],
    delimiter: str,
    quote: str | None,
    n_fields: int | None,
    first_line: int,
    n_jobs: int | None = None,
    *,
    path: str | None = None,
    integer_columns: list[int] | None = None,
) -> list[
    tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.bool_]]
    | tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]
]:
    """Cut whole records of delimited text into ``n_fields`` columns (``None``: as many as the
    first record has fields) of ``(offsets, data, valid)``, Arrow's large-string layout, or for
    a column ``integer_columns`` lists whose values are all plain integers, ``(values, valid)``;
    a malformed record raises ``DelimitedError("PATH:N: ...")``."""

def complete_records(data: bytes | npt.NDArray[np.uint8], delimiter: str, quote: str | None) -> int:
    """Where the last complete record of ``data`` ends, line end included (0 when none does)."""

def count_line_ends(data: bytes | npt.NDArray[np.uint8]) -> int:
    """Line ends (``\\n``) in ``data``, those inside quoted fields included."""

def record_line(
    data: bytes | npt.NDArray[np.uint8],
    delimiter: str,
    quote: str | None,
    first_line: int,
    row: int,
    *,
    path: str | None = None,
) -> int | None:
    """The line where record ``row`` (0-based) of ``data`` starts, ``None`` past the last."""

def format_codes(
    labels: npt.NDArray[np.float64],
    codes: npt.NDArray[np.int32],
    *,
    n_jobs: int | None = None,
) -> bytes:
    """svmlight lines ``label color:code ...`` (0-based colors, zero codes left out)."""

def format_rows(
    labels: npt.NDArray[np.float64],
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int64],
    values: npt.NDArray[np.int32] | None = None,
    *,
    n_jobs: int | None = None,
) -> bytes:
    """svmlight lines ``label index:value ...`` of CSR rows (``index:1`` without ``values``)."""

def count_pairs(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int64],
    vertex_features: npt.NDArray[np.int64],
    n_features: int,
    *,
    bounds: list[int] | None = None,
    n_jobs: int | None = None,
) -> list[tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint32]]]:
    """Pair counts of binary CSR rows over the given vertices: ascending keys ``u << 32 | v``
    (``u < v``) and the rows holding each pair, in a list of one count; with ``bounds``,
    ascending vertices ``[b0, ..., bk]``, only the pairs whose smaller vertex is in
    ``b0..bk``, one count per range between consecutive bounds."""

def merge_pair_counts(
    counts: list[tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint32]]],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint32]]:
    """The sum of pair counts (one sorted merge)."""

@final
class StreamingFit:
    """A fit over chunks of rows: ``add_statistics`` for every chunk, then ``add_edges`` for
    every chunk again and ``end_shard`` (until ``graph_complete``, after ``add_pair_bounds`` for
    every chunk and ``plan_shards`` when memory is limited), then ``finish``."""

    def __new__(
        cls,
        *,
        min_cooccurrence: int,
        strategy: str,
        seed: int,
        dense_threshold: float | None,
        n_colors: int | None = None,
        glauber_steps: int | None = None,
    ) -> StreamingFit: ...
    @property
    def n_features(self) -> int: ...
    @property
    def document_frequency(self) -> npt.NDArray[np.int64]: ...
    def forget_features(self, features: npt.NDArray[np.int64]) -> None: ...
    def add_statistics(
        self,
        indptr: npt.NDArray[np.int32] | npt.NDArray[np.int64],
        indices: npt.NDArray[np.int32] | npt.NDArray[np.int64],
        n_features: int,
        *,
        data: npt.NDArray[np.float64]
        | npt.NDArray[np.float32]
        | npt.NDArray[np.bool_]
        | None = None,
        n_jobs: int | None = None,
    ) -> None: ...
    def drop_leading_features(self, count: int) -> None: ...
    def add_document_frequency(
        self, document_frequency: npt.NDArray[np.int64], n_rows: int
    ) -> None: ...
    @property
    def vertex_features(self) -> npt.NDArray[np.int64]: ...
    def add_pair_counts(
        self, keys: npt.NDArray[np.uint64], weights: npt.NDArray[np.uint32]
    ) -> None: ...
    def add_edges(
        self,
        indptr: npt.NDArray[np.int32] | npt.NDArray[np.int64],
        indices: npt.NDArray[np.int32] | npt.NDArray[np.int64],
        *,
        data: npt.NDArray[np.float64]
        | npt.NDArray[np.float32]
        | npt.NDArray[np.bool_]
        | None = None,
        n_jobs: int | None = None,
    ) -> None: ...
    def add_pair_bounds(
        self,
        indptr: npt.NDArray[np.int32] | npt.NDArray[np.int64],
        indices: npt.NDArray[np.int32] | npt.NDArray[np.int64],
        *,
        data: npt.NDArray[np.float64]
        | npt.NDArray[np.float32]
        | npt.NDArray[np.bool_]
        | None = None,
        n_jobs: int | None = None,
    ) -> None: ...
    def check_memory_limit(self, memory_limit: int, *, n_jobs: int | None = None) -> None: ...
    def plan_shards(self, memory_limit: int, *, n_jobs: int | None = None) -> None: ...
    @property
    def graph_complete(self) -> bool: ...
    def end_shard(self, *, n_jobs: int | None = None) -> None: ...
    def finish(self, *, n_jobs: int | None = None) -> dict[str, Any]: ...

@final
class ValueCounts:
    """Rows and positive rows of every (column, value) of code columns, added chunk by chunk."""

    def __new__(cls, column_sizes: npt.NDArray[np.int64]) -> ValueCounts: ...
    def add(
        self,
        codes: npt.NDArray[np.int32],
        labels: npt.NDArray[np.bool_],
        *,
        n_jobs: int | None = None,
    ) -> None: ...
    def __getnewargs__(self) -> tuple[npt.NDArray[np.int64]]: ...
    def __getstate__(self) -> tuple[bytes, bytes, int, int]: ...
    def __setstate__(self, state: tuple[bytes, bytes, int, int]) -> None: ...
    def merge(self, other: ValueCounts, *, n_jobs: int | None = None) -> None: ...
    @property
    def value_rows(self) -> npt.NDArray[np.int64]: ...
    def fit_buckets(
        self,
        *,
        budget: int,
        smoothing: float,
        min_bucket_rows: int,
        penalty: float,
        n_jobs: int | None = None,
    ) -> dict[str, Any]: ...
    def assign_buckets(
        self,
        boundary_offsets: npt.NDArray[np.int64],
        boundaries: npt.NDArray[np.float64],
        bucket_outputs: npt.NDArray[np.int32],
        *,
        smoothing: float,
    ) -> npt.NDArray[np.int32]: ...

@final
class ColoringGraph:
    """A graph to color, from a CSR adjacency matrix (its symmetric closure)."""

    def __new__(
        cls, indptr: npt.NDArray[np.int64], indices: npt.NDArray[np.int64], n_vertices: int
    ) -> ColoringGraph: ...
    @property
    def n_edges(self) -> int: ...
    @property
    def max_degree(self) -> int: ...
    def color(
        self, strategy: str, *, seed: int = 0, n_jobs: int | None = None
    ) -> npt.NDArray[np.uint32]: ...

@final
class ValueVocabulary:
    """Every distinct (column, value) of a table's categorical columns and its feature id: dense
    ids 0, 1, 2, ... in order of first appearance (column after column as fitted, rows in order),
    whatever the number of threads. A null (``valid`` False) holds no feature: id -1; a value a
    transform does not find: id -2."""

    def __new__(cls) -> ValueVocabulary: ...
    @property
    def n_features(self) -> int: ...
    def fit_strings(
        self,
        column: int,
        offsets: npt.NDArray[np.int32] | npt.NDArray[np.int64],
        data: npt.NDArray[np.uint8],
        valid: npt.NDArray[np.bool_] | None = None,
        *,
        n_jobs: int | None = None,
    ) -> npt.NDArray[np.int64]: ...
    def fit_integers(
        self,
        column: int,
        values: npt.NDArray[np.int64],
        valid: npt.NDArray[np.bool_] | None = None,
        *,
        n_jobs: int | None = None,
    ) -> npt.NDArray[np.int64]: ...
    def fit_booleans(
        self,
        column: int,
        values: npt.NDArray[np.bool_],
        valid: npt.NDArray[np.bool_] | None = None,
        *,
        n_jobs: int | None = None,
    ) -> npt.NDArray[np.int64]: ...
    def transform_strings(
        self,
        column: int,
        offsets: npt.NDArray[np.int32] | npt.NDArray[np.int64],
        data: npt.NDArray[np.uint8],
        valid: npt.NDArray[np.bool_] | None = None,
        *,
        n_jobs: int | None = None,
    ) -> npt.NDArray[np.int64]: ...
    def transform_integers(
        self,
        column: int,
        values: npt.NDArray[np.int64],
        valid: npt.NDArray[np.bool_] | None = None,
        *,
        n_jobs: int | None = None,
    ) -> npt.NDArray[np.int64]: ...
    def transform_booleans(
        self,
        column: int,
        values: npt.NDArray[np.bool_],
        valid: npt.NDArray[np.bool_] | None = None,
        *,
        n_jobs: int | None = None,
    ) -> npt.NDArray[np.int64]: ...
    def fit_rows(
        self,
        n_rows: int,
        columns: list[_TableColumn],
        *,
        n_jobs: int | None = None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
        """Add the new values of every column (column after column) and return the table's rows
        as CSR ``(indptr, indices)``, each row's ids ascending and distinct, nulls left out."""
    def transform_rows(
        self,
        n_rows: int,
        columns: list[_TableColumn],
        *,
        n_jobs: int | None = None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], int]:
        """The table's rows as ``fit_rows`` gives them, and the number of unseen values."""
    def retain(self, keep: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]: ...
    def to_arrays(
        self,
    ) -> tuple[
        npt.NDArray[np.int32], npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.uint8]
    ]: ...
    @staticmethod
    def from_arrays(
        column_of_feature: npt.NDArray[np.int32],
        kind_of_feature: npt.NDArray[np.uint8],
        value_offsets: npt.NDArray[np.int64],
        value_bytes: npt.NDArray[np.uint8],
    ) -> ValueVocabulary: ...
    def __getstate__(
        self,
    ) -> tuple[
        npt.NDArray[np.int32], npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.uint8]
    ]: ...
    def __setstate__(
        self,
        state: tuple[
            npt.NDArray[np.int32],
            npt.NDArray[np.uint8],
            npt.NDArray[np.int64],
            npt.NDArray[np.uint8],
        ],
    ) -> None: ...

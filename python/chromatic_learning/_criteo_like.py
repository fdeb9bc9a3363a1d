"""Synthetic click logs in the layout of the Criteo display-advertising data set.

`write_criteo_like` writes, a chunk at a time, rows made of a 0/1 ``label``, 13 count-like
integer columns ``I1..I13`` and 26 categorical columns ``C1..C26`` of 8 lowercase hex digits,
with the missing values, the heavy-tailed value counts and the click rate of the real data.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["write_criteo_like"]

INT_NAMES = tuple(f"I{j}" for j in range(1, 14))
CAT_NAMES = tuple(f"C{j}" for j in range(1, 27))
COLUMNS = ("label", *INT_NAMES, *CAT_NAMES)
SUFFIXES = (".txt", ".tsv", ".gz", ".parquet")

# Integer columns: a count floor(exp(mu + sigma * z)) + offset, where z mixes a latent factor
# shared by the row (loading LOADING) with noise of its own, so that the columns correlate.
# Then the share of rows where the column is missing, the group of columns missing together
# (None: a group of its own) and the column's weight in the logit, per unit of log1p(value).
# The medians and means are those of the Criteo columns.
INTS = {
    #      mu    sigma offset missing group  weight
    "I1": (0.00, 1.60, 0, 0.45, "I1", 0.25),
    "I2": (1.10, 2.40, -1, 0.0, None, 0.0),
    "I3": (2.08, 1.55, 0, 0.21, None, -0.10),
    "I4": (1.39, 1.06, 0, 0.22, "I4", 0.0),
    "I5": (7.94, 1.94, 0, 0.026, None, -0.05),
    "I6": (3.50, 1.58, 0, 0.22, None, -0.15),
    "I7": (1.10, 1.83, 0, 0.043, "I7", 0.20),
    "I8": (1.95, 1.08, 0, 0.0005, None, 0.0),
    "I9": (3.64, 1.43, 0, 0.043, "I7", 0.0),
    "I10": (0.00, 0.60, 0, 0.45, "I1", 0.30),
    "I11": (0.20, 1.30, 0, 0.043, "I7", 0.30),
    "I12": (-1.50, 2.00, 0, 0.45, None, 0.20),
    "I13": (1.40, 1.20, 0, 0.22, "I4", -0.15),
}
LOADING = 0.5

# Categorical columns. ("zipf", K, s): K values, the value of rank r (0-based) drawn with the
# probability a power law of exponent s gives to [r + 1, r + 2), so all of them appear within
# the first few million rows. ("pareto", alpha, m): unbounded ranks floor(m * V), V Pareto
# with tail index alpha, so new values keep appearing as rows are added (about n ** (1 / (1 +
# alpha)) distinct values in n rows, most of them seen once); alpha and m give, in expectation,
# the distinct values of the Criteo Kaggle set in its 45,840,617 rows (less the missing ones).
# Then the missing share, the group and the standard deviation of the values' hidden weights.
CATS = {
    "C1": (("zipf", 1460, 1.1), 0.0, None, 0.3),
    "C2": (("zipf", 583, 1.0), 0.0, None, 0.3),
    "C3": (("pareto", 0.3, 10767.0), 0.034, "C3", 0.25),
    "C4": (("pareto", 0.3, 14.4), 0.034, "C3", 0.25),
    "C5": (("zipf", 305, 1.3), 0.0, None, 0.3),
    "C6": (("zipf", 24, 1.0), 0.12, None, 0.4),
    "C7": (("zipf", 12517, 1.1), 0.0, None, 0.3),
    "C8": (("zipf", 633, 1.2), 0.0, None, 0.3),
    "C9": (("zipf", 3, 0.8), 0.0, None, 0.4),
    "C10": (("pareto", 0.8, 11.26), 0.0, None, 0.25),
    "C11": (("zipf", 5683, 1.1), 0.0, None, 0.3),
    "C12": (("pareto", 0.3, 4651.7), 0.034, "C3", 0.25),
    "C13": (("zipf", 3194, 1.1), 0.0, None, 0.3),
    "C14": (("zipf", 27, 0.9), 0.0, None, 0.4),
    "C15": (("zipf", 14992, 1.1), 0.0, None, 0.3),
    "C16": (("pareto", 0.3, 736.94), 0.034, "C3", 0.25),
    "C17": (("zipf", 10, 0.7), 0.0, None, 0.4),
    "C18": (("zipf", 5652, 1.1), 0.0, None, 0.3),
    "C19": (("zipf", 2173, 1.2), 0.44, "C19", 0.3),
    "C20": (("zipf", 4, 0.5), 0.44, "C19", 0.4),
    "C21": (("pareto", 0.3, 2225.3), 0.034, "C3", 0.25),
    "C22": (("zipf", 18, 1.5), 0.45, None, 0.4),
    "C23": (("zipf", 15, 1.0), 0.0, None, 0.4),
    "C24": (("pareto", 0.8, 147.05), 0.034, "C3", 0.25),
    "C25": (("zipf", 105, 1.2), 0.44, "C19", 0.3),
    "C26": (("pareto", 0.8, 60.6), 0.44, "C19", 0.25),
}
UNBOUNDED = tuple(name for name, spec in CATS.items() if spec[0][0] == "pareto")
MISSING_RATES = {
    **{name: spec[3] for name, spec in INTS.items()},
    **{name: spec[1] for name, spec in CATS.items()},
}
# The group of columns each column is missing with; every group draws one uniform a row, from
# a stream numbered by its place in GROUPS.
GROUP_OF = {
    **{name: spec[4] or name for name, spec in INTS.items()},
    **{name: spec[2] or name for name, spec in CATS.items()},
}
GROUPS = tuple(dict.fromkeys(GROUP_OF.values()))
# Every generator is seeded by the seed and a key (part, chunk, stream) of three 32-bit words:
# the part is the file's rows, the rows that set the bias, or the salts of the hashes.
ROWS, CALIBRATION, SALTS = 0, 1, 2
LABEL_STREAM, LATENT_STREAM, INT_STREAM, CAT_STREAM, GROUP_STREAM = 0, 1, 100, 200, 300
MAX_CHUNKS = 2**32
# Rows drawn to set the bias that gives the asked positive rate.
CALIBRATION_ROWS = 20_000

# Hex digits of every 16-bit value, four ASCII bytes in a little-endian uint32.
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8).astype(np.uint32)
_I = np.arange(1 << 16, dtype=np.uint32)
HEX16 = _HEX[_I >> 12] | _HEX[_I >> 8 & 15] << 8 | _HEX[_I >> 4 & 15] << 16 | _HEX[_I & 15] << 24
del _I


def _mix(x: np.ndarray) -> np.ndarray:
    """Splitmix64's finaliser: a bijection of uint64 that scrambles every bit (in place)."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _hex8(values: np.ndarray) -> np.ndarray:
    """Spell each uint32 in 8 lowercase hex digits, one uint64 of ASCII bytes in order."""
    swapped = (values >> np.uint32(16)) | (values << np.uint32(16))
    return np.take(HEX16, swapped.view(np.uint16)).view(np.uint64)


class _Generator:
    """Draws the chunks of one seed: their values, missing masks and labels."""

    def __init__(self, seed: int, missing_rates: Mapping[str, float], positive_rate: float):
        self.seed = seed
        self.missing = dict(missing_rates)
        salts = self._seeds((SALTS, 0), 0).generate_state(2 * len(CATS), np.uint64)
        self.salts = salts[: len(CATS)]
        self.weight_salts = salts[len(CATS) :]
        self.tables = {}
        for j, (name, (shape, _, _, sigma)) in enumerate(CATS.items()):
            if shape[0] == "zipf":
                values = self._values(j, np.arange(shape[1], dtype=np.uint64))
                self.tables[name] = (_hex8(values), self._weights(j, values, sigma))
        logits = self.draw((CALIBRATION, 0), CALIBRATION_ROWS)[-1]
        self.bias = _bias_for_rate(logits, positive_rate)

    def _seeds(self, chunk: tuple[int, int], stream: int) -> np.random.SeedSequence:
        # A spawn key, unlike a longer entropy list, cannot collide with the seed's own words.
        return np.random.SeedSequence(self.seed, spawn_key=(*chunk, stream))

    def _rng(self, chunk: tuple[int, int], stream: int) -> np.random.Generator:
        return np.random.default_rng(self._seeds(chunk, stream))

    def _values(self, j: int, keys: np.ndarray) -> np.ndarray:
        """Return the uint32 value of each rank key of categorical column ``j``."""
        return (_mix(keys ^ self.salts[j]) >> np.uint64(32)).astype(np.uint32)

    def _weights(self, j: int, values: np.ndarray, sigma: float) -> np.ndarray:
        """Return the hidden weight of each value of column ``j``: a hash of (column, value).

        The sum of the four 16-bit uniforms of the hash, rescaled to mean 0 and standard
        deviation ``sigma`` (close to a normal).
        """
        h = _mix(values.astype(np.uint64) ^ self.weight_salts[j])
        lanes = np.uint64(0x0000FFFF0000FFFF)
        pairs = (h & lanes) + ((h >> np.uint64(16)) & lanes)
        total = ((pairs & np.uint64(0xFFFFFFFF)) + (pairs >> np.uint64(32))).astype(np.float32)
        return (total * np.float32(1 / 65536) - np.float32(2)) * np.float32(sigma * np.sqrt(3))

    def _missing(self, chunk: tuple[int, int], rows: int) -> dict[str, np.ndarray | None]:
        uniforms: dict[str, np.ndarray] = {}
        masks: dict[str, np.ndarray | None] = {}
        for name in COLUMNS[1:]:
            rate = self.missing[name]
            if rate <= 0:
                masks[name] = None
                continue
            group = GROUP_OF[name]
            if group not in uniforms:
                stream = GROUP_STREAM + GROUPS.index(group)
                uniforms[group] = self._rng(chunk, stream).random(rows, dtype=np.float32)
            masks[name] = uniforms[group] < np.float32(rate)
        return masks

    def draw(self, chunk: tuple[int, int], rows: int):
        """Draw the first ``rows`` rows of chunk ``(part, index)`` (those of any longer draw).

        Returns ``(ints, hexes, masks, logits)``: the int64 integer columns, the categorical
        columns as uint64 of 8 hex digits, each column's missing mask (None: none missing),
        and each row's logit less the bias.
        """
        masks = self._missing(chunk, rows)
        logits = np.zeros(rows, dtype=np.float32)
        latent = self._rng(chunk, LATENT_STREAM).standard_normal(rows, dtype=np.float32)
        latent *= np.float32(LOADING)
        ints = []
        for j, (name, (mu, sigma, offset, _, _, weight)) in enumerate(INTS.items()):
            z = self._rng(chunk, INT_STREAM + j).standard_normal(rows, dtype=np.float32)
            z *= np.float32(np.sqrt(1 - LOADING**2))
            z += latent
            # float32 holds every count up to 2**24, about exp(16.6): wider columns use float64.
            exponent = z.astype(np.float32 if mu + 6 * sigma < 16.6 else np.float64)
            exponent *= sigma
            exponent += mu
            counts = np.exp(np.minimum(exponent, 40.0, out=exponent), out=exponent)
            counts = counts.astype(np.int64)
            counts += offset
            if weight:
                effect = np.log(np.maximum(counts, 0).astype(np.float32) + np.float32(1))
                effect *= np.float32(weight)
                if masks[name] is not None:
                    effect[masks[name]] = 0.0
                logits += effect
            ints.append(counts)
        hexes = []
        for j, (name, (shape, _, _, sigma)) in enumerate(CATS.items()):
            if shape[0] == "zipf":
                _, size, s = shape
                u = self._rng(chunk, CAT_STREAM + j).random(rows, dtype=np.float32)
                ranks = _bounded_power_ranks(u, int(size), s)
                table_hex, table_weights = self.tables[name]
                hexes.append(np.take(table_hex, ranks))
                weights = np.take(table_weights, ranks)
            else:
                _, alpha, m = shape
                # float64 draws, for the tens of millions of distinct values of long files.
                draws = self._rng(chunk, CAT_STREAM + j).random(rows)
                # m * (1 - u) ** (-1 / alpha), 1 - u in (0, 1]; the float bits of the (possibly
                # huge) rank are its key.
                np.subtract(1.0, draws, out=draws)
                np.log(draws, out=draws)
                draws *= -1.0 / alpha
                np.exp(draws, out=draws)
                draws *= m
                np.floor(draws, out=draws)
                values = self._values(j, draws.view(np.uint64))
                hexes.append(_hex8(values))
                weights = self._weights(j, values, sigma)
            if masks[name] is not None:
                # A missing value has a weight of its own, that of the value 0.
                weights[masks[name]] = self._weights(j, np.zeros(1, np.uint32), sigma)[0]
            logits += weights
        return ints, hexes, masks, logits

    def labels(self, chunk: tuple[int, int], rows: int, logits: np.ndarray) -> np.ndarray:
        u = self._rng(chunk, LABEL_STREAM).random(rows)
        return (u * (1.0 + np.exp(-(logits + self.bias))) < 1.0).astype(np.int8)


def _bounded_power_ranks(u: np.ndarray, size: int, s: float) -> np.ndarray:
    """Ranks ``0..size - 1``: the floor, less 1, of ``x`` of density ``x**-s`` on [1, size + 1)."""
    if s == 1.0:
        x = np.exp(u * np.float32(np.log(size + 1.0)))
    else:
        top = (size + 1.0) ** (1.0 - s)
        x = np.exp(np.log(u * np.float32(top - 1.0) + np.float32(1)) * np.float32(1 / (1 - s)))
    ranks = x.astype(np.int64)
    ranks -= 1
    return np.clip(ranks, 0, size - 1, out=ranks)


def _bias_for_rate(logits: np.ndarray, rate: float) -> float:
    """Return the bias ``b`` for which ``sigmoid(logits + b)`` averages ``rate`` (bisection)."""
    low, high = -40.0, 40.0
    for _ in range(60):
        middle = (low + high) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(logits + middle)))) < rate:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _table(pa, label, ints, hexes, masks):
    """Return the chunk as an Arrow table: label int8, I* int64, C* string (missing: null)."""
    rows = len(label)

    def validity(mask):
        if mask is None or not mask.any():
            return None
        return pa.py_buffer(np.packbits(~mask, bitorder="little"))

    columns = [pa.Array.from_buffers(pa.int8(), rows, [None, pa.py_buffer(label)])]
    for name, values in zip(INT_NAMES, ints, strict=True):
        buffers = [validity(masks[name]), pa.py_buffer(values)]
        columns.append(pa.Array.from_buffers(pa.int64(), rows, buffers))
    offsets = pa.py_buffer(np.arange(0, 8 * rows + 1, 8, dtype=np.int32))
    for name, digits in zip(CAT_NAMES, hexes, strict=True):
        buffers = [validity(masks[name]), offsets, pa.py_buffer(digits)]
        columns.append(pa.Array.from_buffers(pa.string(), rows, buffers))
    return pa.Table.from_arrays(columns, schema=_schema(pa))


def _schema(pa):
    return pa.schema(
        [pa.field("label", pa.int8(), nullable=False)]
        + [pa.field(name, pa.int64()) for name in INT_NAMES]
        + [pa.field(name, pa.string()) for name in CAT_NAMES]
    )


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_rates(missing_rates: Mapping[str, float] | None) -> dict[str, float]:
    rates = dict(MISSING_RATES)
    if missing_rates is None:
        return rates
    for name, rate in dict(missing_rates).items():
        if name not in rates:
            raise ValueError(
                f"missing_rates: no column {name!r}; the columns are I1..I13 and C1..C26"
            )
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
            raise ValueError(f"missing_rates[{name!r}] must be a number in [0, 1), got {rate!r}")
        rates[name] = float(rate)
    return rates


def _output_kind(path) -> str:
    name = os.path.basename(os.fspath(path))
    if name.lower().endswith(".parquet"):
        return "parquet"
    # As chromatic_learning._output compresses: ".gz" in lower case only.
    if name.endswith(".gz") or name.lower().endswith((".txt", ".tsv")):
        return "text"
    raise ValueError(
        f"{os.fspath(path)}: the name must end in one of {', '.join(SUFFIXES)} "
        "(tab-separated text, the same gzip-compressed, or Parquet)"
    )


def write_criteo_like(
    path: str | os.PathLike,
    n_rows: int,
    *,
    seed: int = 0,
    chunk_rows: int = 200_000,
    first_chunk: int = 0,
    positive_rate: float = 0.25,
    missing_rates: Mapping[str, float] | None = None,
    progress: Callable[[int], object] | None = None,
) -> None:
    r"""Write synthetic click logs in the layout of the Criteo display-advertising data set.

    Every row holds, in this order, a ``label`` (1 for a click), 13 integer columns ``I1..I13``
    and 26 categorical columns ``C1..C26``, as in the Criteo Kaggle and Terabyte click logs:

    * the integer columns are counts, mostly small and heavy-tailed (the medians and means of
      the Criteo columns; ``I2`` goes down to -1, ``I5`` up to tens of millions), correlated
      through a factor the row shares;
    * a categorical value is 8 lowercase hex digits (``68fd1e64``). Some columns hold a few
      values (``C9`` 3, ``C20`` 4, ``C17`` 10), some thousands (``C7``, ``C15``), and eight
      keep gaining values as rows are added, most of them seen once: at the 45.8 million rows
      of the Kaggle set, as many as it has, about 10M (``C3``), 8M (``C12``), 7M (``C21``), 5M
      (``C16``), 2M (``C4``), 290k (``C24``), 140k (``C26``) and 90k (``C10``) distinct
      values; at 1M rows 520k, 430k, 370k, 290k, 120k, 34k, 17k and 11k;
    * values are missing as often as in the Criteo data, from never to 45% of the rows, and in
      the same groups (``I1`` with ``I10``; ``C3``, ``C4``, ``C12``, ``C16``, ``C21`` and
      ``C24`` together; ``C19``, ``C20``, ``C25`` and ``C26`` together);
    * the label follows a logistic model: every value of every categorical column has a hidden
      weight, a hash of the column and the value (no table is kept), and a few integer columns
      add ``weight * log1p(value)``; a bias gives ``positive_rate``, so a model can learn
      from the features but not all (rare values carry weights no model sees twice).

    The name of the file says its format: ``.txt`` or ``.tsv`` for tab-separated text without a
    header, missing values empty (the Criteo files' layout); ``.gz`` for the same compressed
    with gzip (level 1, for speed; ``day_0.gz`` is the Terabyte files' name); ``.parquet`` for a
    Parquet file of columns ``label`` (int8), ``I1..I13`` (int64) and ``C1..C26`` (string),
    missing values null, one row group a chunk. Both are written by ``pyarrow``.

    Rows are drawn a chunk at a time, from generators seeded by ``seed`` and the chunk, so a
    file of any size is written in memory bounded by two chunks (the next is drawn while the
    last is written), and the first ``n`` rows of a file are the file of ``n`` rows of the same
    ``seed`` and ``chunk_rows``. ``first_chunk`` continues a stream: with the defaults,
    ``first_chunk=50`` writes the rows that follow the first 10 million, a held-out set from the
    same distribution. The file appears whole or not at all: it is written under a temporary
    name beside ``path``, put in place at the end (replacing ``path`` if it exists) and removed
    on any error, Ctrl-C, SIGTERM or SIGHUP.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write, ending in ``.txt``, ``.tsv``, ``.gz`` or ``.parquet``.
    n_rows : int
        Number of rows, at least 1.
    seed : int, default=0
        Seeds the values, the hidden weights and every chunk; at least 0.
    chunk_rows : int, default=200_000
        Rows drawn and written at a time (about 250 bytes of text a row).
    first_chunk : int, default=0
        Index of the first chunk, to continue the rows of another file.
    positive_rate : float, default=0.25
        Expected share of positive labels (Criteo's is 0.26), in (0, 1).
    missing_rates : mapping of str to float or None, default=None
        Share of rows where a column is missing, in [0, 1), by column name (``"I12"``,
        ``"C22"``...), replacing the default of the columns named. Columns of one group stay
        missing together: one missing less often is missing only when the others are.
    progress : callable or None, default=None
        Called as ``progress(rows)`` after every chunk, with the rows it wrote.

    Returns
    -------
    None
        The rows are in the file.

    Raises
    ------
    ValueError
        If the name ends in another suffix, or an argument is out of range.

    See Also
    --------
    write_onehot_zipf : Labelled sparse binary rows written to an svmlight file.
    chromatic_learning.TableEncoder : The columns of a table as binary ``column=value`` features.

    Notes
    -----
    The next chunk is drawn while the last is formatted, compressed and written, on two cores.
    There, 1M rows take about 2.5 s as text (250 MB), 3.5 s as Parquet (85 MB) and 7.5 s as
    gzip (110 MB, bound by the compression).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from chromatic_learning.datasets import write_criteo_like
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "clicks.txt"
    ...     write_criteo_like(path, 1000, seed=0, chunk_rows=400)
    ...     lines = path.read_text().splitlines()
    >>> len(lines), len(lines[0].split("\t"))
    (1000, 40)
    >>> fields = lines[0].split("\t")
    >>> fields[0] in ("0", "1"), all(len(value) in (0, 8) for value in fields[14:])
    (True, True)
    """
    from ._output import Outputs, ending_on_signals

    kind = _output_kind(path)
    n_rows = _check_int("n_rows", n_rows, 1)
    seed = _check_int("seed", seed, 0)
    chunk_rows = _check_int("chunk_rows", chunk_rows, 1)
    first_chunk = _check_int("first_chunk", first_chunk, 0)
    if first_chunk + -(-n_rows // chunk_rows) > MAX_CHUNKS:
        raise ValueError(
            f"first_chunk ({first_chunk}) plus the chunks written must be at most 2**32; "
            "write larger chunks"
        )
    if (
        isinstance(positive_rate, bool)
        or not isinstance(positive_rate, numbers.Real)
        or not 0 < positive_rate < 1
    ):
        raise ValueError(f"positive_rate must be a number in (0, 1), got {positive_rate!r}")
    rates = _check_rates(missing_rates)
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be callable or None, got {progress!r}")
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    outputs = Outputs()
    outputs.add(path, "parquet" if kind == "parquet" else "svmlight")
    generator = _Generator(seed, rates, float(positive_rate))
    options = pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")

    def chunks():
        for c, start in enumerate(range(0, n_rows, chunk_rows), start=first_chunk):
            rows = min(chunk_rows, n_rows - start)
            ints, hexes, masks, logits = generator.draw((ROWS, c), rows)
            yield _table(pa, generator.labels((ROWS, c), rows, logits), ints, hexes, masks)

    with ending_on_signals(), outputs, outputs.open(path, compresslevel=1) as out:
        if kind == "parquet":
            # No dictionaries for the columns of millions of values, and no min/max statistics
            # of hex strings: they slow the writing down and help no reader.
            writer = pq.ParquetWriter(
                out,
                _schema(pa),
                use_dictionary=[name for name in COLUMNS if name not in UNBOUNDED],
                write_statistics=["label", *INT_NAMES],
            )
            with writer:
                _pipeline(
                    chunks(),
                    lambda table: writer.write_table(table, row_group_size=table.num_rows),
                    progress,
                )
        else:

            def write_text(table):
                text = pa.BufferOutputStream()
                pacsv.write_csv(table, text, options)
                out.write(text.getvalue())

            _pipeline(chunks(), write_text, progress)


def _pipeline(tables, write, progress) -> None:
    """Write each table on a thread while the next is drawn; report each written chunk.

    On any failure the write in progress is awaited before the failure goes on, so that the
    file is no longer in use when it is removed.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="chromatic-writer") as pool:
        pending = None
        for table in tables:
            if pending is not None:
                rows = pending.result()
                if progress is not None:
                    progress(rows)
            pending = pool.submit(_written_rows, write, table)
        if pending is not None:
            rows = pending.result()
            if progress is not None:
                progress(rows)


def _written_rows(write, table) -> int:
    write(table)
    return table.num_rows

"""Write the raw flights table shipped with the package.

The file is ``chromatic_learning/data/flights_table.parquet``.

100,000 rows drawn at random (seed 0) from ``flights-3m.parquet`` (``../shared/data/flights``),
kept in time order, with its raw columns: date, delay, distance, origin, destination.

    python benches/make_flights_table.py ../shared/data/flights/flights-3m.parquet
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROWS = 100_000


def main(source: str) -> None:
    table = pq.read_table(source)
    rows = np.sort(np.random.default_rng(0).choice(table.num_rows, ROWS, replace=False))
    cut = table.take(pa.array(rows))
    # Small types for a small file: minutes fit in int16, codes of airports in dictionaries.
    cut = pa.table(
        {
            "date": cut["date"],
            "delay": cut["delay"].cast(pa.int16()),
            "distance": cut["distance"].cast(pa.int16()),
            "origin": cut["origin"].cast(pa.string()).dictionary_encode(),
            "destination": cut["destination"].cast(pa.string()).dictionary_encode(),
        }
    )
    target = (
        Path(__file__).parents[1]
        / "python"
        / "chromatic_learning"
        / "data"
        / "flights_table.parquet"
    )
    pq.write_table(cut, target, compression="zstd", compression_level=19)
    print(f"{target}: {cut.num_rows:,} rows, {target.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(sys.argv[1])

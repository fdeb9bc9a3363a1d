"""Value vocabularies put together: one fitted into another, and ids put in column order.

The ids of a table's features follow the columns, then, within a column, the order in which its
values first appear (rows in order): what ``TableFeatures.fit_transform`` gives for a whole
table. A fit in pieces gives other ids. ``fit_more`` chunk after chunk numbers the values new to
each chunk after those of the chunks before (column after column within the chunk); fitting the
vocabulary of each piece of rows into that of the pieces before it (``fit_into``: the ids there
stay, the new values get the next ids, in the piece's order) gives the same ids, whichever way
the fits are grouped, as long as the pieces keep their order. In both, each column's values keep
their order of first appearance over all the rows; only the columns are interleaved.
``in_column_order`` renumbers such a vocabulary column after column (a stable sort by column),
which gives the ids of the whole table in one piece, however the rows were cut.
"""

from __future__ import annotations

import itertools

import numpy as np

from . import _core

#: ``kind_of_feature`` codes of ``ValueVocabulary.to_arrays``.
STRING, INTEGER, BOOLEAN = 0, 1, 2


def gathered_values(offsets: np.ndarray, data: np.ndarray, features: np.ndarray) -> tuple:
    """Return the offsets (int64, from 0) and bytes of the values of ``features``, in order."""
    starts = offsets[features]
    lengths = offsets[features + 1] - starts
    new_offsets = np.zeros(len(features) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    at = np.arange(new_offsets[-1], dtype=np.int64) + np.repeat(starts - new_offsets[:-1], lengths)
    return new_offsets, data[at]


def fit_into(
    vocabulary: _core.ValueVocabulary, other: _core.ValueVocabulary, n_jobs=None
) -> np.ndarray:
    """Fit the values of ``other`` into ``vocabulary``, in the order of their ids there.

    The values already in ``vocabulary`` keep their ids; the new ones get the next ids, in the
    order of their ids in ``other``. Returns the id in ``vocabulary`` of every feature of
    ``other`` (int64). The values go to the engine a run of one column at a time.
    """
    columns, kinds, offsets, data = other.to_arrays()
    ids = np.empty(len(columns), dtype=np.int64)
    key = columns.astype(np.int64) * 3 + kinds
    bounds = np.append(np.flatnonzero(np.diff(key, prepend=-1)), len(key))
    for start, stop in itertools.pairwise(bounds.tolist()):
        features = np.arange(start, stop)
        column, kind = int(columns[start]), int(kinds[start])
        value_offsets, value_bytes = gathered_values(offsets, data, features)
        if kind == STRING:
            ids[start:stop] = vocabulary.fit_strings(
                column, value_offsets, value_bytes, n_jobs=n_jobs
            )
        elif kind == INTEGER:
            values = np.ascontiguousarray(value_bytes).view("<i8").astype(np.int64)
            ids[start:stop] = vocabulary.fit_integers(column, values, n_jobs=n_jobs)
        else:
            ids[start:stop] = vocabulary.fit_booleans(
                column, value_bytes.astype(bool), n_jobs=n_jobs
            )
    return ids


def in_column_order(vocabulary: _core.ValueVocabulary) -> tuple[_core.ValueVocabulary, np.ndarray]:
    """Renumber ``vocabulary`` column after column; return it and the new id of each old one.

    Within a column, the values keep the order of their ids. ``vocabulary`` is returned as it is
    when its ids already follow the columns.
    """
    columns, kinds, offsets, data = vocabulary.to_arrays()
    order = np.argsort(columns, kind="stable")
    new_id = np.empty(len(order), dtype=np.int64)
    new_id[order] = np.arange(len(order))
    if (order == np.arange(len(order))).all():
        return vocabulary, new_id
    value_offsets, value_bytes = gathered_values(offsets, data, order)
    renumbered = _core.ValueVocabulary.from_arrays(
        columns[order], kinds[order], value_offsets, value_bytes
    )
    return renumbered, new_id

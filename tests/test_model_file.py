"""The versioned model file."""

from __future__ import annotations

import functools
import gzip
import io
import json
import os
import re
import struct
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from chromatic_learning import (
    ChromaticCompressor,
    ChromaticEncoder,
    ModelFileError,
    load_model,
    save_model,
)

from conftest import labelled_sparse, random_sparse


def test_round_trip_transforms_the_same(tmp_path):
    X = random_sparse(30_000, 40_000, 24, seed=12, zipf=1.0)
    encoder = ChromaticEncoder(n_colors=300, random_state=1).fit(X[:20_000])
    path = tmp_path / "model.npz"
    save_model(encoder, path)
    loaded = load_model(path)
    np.testing.assert_array_equal(
        loaded.transform(X[20_000:30_000]), encoder.transform(X[20_000:30_000])
    )
    assert loaded.get_params() == encoder.get_params()
    assert (loaded.n_colors_, loaded.n_edges_, loaded.max_degree_) == (
        encoder.n_colors_,
        encoder.n_edges_,
        encoder.max_degree_,
    )
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"], "no temporary file left"


@pytest.mark.parametrize(
    ("n_frequent", "tail"), [(0, "buckets"), (100, "buckets"), (512, "buckets"), (100, "hashed")]
)
def test_compressor_round_trip_transforms_the_same(tmp_path, n_frequent, tail):
    X, y = labelled_sparse(30_000, 40_000, 24, seed=13)
    compressor = ChromaticCompressor(budget=512, n_frequent=n_frequent, tail=tail, random_state=0)
    compressor.fit(X[:20_000], y[:20_000])
    path = tmp_path / "compressor.npz"
    save_model(compressor, path, metadata={"zero_based": True})
    loaded = load_model(path)
    assert isinstance(loaded, ChromaticCompressor)
    assert loaded.get_params() == compressor.get_params()
    assert (loaded.transform(X[20_000:]) != compressor.transform(X[20_000:])).nnz == 0
    np.testing.assert_array_equal(loaded.classes_, compressor.classes_)
    assert loaded.n_features_out_ == compressor.n_features_out_


def test_unreadable_files_get_clear_errors(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="a text file, not a model"):
        load_model(junk)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    with pytest.raises(ModelFileError, match="not a chromatic model file"):
        load_model(other)
    encoder = ChromaticEncoder().fit(random_sparse(50, 10, 4, 0))
    path = tmp_path / "m.npz"
    save_model(encoder, path)
    with np.load(path) as stored:
        content = dict(stored)
    content["version"] = np.array(99)
    future = tmp_path / "future.npz"
    np.savez(future, **content)
    with pytest.raises(ModelFileError, match="version 99; this chromatic reads versions 1 to 2"):
        load_model(future)
    with pytest.raises(ValueError, match="fitted ChromaticEncoder"):
        save_model(ChromaticEncoder(), tmp_path / "unfitted.npz")


@pytest.mark.parametrize("kind", ["encoder", "compressor"])
def test_models_saved_by_the_first_format_load_and_encode_the_same(kind):
    # Written by the release that introduced format version 1, with its outputs for the rows.
    folder = Path(__file__).parent / "data"
    X = random_sparse(400, 60, 6, seed=11, zipf=1.2)
    model = load_model(folder / f"{kind}-v1.npz")
    expected = np.load(folder / "outputs-v1.npz")
    if kind == "encoder":
        np.testing.assert_array_equal(model.transform(X), expected["codes"])
    else:
        np.testing.assert_array_equal(model.transform(X).toarray(), expected["columns"])


def test_outputs_are_checked_against_inputs_by_path_and_by_file(tmp_path):
    from chromatic_learning._output import check_outputs

    data = tmp_path / "data.svm"
    data.write_text("1 1:1\n")
    hard = tmp_path / "hard.svm"
    os.link(data, hard)
    for output in (data, tmp_path / "sub" / ".." / "data.svm", hard):
        with pytest.raises(ValueError, match="would overwrite its input"):
            check_outputs([output], [data])
    with pytest.raises(ValueError, match="written twice"):
        check_outputs([tmp_path / "a", tmp_path / "a"], [data])
    check_outputs([tmp_path / "new.npz"], [data])


# ----------------------------------------------------------------------------------------------
# Hostile files: bounded reading, every array checked against the others, one-line messages


def _content(model, tmp_path, name="saved.npz") -> dict:
    path = tmp_path / name
    save_model(model, path)
    with np.load(path) as stored:
        return dict(stored)


def _written(tmp_path, content: dict, name="tampered.npz") -> Path:
    path = tmp_path / name
    np.savez(path, **content)
    return path


@functools.cache
def _small_models():
    X = random_sparse(300, 40, 6, seed=3, zipf=1.1)
    y = (np.asarray(X[:, :3].sum(axis=1)).ravel() > 0).astype(int)
    encoder = ChromaticEncoder(random_state=0).fit(X)
    compressor = ChromaticCompressor(budget=16, n_frequent=3, random_state=0).fit(X, y)
    assert compressor.encoder_ is not None and compressor.encoder_.n_colors_ > 2
    return X, encoder, compressor


def _deflated_npy_member(archive: zipfile.ZipFile, member: str, header: dict, fill: bytes, n):
    """Write ``member`` as an .npy header followed by ``n`` times ``fill``, deflated."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    with archive.open(member + ".npy", "w") as out:
        out.write(buffer.getvalue())
        for _ in range(n):
            out.write(fill)


def test_a_member_inflating_past_its_role_is_refused_before_it_is_read(tmp_path):
    # The metadata member of a small file declares 256 MiB of text: refused from the
    # declared size, without allocating it.
    _, encoder, _ = _small_models()
    good = tmp_path / "good.npz"
    save_model(encoder, good)
    bomb = tmp_path / "bomb.npz"
    block = ("{}" + " " * (2**16 - 2)).encode("utf-32-le")
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename != "metadata.npy":
                out.writestr(info.filename, source.read(info))
        header = {"descr": "<U16", "fortran_order": False, "shape": (2**24,)}
        _deflated_npy_member(out, "metadata", header, block, 2**28 // len(block))
    assert bomb.stat().st_size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=r"member 'metadata' declares \d+ bytes; its role"):
            load_model(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


def _forge_declared_size(path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size ``member``'s zip headers declare (local and central)."""
    data = bytearray(path.read_bytes())
    name = (member + ".npy").encode()
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(member + ".npy").header_offset
    # The size is at offset 22 of the local header and 24 of the central directory entry.
    assert data[local + 30 : local + 30 + len(name)] == name
    struct.pack_into("<I", data, local + 22, size)
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 1)
    struct.pack_into("<I", data, central + 24, size)
    path.write_bytes(bytes(data))


def test_a_member_inflating_past_its_declared_size_is_read_with_a_bound(tmp_path):
    # The .npy header and the zip entry agree on 64 bytes of codes, but the deflated stream
    # holds 64 MiB: the read stops at the declared size and the file is refused.
    _, encoder, _ = _small_models()
    content = _content(encoder, tmp_path)
    good = _written(tmp_path, {k: v for k, v in content.items() if k != "metadata"}, "good.npz")
    forged = tmp_path / "forged.npz"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(forged, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info.filename, source.read(info))
        header = {"descr": "<U16", "fortran_order": False, "shape": (2**20,)}
        _deflated_npy_member(out, "metadata", header, bytes(2**16), 2**10)
    with zipfile.ZipFile(forged) as archive:
        header_size = archive.getinfo("metadata.npy").file_size - 2**26
    _forge_declared_size(forged, "metadata", header_size + 64)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="member 'metadata'"):
            load_model(forged)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


def _dense(Z) -> np.ndarray:
    return Z.toarray() if sp.issparse(Z) else np.asarray(Z)


def test_deflated_models_load_like_stored_ones(tmp_path):
    X, encoder, compressor = _small_models()
    for model in (encoder, compressor):
        path = tmp_path / "compressed.npz"
        np.savez_compressed(path, **_content(model, tmp_path))
        np.testing.assert_array_equal(
            _dense(load_model(path).transform(X)), _dense(model.transform(X))
        )


def test_files_that_are_not_models_get_one_line(tmp_path):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    text = tmp_path / "train.svm"
    text.write_text("1 1:1 2:1\n0 3:1\n")
    table = tmp_path / "clicks.parquet"
    pq.write_table(pa.table({"site": ["a", "b"]}), table)
    packed = tmp_path / "train.svm.gz"
    packed.write_bytes(gzip.compress(text.read_bytes()))
    csv = tmp_path / "clicks.csv"
    csv.write_text("site,click\na.com,1\n")
    for path, kind in [
        (empty, "not a chromatic model file"),
        (text, "a svmlight file, not a model"),
        (table, "a Parquet file, not a model"),
        (packed, "a gzip-compressed file, not a model"),
        (csv, "a text table (CSV or TSV), not a model"),
    ]:
        with pytest.raises(ModelFileError, match=re.escape(kind)) as caught:
            load_model(path)
        assert "allow_pickle" not in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ModelFileError, match="a folder, not a model file"):
        load_model(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match="not a regular file"):
        load_model(fifo)  # refused before it is opened, which would block


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (np.array(1.9), r"version 1\.9 \(float64\) is not an integer"),
        (np.array(1.0), r"version 1\.0 \(float64\) is not an integer"),
        (np.array("1"), r"version '1' \(<U1\) is not an integer"),
        (np.array(True), r"version True \(bool\) is not an integer"),
        (np.array([1]), r"member 'version' has shape \(1,\)"),
        (np.array(2**64 - 1, dtype=np.uint64), r"version 18446744073709551615; this chromatic"),
    ],
)
def test_the_version_is_the_integer_one_exactly(tmp_path, version, message):
    _, encoder, _ = _small_models()
    content = _content(encoder, tmp_path)
    content["version"] = version
    with pytest.raises(ModelFileError, match=message):
        load_model(_written(tmp_path, content))


def test_integers_of_another_width_or_byte_order_load(tmp_path):
    # Files written where numpy's default integer is 32 bits hold int32 scalars.
    X, encoder, _ = _small_models()
    content = _content(encoder, tmp_path)
    content["version"] = np.array(1, dtype=np.int32)
    content["n_features_in"] = np.array(encoder.n_features_in_, dtype=">u4")
    content["codes"] = content["codes"].astype(np.int16)
    content["color_sizes"] = content["color_sizes"].astype(">i8")
    np.testing.assert_array_equal(
        load_model(_written(tmp_path, content)).transform(X), encoder.transform(X)
    )


def _set(member, value):
    def change(content):
        content[member] = value(content[member]) if callable(value) else value

    return change


def _edit(member, edit):
    """Change a copy of ``member`` in place with ``edit``."""

    def change(content):
        array = content[member].copy()
        edit(array, content)
        content[member] = array

    return change


def _first_color_of_size(content, size, prefix=""):
    return int(np.flatnonzero(content[prefix + "color_sizes"] >= size)[0])


def _code_past_size(codes, content):
    feature = int(np.flatnonzero(content["colors"] >= 0)[0])
    codes[feature] = content["color_sizes"][content["colors"][feature]] + 1


def _features_sharing_a_color(content):
    return np.flatnonzero(content["colors"] == _first_color_of_size(content, 2))


def _shared_code(codes, content):
    features = _features_sharing_a_color(content)
    codes[features[0]] = codes[features[1]]


def _second_color(colors, content):
    colors[np.flatnonzero(colors >= 0)[0]] = len(content["color_sizes"])


def _nested(depth):
    return np.array("[" * depth + "]" * depth)


ENCODER_TAMPERING = {
    "code larger than its color": (_edit("codes", _code_past_size), r"'codes' (gives|holds)"),
    "two features share a color and code": (_edit("codes", _shared_code), "'codes' gives features"),
    "a color size too large": (
        _edit("color_sizes", lambda a, c: a.__setitem__(0, a[0] + 1)),
        r"'color_sizes' gives color 0",
    ),
    "a negative color size": (_set("color_sizes", lambda a: -a), r"'color_sizes' holds -\d+"),
    "a color past the colors": (_edit("colors", _second_color), "'colors' gives feature"),
    "colors as floats": (_set("colors", lambda a: a.astype(float)), "float64 values, not integers"),
    "colors of the wrong length": (_set("colors", lambda a: a[:-1]), r"'colors' has shape"),
    "colors as a matrix": (_set("colors", lambda a: a.reshape(-1, 1)), r"'colors' has shape"),
    "params as a number": (_set("params", np.array(5)), "'params' holds int64 values, not text"),
    "params as a JSON list": (_set("params", np.array("[1]")), "'params' holds a JSON list"),
    "params not JSON": (_set("params", np.array("{nope")), "'params' is not valid JSON"),
    "params nested deeply": (_set("params", _nested(10_000)), "'params' nests JSON too deeply"),
    "a huge number in params": (
        _set("params", np.array('{"n_jobs": 1' + "0" * 5000 + "}")),
        "'params' is not valid JSON",
    ),
    "an unknown parameter": (_set("params", np.array('{"colour": 1}')), "unknown parameter"),
    "an invalid parameter": (
        _set("params", np.array('{"collision": "fewest"}')),
        "'params' holds an invalid parameter: The 'collision' parameter",
    ),
    "n_jobs of 0": (_set("params", np.array('{"n_jobs": 0}')), "'params' holds an invalid"),
    "metadata nested deeply": (_set("metadata", _nested(100_000)), "'metadata' nests JSON"),
    "metadata not an object": (_set("metadata", np.array("3")), "'metadata' holds a JSON int"),
    "an object array": (
        _set("metadata", np.array([{"a": 1}], dtype=object)),
        "'metadata' holds object values",
    ),
    "a structured array": (
        _set("colors", lambda a: a.astype([("c", np.int32)])),
        "'colors' has an unreadable .npy header",
    ),
    "a dense feature sharing its color": (
        lambda c: c.update(dense_features=_features_sharing_a_color(c)[:1]),
        "'dense_features' holds feature .*, which has no color of its own",
    ),
    "text past Unicode": (
        _set("params", np.array([0x7B, 0x110000, 0x7D], "<u4").view("<U3").reshape(())),
        "'params' holds text that is not Unicode",
    ),
    "a negative edge count": (_set("n_edges", np.array(-1)), r"'n_edges' holds -1, outside"),
    "a member missing": (lambda c: c.pop("codes"), "incomplete model file: no member 'codes'"),
    "a member too many": (_set("extra", np.arange(3)), "'extra' does not belong in a"),
    "feature names twice": (
        _set("feature_names_in", lambda a: np.array(["x"] * 40)),
        "'feature_names_in' holds a label twice",
    ),
}


@pytest.mark.parametrize("case", sorted(ENCODER_TAMPERING))
def test_a_tampered_encoder_is_refused_naming_the_member(tmp_path, case, monkeypatch):
    change, message = ENCODER_TAMPERING[case]
    _, encoder, _ = _small_models()
    content = _content(encoder, tmp_path)
    content["feature_names_in"] = np.array([f"f{i}" for i in range(encoder.n_features_in_)])
    change(content)
    # Nothing is ever unpickled, whatever a member holds.
    monkeypatch.setattr("pickle.load", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr("pickle.loads", lambda *a, **k: pytest.fail("unpickled"))
    with pytest.raises(ModelFileError, match=message) as caught:
        load_model(_written(tmp_path, content))
    assert "\n" not in str(caught.value) and str(tmp_path) in str(caught.value)


def _other_column_output(table, content):
    # Send a value of the first column to an output of a bucket of another column.
    n_first_buckets = content["buckets.boundary_offsets"][1] + 1
    others = content["buckets.bucket_outputs"][n_first_buckets:]
    table[1] = others[others >= 0][0]


def _params_with(member, **changes):
    def change(content):
        params = json.loads(str(content[member]))
        params.update(changes)
        content[member] = np.array(json.dumps(params))

    return change


def _frequent_also_colored(frequent, content):
    frequent[0] = np.flatnonzero(content["encoder.colors"] >= 0)[0]


COMPRESSOR_TAMPERING = {
    "a frequent feature twice": (
        _set("frequent_features", lambda a: np.append(a, a[0])),
        "'frequent_features' holds a feature twice",
    ),
    "a frequent feature also colored": (
        _edit("frequent_features", _frequent_also_colored),
        "'frequent_features' holds feature .* which the encoder colors too",
    ),
    "a frequent feature out of range": (
        _set("frequent_features", lambda a: np.append(a[:-1], 10**6)),
        r"'frequent_features' holds 1000000 at position 2, outside \[0, 39\]",
    ),
    "one class": (_set("classes", np.array([0, 0])), "'classes' holds a label twice"),
    "a NaN class": (_set("classes", np.array([0.0, np.nan])), "'classes' holds a value that"),
    "a value in another column's bucket": (
        _edit("buckets.output_of_value", _other_column_output),
        "'buckets.output_of_value' places a value in a bucket of another column",
    ),
    "more outputs than the budget": (
        _set("buckets.n_outputs", np.array(10**6)),
        r"'buckets.n_outputs' holds 1000000, outside",
    ),
    "an output past the outputs": (
        _edit("buckets.output_of_value", lambda a, c: a.__setitem__(1, c["buckets.n_outputs"])),
        "'buckets.output_of_value' holds",
    ),
    "column sizes off by one": (
        _set("buckets.column_sizes", lambda a: a + 1),
        "'buckets.column_sizes' gives column 0",
    ),
    "falling boundaries": (
        _set("buckets.boundaries", lambda a: -a),
        "'buckets.boundaries' holds rates that are not ascending",
    ),
    "an encoder of another collision policy": (
        _params_with("encoder.params", collision="least_frequent"),
        "'encoder.params' holds collision='least_frequent', but the model's parameters make it",
    ),
    "a dense bucket output": (
        _params_with("buckets.params", sparse_output=False),
        "'buckets.params' holds sparse_output=False",
    ),
    "encoder of other features": (
        _set("encoder.n_features_in", np.array(41)),
        "'encoder.n_features_in' is 41; the compressor has 40",
    ),
    "buckets without an encoder": (
        lambda c: [c.pop(k) for k in list(c) if k.startswith("encoder.")],
        r"member 'buckets\.\w+' does not belong in a ChromaticCompressor model file",
    ),
}


@functools.cache
def _hashed_model():
    X = random_sparse(300, 40, 6, seed=3, zipf=1.1)
    y = (np.asarray(X[:, :3].sum(axis=1)).ravel() > 0).astype(int)
    compressor = ChromaticCompressor(budget=16, n_frequent=3, tail="hashed", random_state=0)
    return compressor.fit(X, y)


def _hashed_also_kept(features, content):
    features[0] = content["frequent_features"][0]


HASHED_TAMPERING = {
    "a hashed feature also kept apart": (
        _edit("hashed.features", _hashed_also_kept),
        "'hashed.features' holds feature .* which is kept apart too",
    ),
    "a hashed feature twice": (
        _set("hashed.features", lambda a: np.append(a[:-1], a[0])),
        "'hashed.features' holds a feature twice",
    ),
    "a hashed feature out of range": (
        _set("hashed.features", lambda a: np.append(a[:-1], 40)),
        r"'hashed.features' holds 40 at position \d+, outside \[0, 39\]",
    ),
    "no hashed feature": (
        _set("hashed.features", np.zeros(0, dtype=np.int64)),
        "'hashed.features' is empty",
    ),
    "a seed out of range": (
        _set("hashed.seed", np.array(-1)),
        r"'hashed.seed' holds -1, outside",
    ),
    "hashed features without a seed": (
        lambda c: c.pop("hashed.seed"),
        "member 'hashed.features' does not belong in a ChromaticCompressor model file",
    ),
    "no room for a tail": (
        _set("frequent_features", lambda a: np.arange(16)),
        "'hashed.seed' is there, but the kept features take the whole budget",
    ),
}


@pytest.mark.parametrize("case", sorted(HASHED_TAMPERING))
def test_a_tampered_hashed_tail_is_refused_naming_the_member(tmp_path, case):
    change, message = HASHED_TAMPERING[case]
    content = _content(_hashed_model(), tmp_path)
    change(content)
    with pytest.raises(ModelFileError, match=message):
        load_model(_written(tmp_path, content))


def test_a_compressor_with_two_tails_is_refused(tmp_path):
    _, _, compressor = _small_models()
    content = _content(compressor, tmp_path)
    hashed = _content(_hashed_model(), tmp_path, "hashed.npz")
    content.update({k: v for k, v in hashed.items() if k.startswith("hashed.")})
    content["hashed.features"] = np.setdiff1d(
        np.flatnonzero(content["encoder.colors"] < 0), content["frequent_features"]
    )[:1]
    with pytest.raises(ModelFileError, match="two tails"):
        load_model(_written(tmp_path, content))


@pytest.mark.parametrize("case", sorted(COMPRESSOR_TAMPERING))
def test_a_tampered_compressor_is_refused_naming_the_member(tmp_path, case):
    change, message = COMPRESSOR_TAMPERING[case]
    _, _, compressor = _small_models()
    content = _content(compressor, tmp_path)
    change(content)
    with pytest.raises(ModelFileError, match=message) as caught:
        load_model(_written(tmp_path, content))
    assert "\n" not in str(caught.value)


def test_a_zip_entry_stored_twice_is_refused(tmp_path):
    _, encoder, _ = _small_models()
    path = tmp_path / "m.npz"
    save_model(encoder, path)
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("codes.npy", b"")
    with pytest.raises(ModelFileError, match="member 'codes' is stored twice"):
        load_model(path)

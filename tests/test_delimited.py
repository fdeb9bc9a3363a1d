"""Reading delimited text (CSV, TSV) into Arrow tables with the engine's parser, chunk by chunk."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pcsv = pytest.importorskip("pyarrow.csv")
pq = pytest.importorskip("pyarrow.parquet")

from chromatic_learning import _core  # noqa: E402
from chromatic_learning._delimited import (  # noqa: E402
    CRITEO_NAMES,
    DelimitedError,
    criteo_format,
    iter_delimited_tables,
    sniff_table_kind,
)
from chromatic_learning._gzip import GzipReader  # noqa: E402


def write(tmp_path, name: str, text: str | bytes):
    path = tmp_path / name
    data = text.encode() if isinstance(text, str) else text
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(path.suffix, open)
    with opener(path, "wb") as f:
        f.write(data)
    return path


def read(path, **options):
    tables = list(iter_delimited_tables(path, **options))
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def test_quotes_delimiters_line_ends_and_escaped_quotes(tmp_path):
    text = 'a,b,c\n"x,y","two\nlines","say ""hi"""\nplain,"",\n'
    table = read(write(tmp_path, "t.csv", text))
    assert table.column_names == ["a", "b", "c"]
    assert table.to_pydict() == {
        "a": ["x,y", "plain"],
        "b": ["two\nlines", ""],
        "c": ['say "hi"', None],
    }


def test_empty_fields_are_null_and_quoted_empty_fields_are_strings(tmp_path):
    table = read(write(tmp_path, "t.csv", 'a,b\n,""\n"",\n'))
    assert table.to_pydict() == {"a": [None, ""], "b": ["", None]}
    assert table.column("a").null_count == 1


def test_crlf_empty_lines_and_no_final_line_end(tmp_path):
    table = read(write(tmp_path, "t.csv", "a,b\r\n\r\n1,x\r\n\n2,y"))
    assert table.to_pydict() == {"a": [1, 2], "b": ["x", "y"]}


def test_tabs_and_other_delimiters(tmp_path):
    assert read(write(tmp_path, "t.tsv", "a\tb\n1\t2,3\n")).to_pydict() == {
        "a": [1],
        "b": ["2,3"],
    }
    table = read(write(tmp_path, "t.dat", "a|b\n1|x\n"), delimiter="|")
    assert table.to_pydict() == {"a": [1], "b": ["x"]}
    with pytest.raises(ValueError, match="does not say the delimiter"):
        read(write(tmp_path, "t.dat", "a|b\n"))


def test_names_without_a_header_and_in_place_of_one(tmp_path):
    path = write(tmp_path, "t.csv", "1,x\n2,y\n")
    table = read(path, header=False, names=["n", "s"])
    assert table.to_pydict() == {"n": [1, 2], "s": ["x", "y"]}
    with pytest.raises(ValueError, match="header=False needs names"):
        read(path, header=False)
    headed = write(tmp_path, "h.csv", "a,b\n1,x\n")
    assert read(headed, names=["n", "s"]).column_names == ["n", "s"]
    with pytest.raises(ValueError, match="has 2 fields, but names has 3"):
        read(headed, names=["n", "s", "t"])


@pytest.mark.parametrize(
    "header, message",
    [("a,,c", r"h.csv:1: the header has empty names \(fields 2\)"), ("a,b,a", "'a'")],
)
def test_bad_headers_are_named(tmp_path, header, message):
    with pytest.raises(ValueError, match=message):
        read(write(tmp_path, "h.csv", header + "\n1,2,3\n"))


def test_a_header_only_is_an_empty_table_and_an_empty_file_an_error(tmp_path):
    table = read(write(tmp_path, "h.csv", "a,b\n"), column_types={"a": "int64"})
    assert table.num_rows == 0
    assert table.schema.names == ["a", "b"]
    assert table.schema.types == [pa.int64(), pa.large_string()]
    for text in ["", "\n\n"]:
        with pytest.raises(ValueError, match=r"e.csv: the file is empty"):
            read(write(tmp_path, "e.csv", text))


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_compressed_files(tmp_path, suffix):
    text = 'a,b\n1,"x\ny"\n2,z\n'
    table = read(write(tmp_path, "t.csv" + suffix, text), chunk_bytes=5)
    assert table.to_pydict() == {"a": [1, 2], "b": ["x\ny", "z"]}


def test_corrupt_compressed_files_and_missing_files_are_named(tmp_path):
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n1,2\n" * 100)[:-30])
    with pytest.raises(OSError, match=r"bad\.csv\.gz: truncated or corrupt gzip"):
        read(path)
    with pytest.raises(FileNotFoundError, match=r"missing\.csv: no such file"):
        read(tmp_path / "missing.csv")


def read_all(reader, view_bytes: int) -> bytes:
    out, buffer = bytearray(), bytearray(view_bytes)
    with memoryview(buffer) as view:
        while n := reader.readinto(view):
            out += buffer[:n]
    return bytes(out)


@pytest.mark.parametrize("view_bytes", [1, 7, 1 << 20])
def test_the_gzip_reader_reads_members_and_padding_as_gzip_does(tmp_path, view_bytes):
    rng = np.random.default_rng(3)
    members = [rng.integers(0, 4, 300_000).astype(np.uint8).tobytes(), b"", b"tail\n"]
    path = tmp_path / "m.gz"
    path.write_bytes(b"".join(gzip.compress(m) for m in members) + b"\0" * 3000)
    with GzipReader(path) as reader:
        assert read_all(reader, view_bytes) == b"".join(members)
    with gzip.open(path) as f:
        assert f.read() == b"".join(members)
    (tmp_path / "e.gz").write_bytes(b"")
    with GzipReader(tmp_path / "e.gz") as reader:
        assert read_all(reader, 5) == b""


def test_the_gzip_reader_refuses_what_gzip_refuses(tmp_path):
    data = gzip.compress(b"a,b\n1,2\n" * 1000)
    bad_crc = data[:-8] + bytes([data[-8] ^ 1]) + data[-7:]
    for name, content, error in [
        ("cut", data[:-12], EOFError),
        ("crc", bad_crc, zlib.error),
        ("garbage", data + b"garbage", zlib.error),
    ]:
        path = tmp_path / f"{name}.csv.gz"
        path.write_bytes(content)
        with pytest.raises(error), GzipReader(path) as reader:
            read_all(reader, 1 << 16)
        with pytest.raises(OSError, match=rf"{name}\.csv\.gz: truncated or corrupt gzip file"):
            read(path)


def generated_csv(n_rows: int, seed: int = 0) -> str:
    """Rows of numbers, words, quoted fields with delimiters, quotes and line ends, nulls."""
    rng = np.random.default_rng(seed)
    words = ["x", "yy", "a,b", 'say "hi"', "two\nlines", "", "é", "dos\r\nlíneas"]
    lines = ["id,count,price,word,note"]
    for i in range(n_rows):
        count = "" if rng.random() < 0.2 else str(rng.integers(-50, 50))
        price = "" if rng.random() < 0.2 else f"{rng.normal() * 100:.3f}"
        word = words[rng.integers(len(words))]
        word = "" if rng.random() < 0.1 else '"' + word.replace('"', '""') + '"'
        note = "" if rng.random() < 0.3 else f"n{rng.integers(5)}"
        lines.append(f"{i},{count},{price},{word},{note}")
        if rng.random() < 0.05:
            lines.append("")
    return "\r\n".join(lines) + "\n"


def test_any_chunk_size_reads_the_same_table(tmp_path):
    path = write(tmp_path, "t.csv", generated_csv(300))
    types = {"id": "int64", "count": "int64", "price": "float64", "word": "string"}
    whole = read(path, column_types=types)
    assert whole.num_rows == 300
    for chunk_bytes in [7, 64, 1000]:
        for read_ahead in [True, False]:
            tables = list(
                iter_delimited_tables(
                    path, column_types=types, chunk_bytes=chunk_bytes, read_ahead=read_ahead
                )
            )
            assert len(tables) > 1
            assert pa.concat_tables(tables).equals(whole)


def test_a_file_is_read_ahead_unless_a_memory_limit_is_set(tmp_path):
    from chromatic_learning import ChromaticEncoder
    from chromatic_learning._table_files import TableReading
    from chromatic_learning.streaming import _row_source

    path = write(tmp_path, "t.csv", generated_csv(50))
    reading = TableReading(label="id")
    for limit, read_ahead in [(None, True), ("1G", False)]:
        rows = _row_source(ChromaticEncoder(memory_limit=limit), [path], reading, 1, None, 0, 0, 0)
        assert rows.reading.read_ahead is read_ahead
        assert rows.reading == reading


def test_matches_pyarrow(tmp_path):
    path = write(tmp_path, "t.csv", generated_csv(2000, seed=1))
    ours = read(path, chunk_bytes=1 << 14)
    options = pcsv.ConvertOptions(strings_can_be_null=True, quoted_strings_can_be_null=False)
    theirs = pcsv.read_csv(path, convert_options=options)
    assert ours.schema.types == [pa.int64(), pa.int64(), pa.float64()] + [pa.large_string()] * 2
    assert ours.equals(theirs.cast(ours.schema))


def test_types_are_inferred_on_the_first_chunk_and_kept(tmp_path):
    text = "i,f,s,e\n1,2,x,\n3,4.5,7,\n"
    table = read(write(tmp_path, "t.csv", text))
    assert table.schema.types == [pa.int64(), pa.float64(), pa.large_string(), pa.large_string()]
    assert table.to_pydict() == {"i": [1, 3], "f": [2.0, 4.5], "s": ["x", "7"], "e": [None] * 2}


def test_a_value_of_another_type_later_names_its_line(tmp_path):
    rows = [f"{i},{i * 2}" for i in range(50)]
    rows[37] = '36,"7\n2"'  # a line end inside quotes: the bad value starts on line 39
    rows[41] = "40,4x"
    path = write(tmp_path, "t.csv", "a,b\n" + "\n".join(rows) + "\n")
    with pytest.raises(DelimitedError) as caught:
        read(path, chunk_bytes=64)
    expected = f"{path}:39: column 'b' holds '7\\n2', but earlier lines made it int64"
    assert str(caught.value) == expected
    assert caught.value.line == 39
    with pytest.raises(DelimitedError, match=r"t.csv:2: column 'b' holds 'x', but column_types"):
        read(write(tmp_path, "t.csv", "a,b\n1,x\n"), column_types={"b": "float64"})


def test_integer_columns_read_by_the_engine_match_pyarrow(tmp_path):
    # After the first chunk the engine reads the int64 columns itself; forms it does not read
    # (a hexadecimal value pyarrow accepts) leave the chunk's column to pyarrow's cast.
    values = ["007", "-0", "9223372036854775807", "-9223372036854775808", "", "12"] * 20
    values[90] = "0x10"
    text = "a,b\n" + "".join(f"{v},{k}\n" for k, v in enumerate(values))
    path = write(tmp_path, "t.csv", text)
    types = {"a": pa.int64(), "b": pa.int64()}
    theirs = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(column_types=types))
    for chunk_bytes in [40, 1 << 20]:
        ours = read(path, chunk_bytes=chunk_bytes)
        assert ours.equals(theirs), chunk_bytes
        assert ours.column("a")[90].as_py() == 16
        assert ours.column("a").null_count == 20


@pytest.mark.parametrize("bad", ["+5", "5 ", "9223372036854775808", '""'])
def test_an_integer_the_engine_does_not_read_later_names_its_line(tmp_path, bad):
    rows = [f"{i},{i}" for i in range(60)] + [f"60,{bad}"]
    path = write(tmp_path, "t.csv", "a,b\n" + "\n".join(rows) + "\n")
    shown = "" if bad == '""' else bad
    with pytest.raises(DelimitedError) as caught:
        read(path, chunk_bytes=64, column_types={"b": "int64"})
    expected = f"{path}:62: column 'b' holds {shown!r}, but column_types says int64"
    assert str(caught.value) == expected


def test_the_engine_gives_integer_columns_as_values_and_validity():
    columns = _core.split_delimited(b"1,x\n,y\n-3,z\n", ",", None, None, 1, integer_columns=[0, 1])
    values, valid = columns[0]
    assert values.dtype == np.int64 and values.tolist() == [1, 0, -3]
    assert valid.tolist() == [True, False, True]
    assert len(columns[1]) == 3  # text: (offsets, data, valid)


@pytest.mark.parametrize(
    "text, line, what",
    [
        ('a,b\n1,2\n"x\ny",3\n4\n', 5, "1 fields, but the header has 2"),
        ("a,b\n1,2\n3,4,5\n", 3, "3 fields, but the header has 2"),
        ('a,b\n1,2\n\n3,"4\n5,6\n', 4, "a quote opened here is never closed"),
        (b"a,b\n1,2\n3,\xff\n", 3, "field 2: not UTF-8"),
    ],
)
@pytest.mark.parametrize("chunk_bytes", [6, 1 << 20])
def test_malformed_records_name_file_and_line(tmp_path, text, line, what, chunk_bytes):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(DelimitedError) as caught:
        read(path, chunk_bytes=chunk_bytes)
    assert str(caught.value) == f"{path}:{line}: {what}"
    assert (caught.value.path, caught.value.line) == (str(path), line)
    assert isinstance(caught.value, ValueError)


def test_options_are_checked(tmp_path):
    path = write(tmp_path, "t.csv", "a,b\n1,2\n")
    with pytest.raises(ValueError, match="delimiter must be one ASCII character"):
        read(path, delimiter=";;")
    with pytest.raises(ValueError, match="column_types\\['a'\\] is 'int32'"):
        read(path, column_types={"a": "int32"})
    with pytest.raises(ValueError, match="column_types names 'z', which is no column"):
        read(path, column_types={"z": "int64"})
    with pytest.raises(ValueError, match="quote and the delimiter"):
        read(path, quote=",")


def test_criteo_preset(tmp_path):
    ints = ["1", "", "5", "0", "1382", "4", "15", "2", "181", "1", "2", "", "2"]
    cats = ["68fd1e64", "80e26c9b", "", "38a947a1"] + ["0b153874"] * 22
    lines = ["\t".join(["0", *ints, *cats]), "\t".join(["1", *[""] * 13, *[""] * 26])]
    path = write(tmp_path, "day_0.gz", "\n".join(lines) + "\n")
    table = read(path, **criteo_format())
    assert table.column_names == list(CRITEO_NAMES) and len(CRITEO_NAMES) == 40
    assert table.schema.field("label").type == pa.int64()
    assert table.schema.field("I5").type == pa.int64()
    assert table.schema.field("C1").type == pa.large_string()
    assert table.column("label").to_pylist() == [0, 1]
    assert table.column("I2").to_pylist() == [None, None]
    assert table.column("I5").to_pylist() == [1382, None]
    assert table.column("C1").to_pylist() == ["68fd1e64", None]
    assert table.column("C3").null_count == 2


def test_the_engine_reads_numpy_views_and_bytes_alike():
    text = b'a,"b\n"\nc,d\nrest'
    end = _core.complete_records(text, ",", '"')
    assert end == 11
    view = np.frombuffer(text, np.uint8)[:end]
    assert _core.count_line_ends(view) == 3
    for data in (text[:end], view):
        columns = _core.split_delimited(data, ",", '"', None, 1)
        offsets, values, valid = columns[1]
        assert offsets.tolist() == [0, 2, 3] and bytes(values) == b"b\nd"
        assert valid.tolist() == [True, True]
    assert _core.record_line(text[:end], ",", '"', 10, 1) == 12
    with pytest.raises(_core.DelimitedError, match=r"^line 1: 1 fields, but the header has 2$"):
        _core.split_delimited(b"a\n", ",", '"', 2, 1)


@pytest.mark.parametrize(
    "name, content, kind",
    [
        ("a.csv", "1,2\n", "delimited"),
        ("a.tsv.gz", "1\t2\n", "delimited"),
        ("a.txt", "1 3:1 7:0.5\n", "svmlight"),
        ("a.svm.bz2", "# a comment\n-1 qid:3 2:1\n", "svmlight"),
        ("a.txt", "label,site\n1,x\n", "delimited"),
        ("a.txt.xz", "0\t1\t\t68fd1e64\n", "delimited"),
        ("a.data", "label site\n1 x\n", "delimited"),
    ],
)
def test_sniffing_text(tmp_path, name, content, kind):
    assert sniff_table_kind(write(tmp_path, name, content)) == kind


def test_sniffing_parquet_and_names_that_say_otherwise(tmp_path):
    table = pa.table({"a": [1, 2]})
    for name in ["t.parquet", "t.bin"]:
        pq.write_table(table, tmp_path / name)
        assert sniff_table_kind(tmp_path / name) == "parquet"
    pq.write_table(table, tmp_path / "t.csv")
    with pytest.raises(ValueError, match=r"t.csv: named as delimited text, but holds Parquet"):
        sniff_table_kind(tmp_path / "t.csv")
    path = write(tmp_path, "u.parquet", "a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"u.parquet: named as Parquet, but holds delimited"):
        sniff_table_kind(path)
    (tmp_path / "cut.parquet").write_bytes((tmp_path / "t.bin").read_bytes()[:-10])
    with pytest.raises(ValueError, match="does not end as it"):
        sniff_table_kind(tmp_path / "cut.parquet")

"""The output module: what may be written where, and nothing half-written on any failure."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chromatic_learning._output import Outputs, named_format, output_name

NAMES = st.sampled_from(["a.svm", "b.svm", "a.npz", "c", "d.svm.gz"])
# Where a path may point: the folder itself, a sub-folder, a link to the folder, a ".." detour.
ROUTES = st.sampled_from(["", "sub/", "link/", "sub/../", "sub/../link/"])


def make_tree(root):
    (root / "sub").mkdir(exist_ok=True)
    if not (root / "link").exists():
        (root / "link").symlink_to(root)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    inputs=st.lists(st.tuples(ROUTES, NAMES), min_size=1, max_size=3),
    outputs=st.lists(st.tuples(ROUTES, NAMES), min_size=1, max_size=4),
    fail=st.booleans(),
)
def test_outputs_never_replace_inputs_or_each_other(tmp_path_factory, inputs, outputs, fail):
    root = tmp_path_factory.mktemp("paths")
    make_tree(root)
    input_paths = [str(root / f"{route}{name}") for route, name in inputs]
    for path in input_paths:
        with open(path, "wb") as file:
            file.write(b"input " + path.encode())
    before = {path: Path(path).read_bytes() for path in input_paths}
    declared = Outputs(input_paths)
    seen = {os.path.realpath(path) for path in input_paths}
    accepted = []
    for route, name in outputs:
        path = str(root / f"{route}{name}")
        format = "svmlight" if name.endswith((".svm", ".svm.gz")) or "." not in name else "npz"
        clash = os.path.realpath(path) in seen
        if clash:
            with pytest.raises(ValueError, match=r"overwrite its input|written twice"):
                declared.add(path, format)
            continue
        declared.add(path, format)
        seen.add(os.path.realpath(path))
        accepted.append(path)

    class Failure(Exception):
        pass

    try:
        with declared:
            for path in accepted:
                with declared.open(path) as out:
                    out.write(b"output")
            if fail:
                raise Failure
    except Failure:
        pass
    # Inputs are untouched; outputs exist only after success; nothing temporary is left.
    assert {path: Path(path).read_bytes() for path in input_paths} == before
    for path in accepted:
        assert os.path.exists(path) != fail
    leftovers = [name for _, _, names in os.walk(root) for name in names if ".chromatic-" in name]
    assert leftovers == []


def test_names_by_format():
    assert output_name("day/1.svm.gz", "svmlight") == "1.svm.gz"
    assert output_name("day/1.svm.gz", "npz") == "1.npz"
    assert output_name("part-00", "parquet") == "part-00.parquet"
    assert output_name("data.v2", "npz") == "data.v2.npz"
    assert named_format("x.SVM") == "svmlight" and named_format("x.npz.xz") == "npz compressed .xz"
    assert named_format("model") is None


def test_special_files_and_folders_are_refused_not_replaced(tmp_path):
    import socket

    declared = Outputs()
    with pytest.raises(ValueError, match="is a folder"):
        declared.add(tmp_path, "npz")
    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(ValueError, match="special file"):
            declared.add(path, "npz")
    finally:
        server.close()
    assert stat.S_ISSOCK(path.stat().st_mode)
    with pytest.raises(ValueError, match="not a declared output"):
        with declared.open(tmp_path / "other"):
            pass


def test_a_link_is_written_through_and_kept(tmp_path):
    target = tmp_path / "elsewhere" / "codes.svm"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "codes.svm"
    link.symlink_to(target)
    declared = Outputs()
    declared.add(link, "svmlight")
    with declared, declared.open(link) as out:
        out.write(b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"
    # A link to a folder that is not there names the folder.
    dangling = tmp_path / "dangling.svm"
    dangling.symlink_to(tmp_path / "gone" / "x.svm")
    with pytest.raises(ValueError, match="gone is not an existing folder"):
        Outputs().add(dangling, "svmlight")

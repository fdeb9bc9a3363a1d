"""Fuzz targets of chromatic's file readers: the model loader and the svmlight parser.

Each target takes any bytes and raises only on a finding: an exception other than the reader's
documented error (``ModelFileError``; ``SvmlightError`` or ``ChromaticError``), or a model that
loads but does not hold together. The atheris drivers (``fuzz_model.py``, ``fuzz_svmlight.py``)
and the seeded test (``tests/test_fuzz.py``) call the same functions, and the property tests
(``tests/test_properties_model.py``) apply the same mutations of model files.

A model input is either a whole file (an input starting with ``PK``) or, more often useful, a
seed model and a list of mutations of its members (values overwritten, retyped, reshaped,
shuffled, replaced, dropped, bytes corrupted), after which the archive is rebuilt with valid
checksums, so that mutations reach the member checks rather than stop at a CRC.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import json
import os
import random
import tempfile
import zipfile
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from chromatic_learning import ChromaticCompressor, ChromaticEncoder, ChromaticError, save_model
from chromatic_learning._model import ModelFileError, load_model
from chromatic_learning.svmlight import SvmlightError, iter_chunks, load_svmlight

# Models with more features are checked without a transform, to keep each input fast.
_TRANSFORM_FEATURES = 100_000
_DTYPES = ("<i1", "<i2", "<i4", "<i8", ">i4", "<u1", "<u8", "<f4", "<f8", "|b1", "<U8", "|O")
OPERATIONS = ("overwrite", "retype", "resize", "reshape", "shuffle", "replace", "drop", "corrupt")


@functools.cache
def _workdir() -> str:
    return tempfile.mkdtemp(prefix="chromatic-fuzz-")


def _temporary(data: bytes, suffix: str) -> str:
    path = os.path.join(_workdir(), "input" + suffix)
    with open(path, "wb") as out:
        out.write(data)
    return path


# ----------------------------------------------------------------------------------------------
# Model files


def _random_rows(n_rows: int, n_features: int, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_features + 1) ** 1.1
    lengths = rng.integers(0, 7, size=n_rows)
    cols = rng.choice(n_features, size=int(lengths.sum()), p=weights / weights.sum())
    X = sp.csr_matrix(
        (np.ones(len(cols)), (np.repeat(np.arange(n_rows), lengths), cols)),
        shape=(n_rows, n_features),
    )
    X.sum_duplicates()
    X.data[:] = 1.0
    return X


@functools.cache
def seed_models() -> tuple[bytes, ...]:
    """Small valid model files: encoders and compressors, with and without a tail encoder."""
    X = _random_rows(200, 30, 0)
    y = (np.asarray(X[:, :3].sum(axis=1)).ravel() > 0).astype(int)
    models = [
        ChromaticEncoder(random_state=0).fit(X),
        ChromaticEncoder(n_colors=12, dense_threshold=None, random_state=1).fit(X),
        ChromaticCompressor(budget=12, n_frequent=2, random_state=0).fit(X, y),
        ChromaticCompressor(budget=3, n_frequent=3, random_state=0).fit(X, y),
    ]
    return tuple(model_bytes(model) for model in models)


def model_bytes(model, metadata: dict | None = None) -> bytes:
    """Return the model file of ``model``, as ``save_model`` writes it."""
    path = os.path.join(_workdir(), "seed.npz")
    save_model(model, path, metadata=metadata)
    with open(path, "rb") as stored:
        return stored.read()


def members(file: bytes) -> dict[str, bytes]:
    """Return the .npy bytes of each member of a (valid) model file."""
    with zipfile.ZipFile(io.BytesIO(file)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def archive(entries: dict[str, bytes]) -> bytes:
    """Return a zip of ``entries`` (names to bytes), stored as numpy does, valid checksums."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zipped:
        for name, data in entries.items():
            zipped.writestr(name, data)
    return out.getvalue()


@dataclass(frozen=True)
class Mutation:
    """One change of one member (picked by ``member`` modulo the members)."""

    operation: str
    member: int
    position: int = 0
    payload: bytes = b""


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    # Object arrays are written pickled, as a hostile file would hold them; the loader must
    # refuse them without unpickling.
    np.save(out, array, allow_pickle=True)
    return out.getvalue()


def _mutated_member(data: bytes, mutation: Mutation) -> bytes | None:
    """Return the member's bytes after ``mutation``, or None to drop it."""
    operation, position, payload = mutation.operation, mutation.position, mutation.payload
    if operation == "drop":
        return None
    if operation == "corrupt":
        # Any bytes, header included, overwritten in place.
        start = position % (len(data) + 1)
        return data[:start] + payload + data[start + len(payload) :]
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception:
        # A member an earlier mutation damaged: numpy's reader fails on it in many ways (which
        # is why the loader does not use it), and it stays as it is.
        return data
    if operation == "overwrite":
        # The same shape and dtype, other values: reaches the consistency checks.
        raw = bytearray(array.tobytes())
        if raw:
            start = position % len(raw)
            raw[start : start + len(payload)] = payload[: len(raw) - start]
            array = np.frombuffer(bytes(raw), dtype=array.dtype).reshape(array.shape)
    elif operation == "retype":
        try:
            with np.errstate(all="ignore"):  # NaN and overflow are welcome here
                array = array.astype(_DTYPES[position % len(_DTYPES)])
        except (ValueError, TypeError, OverflowError):
            return data
    elif operation == "resize":
        flat = array.reshape(-1)
        size = position % (2 * flat.size + 2)
        array = np.resize(flat, size) if flat.size else np.zeros(size, dtype=array.dtype)
    elif operation == "reshape":
        array = array.reshape((1, -1) if position % 2 else (-1, 1))
    elif operation == "shuffle":
        array = np.random.default_rng(position).permutation(array.reshape(-1)).reshape(array.shape)
    elif operation == "replace":
        text = payload.decode("utf-8", "replace")
        replacements = (
            np.array(text),
            np.array(int.from_bytes(payload[:8] or b"\0", "little", signed=True)),
            np.array(json.dumps({"k": text})),
            np.array("[" * (position % 5000)),
        )
        array = replacements[position % len(replacements)]
    return _npy(array)


def mutated_model(seed: int, mutations: list[Mutation]) -> bytes:
    """Seed model number ``seed`` (modulo the seeds) with ``mutations`` applied in turn."""
    seeds = seed_models()
    entries = members(seeds[seed % len(seeds)])
    for mutation in mutations:
        names = sorted(entries)
        if not names:
            break
        name = names[mutation.member % len(names)]
        changed = _mutated_member(entries[name], mutation)
        if changed is None:
            del entries[name]
        else:
            entries[name] = changed
    return archive(entries)


class _Bytes:
    """Reads an input as a sequence of small numbers and byte strings (never fails)."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def number(self, size: int = 1) -> int:
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return int.from_bytes(chunk, "little")

    def take(self, size: int) -> bytes:
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk

    @property
    def left(self) -> bool:
        return self.at < len(self.data)


def model_file(data: bytes) -> bytes:
    """Return the model file an input stands for: itself, or a seed model mutated."""
    if data.startswith(b"PK"):
        return data
    source = _Bytes(data)
    seed = source.number()
    mutations = []
    while source.left and len(mutations) < 8:
        operation = OPERATIONS[source.number() % len(OPERATIONS)]
        member, position = source.number(), source.number(4)
        mutations.append(Mutation(operation, member, position, source.take(source.number() % 17)))
    return mutated_model(seed, mutations)


def check_loaded_model(model) -> None:
    """Check that a model the loader accepted holds together and transforms sound rows."""
    n = model.n_features_in_
    if isinstance(model, ChromaticCompressor):
        frequent = model.frequent_features_
        assert len(set(frequent.tolist())) == len(frequent), "a frequent feature twice"
        assert ((frequent >= 0) & (frequent < n)).all(), "a frequent feature out of range"
        assert model.n_features_out_ <= model.budget, "wider than the budget"
        encoders = [] if model.encoder_ is None else [model.encoder_]
        if encoders:
            assert (model.encoder_.colors_[frequent] < 0).all(), "a kept feature colored too"
    else:
        encoders = [model]
    for encoder in encoders:
        colors, codes, sizes = encoder.colors_, encoder.codes_, encoder.color_sizes_
        assert len(colors) == len(codes) == encoder.n_features_in_ == n
        colored = colors >= 0
        assert (codes[~colored] == 0).all(), "an uncolored feature with a code"
        pairs = set(zip(colors[colored].tolist(), codes[colored].tolist(), strict=True))
        expected = {(c, k) for c, size in enumerate(sizes.tolist()) for k in range(1, size + 1)}
        assert pairs == expected and len(pairs) == colored.sum(), "codes do not number colors"
    if n > _TRANSFORM_FEATURES:
        return
    X = sp.random(20, n, density=min(1.0, 5 / n), format="csr", random_state=0)
    Z = model.transform(X)
    if isinstance(model, ChromaticCompressor):
        assert Z.shape == (20, model.n_features_out_)
        Z = sp.csr_matrix(Z)
        assert (Z.data == 1).all(), "an output column set twice in a row"
    else:
        assert Z.shape == (20, model.n_colors_)
        assert ((Z >= 0) & (Z <= model.color_sizes_)).all(), "a code past its color's size"


def model_target(data: bytes) -> None:
    """Load the model file ``data`` stands for: a ModelFileError or a sound model."""
    path = _temporary(model_file(data), ".npz")
    try:
        model = load_model(path)
    except ModelFileError as error:
        assert "\n" not in str(error), "a message of several lines"
        return
    check_loaded_model(model)


# ----------------------------------------------------------------------------------------------
# svmlight files

SVMLIGHT_SEEDS = (
    b"1 1:1 3:1\n0 2:1\n1 3:1\n",
    b"-1 qid:3 0:1 7:0.5 # comment\n+1 2:1e3\n\n# only a comment\n",
    b"1 1:1 2:1\r\n0 2:1 3:1\r\n",
    b"0 1:1 4294967296:1\n1 9223372036854775807:1\n",
    b"1.5 3:1 2:1\n",
)
# How the parsed text reaches the parser: as it is, or compressed as the file name says.
_CODECS = ((".svm", bytes), (".svm.gz", gzip.compress), (".svm.bz2", bz2.compress))


def svmlight_target(data: bytes) -> None:
    """Read the svmlight text after the input's first byte whole and chunk by chunk.

    The first byte picks the chunk size, whether bad lines are skipped, and whether the text is
    compressed; only SvmlightError or ChromaticError may come out.
    """
    control, text = (data[0], data[1:]) if data else (0, b"")
    suffix, encode = _CODECS[(control >> 5) % len(_CODECS)]
    path = _temporary(encode(text), suffix)
    skip = bool(control & 16)
    try:
        loaded = load_svmlight(path, skip_bad_lines=skip)
        chunks = list(iter_chunks(path, chunk_bytes=1 + (control & 15) * 7, skip_bad_lines=skip))
    except (SvmlightError, ChromaticError) as error:
        assert "\n" not in str(error).strip(), "a message of several lines"
        return
    rows = sum(chunk.n_rows for chunk in chunks)
    assert loaded.X.shape[0] == len(loaded.y) == rows, "chunks and the whole disagree on rows"


# ----------------------------------------------------------------------------------------------
# The seeded mutator of the test (atheris brings its own)


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Return ``data`` with bytes flipped, inserted, deleted or repeated, at random."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(data))
        choice = rng.randrange(5)
        if choice == 0 and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif choice == 1:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif choice == 2:
            del data[at : at + rng.randint(1, 8)]
        elif choice == 3:
            data[at:at] = data[at : at + rng.randint(1, 16)] * rng.randint(1, 4)
        else:
            data[at:at] = rng.choice(b" :\n\r#-+.e0123456789qid").to_bytes(1, "little")
    return bytes(data)


def model_seeds() -> list[bytes]:
    """Return inputs to start from: the seed files, and each seed model mutated once."""
    structured = [
        bytes([seed, operation, member, 1, 0, 0, 0, 4, 255, 0, 7, 1])
        for seed in range(len(seed_models()))
        for operation in range(len(OPERATIONS))
        for member in (operation * 7 + 3, operation * 5 + 1)
    ]
    return [*seed_models(), *structured]


def svmlight_seeds() -> list[bytes]:
    """Return inputs to start from: each seed text plain, compressed, in tiny chunks, skipping."""
    return [bytes([control]) + text for text in SVMLIGHT_SEEDS for control in (0, 19, 32, 64)]

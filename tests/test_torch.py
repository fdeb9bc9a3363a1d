"""Field inputs of the encoders, and the PyTorch datasets, models and training loop on them."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from chromatic_learning import (
    ChromaticCompressor,
    ChromaticEncoder,
    Fields,
    FrequencyEncoder,
    HashingEncoder,
    make_onehot_zipf,
)
from chromatic_learning._fields import bag_fields, compressed_fields

torch = pytest.importorskip("torch")

from chromatic_learning.torch import (  # noqa: E402
    FieldBatch,
    FieldDataset,
    FieldStream,
    field_loader,
    log_loss,
    predict_proba,
    stream_loader,
    train,
)
from chromatic_learning.torch.models import (  # noqa: E402
    DeepFM,
    FactorizationMachine,
    LogisticRegression,
    WideAndDeep,
)

MODELS = [LogisticRegression, FactorizationMachine, WideAndDeep, DeepFM]


@pytest.fixture(scope="module")
def data():
    X = make_onehot_zipf(4000, 300, 5, random_state=0)
    # A label the features decide: some of the frequent and some rarer features.
    signal = np.asarray(X[:, [0, 3, 7, 20, 41, 60]].sum(axis=1)).ravel()
    y = (signal > 0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def compressor(data):
    X, y = data
    return ChromaticCompressor(budget=48, n_frequent=12, random_state=0).fit(X, y)


def dense_of(fields: Fields, layout_columns: np.ndarray) -> np.ndarray:
    """The bag as a dense (rows, bag_dim) array of weights."""
    out = np.zeros((fields.n_rows, fields.bag_dim), dtype=np.float32)
    rows = np.repeat(np.arange(fields.n_rows), np.diff(fields.bag_indptr))
    np.add.at(out, (rows, fields.bag_indices), fields.bag_weights)
    return out[:, layout_columns]


def test_encoder_fields_are_its_codes(data):
    X, _ = data
    encoder = ChromaticEncoder().fit(X)
    fields = encoder.to_fields(X)
    assert fields.values.dtype == np.int64
    np.testing.assert_array_equal(fields.values, encoder.transform(X))
    np.testing.assert_array_equal(fields.field_dims, encoder.field_dims_)
    assert fields.bag_dim == 0 and len(fields.bag_indices) == 0
    # One embedding per feature seen in fit: lossless.
    assert fields.n_embeddings == int(encoder.color_sizes_.sum())
    offsets = fields.field_offsets
    assert offsets[0] == 0 and np.all(np.diff(offsets) == encoder.color_sizes_[:-1])


def test_compressor_fields_hold_its_output_columns(data, compressor):
    X, _ = data
    Z = compressor.transform(X).toarray()
    fields = compressor.to_fields(X)
    n_frequent = compressor.n_frequent_
    assert fields.bag_dim == n_frequent
    assert fields.n_embeddings == compressor.n_features_out_ <= 48
    np.testing.assert_array_equal(dense_of(fields, np.arange(n_frequent)), Z[:, :n_frequent])
    # Every bucket column is one (field, value): the rows holding the column are those whose
    # field holds the value.
    buckets = Z[:, n_frequent:]
    by_column = sorted(
        tuple(np.flatnonzero(buckets[:, c])) for c in range(buckets.shape[1]) if buckets[:, c].any()
    )
    by_value = sorted(
        tuple(np.flatnonzero(fields.values[:, f] == v))
        for f in range(fields.n_fields)
        for v in range(1, fields.field_dims[f])
        if (fields.values[:, f] == v).any()
    )
    assert by_column == by_value
    assert np.all((fields.values < fields.field_dims) & (fields.values >= 0))


def test_a_hashed_tail_joins_the_bag_with_its_signed_counts(tmp_path, data):
    X, y = data
    compressor = ChromaticCompressor(budget=48, n_frequent=12, tail="hashed", random_state=0)
    compressor.fit(X, y)
    fields = compressor.to_fields(X)
    assert fields.n_fields == 0 and fields.bag_dim == 48 == fields.n_embeddings
    Z = compressor.transform(X).toarray()
    assert (Z < 0).any()
    np.testing.assert_array_equal(dense_of(fields, np.arange(48)), Z)
    # A stream of the rows' file gives the same bags.
    path = write_svmlight(tmp_path / "rows.svm", X, y)
    stream = FieldStream(compressor, [path], batch_size=10**6, zero_based=True)
    (batch,) = list(stream)
    np.testing.assert_array_equal(batch.bag_indices.numpy(), fields.bag_indices)
    np.testing.assert_array_equal(batch.bag_weights.numpy(), fields.bag_weights)


def test_training_fields_are_the_cross_fitted_rows(data):
    X, y = data
    params = {"budget": 48, "n_frequent": 12, "random_state": 0}
    fitted = ChromaticCompressor(**params)
    fields = fitted.fit_to_fields(X, y)
    again = ChromaticCompressor(**params)
    expected = compressed_fields(again.fit_transform(X, y), again.n_frequent_, again.compressor_)
    np.testing.assert_array_equal(fields.values, expected.values)
    np.testing.assert_array_equal(fields.bag_indices, expected.bag_indices)
    # Cross-fitted rows differ from those the fitted model gives the same rows.
    assert not np.array_equal(fields.values, fitted.to_fields(X).values)


@pytest.mark.parametrize("make", [HashingEncoder, FrequencyEncoder])
def test_baseline_fields_are_a_bag_of_their_columns(data, make):
    X, _ = data
    encoder = make(n_features=32).fit(X)
    fields = encoder.to_fields(X)
    assert fields.n_fields == 0 and fields.bag_dim == 32 == fields.n_embeddings
    np.testing.assert_array_equal(dense_of(fields, np.arange(32)), encoder.transform(X).toarray())


def test_take_gathers_rows_in_order(data, compressor):
    X, _ = data
    fields = compressor.to_fields(X)
    rows = np.array([5, 0, 5, 3999, 17])
    part = fields.take(rows)
    np.testing.assert_array_equal(part.values, fields.values[rows])
    expected = bag_fields(sp.csr_matrix(dense_of(fields, np.arange(fields.bag_dim))[rows]))
    np.testing.assert_array_equal(part.bag_indptr, expected.bag_indptr)
    np.testing.assert_array_equal(part.bag_indices, expected.bag_indices)


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_loader_yields_every_row_once(data, compressor, workers):
    X, y = data
    dataset = FieldDataset(compressor.to_fields(X), y)
    loader = field_loader(dataset, 512, shuffle=True, seed=3, num_workers=workers)
    values, labels = [], []
    for batch in loader:
        assert isinstance(batch, FieldBatch)
        assert batch.bag_offsets.shape == batch.labels.shape
        values.append(batch.values.numpy())
        labels.append(batch.labels.numpy())
    values, labels = np.concatenate(values), np.concatenate(labels)
    assert len(values) == len(dataset)
    # The same rows, shuffled: compare as sorted multisets of (values, label).
    ours = np.column_stack([values, labels])
    theirs = np.column_stack([dataset.fields.values, dataset.labels])
    np.testing.assert_array_equal(
        ours[np.lexsort(ours.T[::-1])], theirs[np.lexsort(theirs.T[::-1])]
    )
    assert not np.array_equal(ours, theirs)  # shuffled


@pytest.mark.slow
@pytest.mark.parametrize("model_class", MODELS)
def test_every_model_learns_on_fields_and_on_a_bag(data, compressor, model_class):
    X, y = data
    fields = compressor.to_fields(X)
    hashed = HashingEncoder(n_features=64).fit(X).to_fields(X)
    for rows in (fields, hashed):
        dataset = FieldDataset(rows, y)
        model = model_class.for_fields(rows, seed=0)
        before = log_loss(model, dataset)
        result = train(model, dataset, dataset, epochs=3, lr=1e-2, progress=False)
        after = log_loss(model, dataset)
        assert after < before - 0.05, (model_class.__name__, before, after)
        assert result.valid_log_loss[result.best_epoch - 1] == pytest.approx(after, rel=1e-5)
        p = predict_proba(model, dataset)
        assert p.shape == (len(y),) and np.all((p > 0) & (p < 1))


def test_training_is_seeded(data, compressor):
    X, y = data
    dataset = FieldDataset(compressor.to_fields(X), y)
    runs = []
    for _ in range(2):
        model = DeepFM.for_fields(dataset.fields, seed=1, embed_dim=4, hidden=(8,))
        runs.append(train(model, dataset, dataset, epochs=2, seed=5, progress=False))
    assert runs[0].valid_log_loss == runs[1].valid_log_loss


def test_early_stopping_keeps_the_best_epoch(data, compressor):
    X, y = data
    train_rows = FieldDataset(compressor.to_fields(X[:200]), y[:200])
    valid_rows = FieldDataset(compressor.to_fields(X[2000:]), y[2000:])
    model = DeepFM.for_fields(train_rows.fields, seed=0, hidden=(64,), dropout=0.0)
    result = train(model, train_rows, valid_rows, epochs=40, lr=5e-2, patience=2, progress=False)
    best = result.best_epoch
    assert len(result.valid_log_loss) == best + 2 < 40
    assert min(result.valid_log_loss) == result.valid_log_loss[best - 1]
    assert log_loss(model, valid_rows) == pytest.approx(result.valid_log_loss[best - 1], rel=1e-5)


def test_fitted_encoders_and_datasets_pickle(data, compressor):
    X, y = data
    dataset = FieldDataset(compressor.to_fields(X), y)
    again = pickle.loads(pickle.dumps((compressor, dataset)))
    np.testing.assert_array_equal(again[0].to_fields(X).values, dataset.fields.values)
    np.testing.assert_array_equal(again[1].labels, dataset.labels)


def test_bad_input_is_named(data, compressor):
    X, y = data
    with pytest.raises(NotFittedError):
        ChromaticEncoder().to_fields(X)
    with pytest.raises(NotFittedError):
        ChromaticCompressor().to_fields(X)
    with pytest.raises(TypeError, match=r"must be chromatic_learning\.Fields"):
        FieldDataset(X, y)
    fields = compressor.to_fields(X)
    with pytest.raises(ValueError, match="y has 10 labels but the fields have 4000 rows"):
        FieldDataset(fields, y[:10])
    with pytest.raises(ValueError, match="y must be binary"):
        FieldDataset(fields, np.arange(len(y)) % 3)
    with pytest.raises(ValueError, match=r"train_data must have labels: FieldDataset\(fields, y\)"):
        train(LogisticRegression.for_fields(fields), FieldDataset(fields), FieldDataset(fields, y))
    with pytest.raises(ValueError, match="X has 299 features"):
        compressor.to_fields(X[:, :299])
    with pytest.raises(IndexError):
        FieldDataset(fields, y)[4000]


def test_the_package_needs_torch_only_for_chromatic_torch():
    script = (
        "import sys\n"
        "import chromatic_learning, chromatic_learning.cli\n"
        "assert 'torch' not in sys.modules, 'chromatic imported torch'\n"
        "sys.modules['torch'] = None\n"
        "try:\n"
        "    import chromatic_learning.torch\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert 'pip install "chromatic-learning[torch]"' in done.stdout


def write_svmlight(path, X, y):
    from sklearn.datasets import dump_svmlight_file

    dump_svmlight_file(X, y, str(path), zero_based=True)
    return str(path)


def stream_rows(stream, workers: int):
    values, labels = [], []
    for batch in stream_loader(stream, num_workers=workers):
        values.append(batch.values.numpy())
        labels.append(batch.labels.numpy())
    return np.concatenate(values), np.concatenate(labels)


def sorted_rows(values, labels):
    rows = np.column_stack([values, labels])
    return rows[np.lexsort(rows.T[::-1])]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:This DataLoader will create 3 worker processes")
@pytest.mark.parametrize("workers", [0, 1, 2, 3])
def test_a_stream_of_files_yields_every_row_once(tmp_path, data, workers):
    X, y = data
    encoder = ChromaticEncoder().fit(X)
    paths = [
        write_svmlight(tmp_path / "a.svm", X[:2500], y[:2500]),
        write_svmlight(tmp_path / "b.svm", X[2500:], y[2500:]),
    ]
    # Small chunks: three workers on two files share the chunks instead.
    stream = FieldStream(encoder, paths, batch_size=300, zero_based=True, chunk_bytes=1 << 14)
    values, labels = stream_rows(stream, workers)
    expected = encoder.to_fields(X).values
    if workers == 0:
        np.testing.assert_array_equal(values, expected)
        np.testing.assert_array_equal(labels, y)
        sizes = [len(batch.labels) for batch in stream]
        assert sizes == [300] * 13 + [100]
    np.testing.assert_array_equal(sorted_rows(values, labels), sorted_rows(expected, y))


def test_a_stream_of_training_rows_is_cross_fitted(tmp_path, data):
    from chromatic_learning.streaming import fit_compressor_files, iter_compressed

    X, y = data
    path = write_svmlight(tmp_path / "train.svm", X, y)
    compressor = ChromaticCompressor(budget=48, n_frequent=12, random_state=0)
    _, tables = fit_compressor_files(compressor, [path], zero_based=True, cross_fit=True)
    stream = FieldStream(
        compressor, [path], batch_size=512, zero_based=True, cross_fit=tables, chunk_bytes=1 << 14
    )
    values, labels = stream_rows(stream, 0)
    columns = sp.vstack(
        [c for _, c in iter_compressed(compressor, path, zero_based=True, cross_fit=tables)]
    )
    expected = compressed_fields(columns, compressor.n_frequent_, compressor.compressor_)
    np.testing.assert_array_equal(values, expected.values)
    assert not np.array_equal(values, compressor.to_fields(X).values)
    np.testing.assert_array_equal(labels, y)


def test_a_stream_of_parquet_files_and_its_errors(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from chromatic_learning.streaming import TableFileError, TableReading, fit_files

    rng = np.random.default_rng(0)
    n = 3000
    table = pa.table(
        {
            "user": rng.integers(0, 200, n),
            "site": rng.choice(["a", "b", "c", "d"], n),
            "click": (rng.random(n) < 0.3).astype(np.int64),
        }
    )
    path = tmp_path / "clicks.parquet"
    pq.write_table(table, path, row_group_size=700)
    reading = TableReading(label="click")
    encoder = ChromaticEncoder(dense_threshold=None)
    fit_files(encoder, [path], tables=reading)
    values, labels = stream_rows(FieldStream(encoder, [path], tables=reading, batch_size=256), 0)
    np.testing.assert_array_equal(values, encoder.to_fields(table.drop_columns(["click"])).values)
    np.testing.assert_array_equal(labels, table["click"].to_numpy())
    other = tmp_path / "other.parquet"
    pq.write_table(table.rename_columns(["uid", "site", "click"]), other)
    with pytest.raises(TableFileError, match="lacks the columns \\['user'\\]"):
        list(FieldStream(encoder, [other], tables=reading))
    with pytest.raises(ValueError, match="zero_based is needed for svmlight files"):
        FieldStream(encoder, [path])
    with pytest.raises(ValueError, match="not fitted"):
        FieldStream(ChromaticEncoder(), [path], tables=reading)
    with pytest.raises(TypeError, match="model must be a fitted ChromaticEncoder"):
        FieldStream(HashingEncoder(), [path], tables=reading)


def test_a_model_trains_on_a_stream(tmp_path, data, compressor):
    X, y = data
    path = write_svmlight(tmp_path / "train.svm", X, y)
    stream = FieldStream(compressor, [path], batch_size=256, zero_based=True)
    model = FactorizationMachine.for_fields(compressor.to_fields(X[:1]), seed=0)
    before = log_loss(model, stream)
    result = train(model, stream, stream, epochs=3, lr=1e-2, progress=False)
    assert log_loss(model, stream) < before - 0.05
    assert len(result.valid_log_loss) >= 1

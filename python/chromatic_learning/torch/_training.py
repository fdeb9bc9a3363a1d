"""A training loop for the click models: Adam, early stopping on the validation log loss."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ._data import FieldDataset, field_loader
from ._stream import FieldStream, stream_loader


@dataclass
class TrainResult:
    """What ``train`` did.

    Attributes
    ----------
    best_epoch : int
        The epoch (from 1) whose weights the model keeps: the lowest validation log loss.
    valid_log_loss : list of float
        The validation log loss after each epoch.
    train_log_loss : list of float
        The mean training log loss of each epoch.
    seconds : float
        Time spent training and validating.
    """

    best_epoch: int = 0
    valid_log_loss: list = field(default_factory=list)
    train_log_loss: list = field(default_factory=list)
    seconds: float = 0.0


def train(
    model: nn.Module,
    train_data: FieldDataset,
    valid_data: FieldDataset,
    *,
    epochs: int = 10,
    batch_size: int = 1024,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    patience: int = 2,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
    workers: int = 0,
) -> TrainResult:
    """Train ``model`` with Adam on ``train_data``, stopping early on ``valid_data``'s log loss.

    After each epoch the model's validation log loss is measured; training stops once it has
    not improved for ``patience`` epochs, and the model keeps the weights of its best epoch.

    Parameters
    ----------
    model : nn.Module
        A model of ``chromatic_learning.torch.models`` (or any module that maps a ``FieldBatch``
        to one
        logit per row).
    train_data, valid_data : FieldDataset or FieldStream
        Labelled rows: in memory (the training rows shuffled every epoch), or streamed from
        files (in file order; ``batch_size`` is then the stream's).
    epochs : int, default=10
        Epochs at most.
    batch_size : int, default=1024
        Rows per step.
    lr, weight_decay : float
        Adam's learning rate and weight decay.
    patience : int, default=2
        Epochs without a better validation log loss before stopping.
    seed : int, default=0
        Seeds the shuffling (and dropout).
    device : str or torch.device, default="cpu"
        Where the model trains (``"cuda"`` on a GPU).
    progress : bool, default=True
        Show a progress bar of each epoch's batches (tqdm).
    workers : int, default=0
        ``DataLoader`` worker processes that make the batches (0: in this process).

    Returns
    -------
    result : TrainResult
        The best epoch and the log losses of every epoch.
    """
    for name, data in (("train_data", train_data), ("valid_data", valid_data)):
        _check_labelled(name, data)
    if epochs < 1 or patience < 1:
        raise ValueError(f"epochs and patience must be at least 1, got {epochs} and {patience}")
    torch.manual_seed(seed)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.BCEWithLogitsLoss()
    result, best_state, start = TrainResult(), None, time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        batches = _batches(train_data, batch_size, shuffle=True, seed=seed + epoch, workers=workers)
        total, rows = 0.0, 0
        for batch in _progress(batches, progress, f"epoch {epoch}"):
            batch = batch.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(batch), batch.labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch.labels)
            rows += len(batch.labels)
        result.train_log_loss.append(total / max(rows, 1))
        valid = log_loss(model, valid_data, batch_size=batch_size, device=device, workers=workers)
        result.valid_log_loss.append(valid)
        if result.best_epoch == 0 or valid < result.valid_log_loss[result.best_epoch - 1]:
            result.best_epoch, best_state = epoch, copy.deepcopy(model.state_dict())
        elif epoch - result.best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    result.seconds = time.perf_counter() - start
    return result


@torch.no_grad()
def predict_proba(
    model: nn.Module, data, *, batch_size: int = 4096, device="cpu", workers: int = 0
) -> np.ndarray:
    """Return the model's probability of the positive class for every row of ``data``.

    ``data`` is a ``FieldDataset`` or a ``FieldStream``.
    """
    return _predicted(model, data, batch_size, device, workers)[0]


def log_loss(model: nn.Module, data, *, batch_size: int = 4096, device="cpu", workers: int = 0):
    """Return the model's mean log loss on the labelled rows of ``data``."""
    _check_labelled("data", data)
    p, y = _predicted(model, data, batch_size, device, workers)
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@torch.no_grad()
def _predicted(model, data, batch_size, device, workers) -> tuple[np.ndarray, np.ndarray]:
    """Return the probabilities the model gives the rows of ``data``, and their labels."""
    model.eval()
    model.to(device)
    probabilities, labels = [], []
    for batch in _batches(data, batch_size, workers=workers):
        probabilities.append(torch.sigmoid(model(batch.to(device))).cpu().numpy())
        labels.append(batch.labels.numpy())
    if not probabilities:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    return np.concatenate(probabilities), np.concatenate(labels)


def _batches(data, batch_size: int, *, shuffle=False, seed=0, workers=0):
    """Return the batches of a ``FieldDataset`` (shuffled if asked) or a ``FieldStream``."""
    if isinstance(data, FieldStream):
        return stream_loader(data, num_workers=workers)
    if isinstance(data, FieldDataset):
        return field_loader(data, batch_size, shuffle=shuffle, seed=seed, num_workers=workers)
    raise TypeError(f"expected a FieldDataset or a FieldStream, got {type(data).__name__}")


def _check_labelled(name: str, data) -> None:
    if isinstance(data, FieldDataset) and data.labels is None:
        raise ValueError(f"{name} must have labels: FieldDataset(fields, y)")
    if not isinstance(data, FieldDataset | FieldStream):
        raise TypeError(
            f"{name} must be a FieldDataset or a FieldStream, got {type(data).__name__}"
        )


def _progress(batches, show: bool, description: str):
    if not show:
        return batches
    from tqdm.auto import tqdm

    return tqdm(batches, desc=description, leave=False, unit="batch")

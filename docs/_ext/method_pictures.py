"""The pictures of the method, drawn from the library on the tiny example of the user guide.

Twelve training rows over eight binary features ``x0``..``x7`` and a binary label. The build
runs each function below (matplotlib's ``plot`` directive), so every picture shows what
``cooccurrence_graph``, ``ChromaticEncoder`` and ``ChromaticCompressor`` give on these rows;
the user guide's doctests print the same numbers.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp

from chromatic_learning import ChromaticCompressor, ChromaticEncoder, cooccurrence_graph

ROWS = [
    [0, 3, 6],
    [0, 4],
    [1, 3, 7],
    [1, 5],
    [2, 4, 6],
    [2, 5, 7],
    [0, 5],
    [1, 4, 6],
    [0, 3],
    [2, 3, 7],
    [1, 4],
    [0, 6],
]
LABELS = [1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1]
N_FEATURES = 8
PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2"]
NONE_GREY = "#d9d9d9"
BUCKET_PALETTE = ["#8c564b", "#e377c2", "#bcbd22", "#17becf", "#9467bd", "#7f7f7f"]


def tiny_example() -> tuple[sp.csr_array, np.ndarray]:
    """Return the example's rows as a sparse binary matrix, and its labels."""
    indptr = np.cumsum([0] + [len(row) for row in ROWS])
    indices = np.concatenate(ROWS)
    X = sp.csr_array((np.ones(len(indices)), indices, indptr), shape=(len(ROWS), N_FEATURES))
    return X, np.array(LABELS)


def fitted():
    """Fit the encoder and the compressor of the pictures on the example."""
    X, y = tiny_example()
    encoder = ChromaticEncoder(dense_threshold=None).fit(X)
    compressor = ChromaticCompressor(
        budget=4, n_frequent=0, dense_threshold=None, penalty=0.0, random_state=0
    ).fit(X, y)
    return X, y, encoder, compressor


def draw_graph() -> None:
    """Draw the co-occurrence graph, each feature filled with its color, its code inside."""
    X, _, encoder, _ = fitted()
    graph = sp.triu(cooccurrence_graph(X)).tocoo()
    angles = np.pi / 2 - 2 * np.pi * np.arange(N_FEATURES) / N_FEATURES
    xy = np.column_stack([np.cos(angles), np.sin(angles)])
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    for u, v, weight in zip(graph.row, graph.col, graph.data, strict=True):
        ax.plot(*xy[[u, v]].T, color="#888888", linewidth=1.2 * weight, zorder=1)
        # A third of the way from the smaller vertex: edges through the middle stay apart.
        middle = xy[u] + (xy[v] - xy[u]) / 3
        if weight > 1:
            ax.text(
                *middle,
                str(int(weight)),
                fontsize=8,
                ha="center",
                va="center",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
            )
    for feature in range(N_FEATURES):
        color = PALETTE[encoder.colors_[feature]]
        ax.scatter(*xy[feature], s=900, color=color, edgecolor="black", zorder=2)
        ax.text(
            *xy[feature],
            f"x{feature}\n{encoder.codes_[feature]}",
            ha="center",
            va="center",
            fontsize=9,
            color="white",
            fontweight="bold",
            zorder=3,
        )
    handles = [
        plt.Line2D(
            [], [], marker="o", linestyle="", markersize=10, color=PALETTE[c], label=f"color{c}"
        )
        for c in range(encoder.n_colors_)
    ]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_title("co-occurrence graph")
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()


def draw_codes() -> None:
    """Draw the binary rows, their columns grouped by color, beside the code columns."""
    X, _, encoder, _ = fitted()
    codes = encoder.transform(X)
    dense = X.toarray()
    order = np.lexsort((encoder.codes_, encoder.colors_))
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(7.5, 4.4), gridspec_kw={"width_ratios": [N_FEATURES, encoder.n_colors_]}
    )
    for ax, n_columns in ((left, N_FEATURES), (right, encoder.n_colors_)):
        ax.set_xlim(-0.5, n_columns - 0.5)
        ax.set_ylim(len(ROWS) - 0.5, -0.5)
        ax.set_yticks(range(len(ROWS)), [f"row {i}" for i in range(len(ROWS))], fontsize=8)
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
    for column, feature in enumerate(order):
        color = PALETTE[encoder.colors_[feature]]
        for row in range(len(ROWS)):
            filled = dense[row, feature] != 0
            left.add_patch(
                plt.Rectangle(
                    (column - 0.45, row - 0.45), 0.9, 0.9, color=color if filled else "#f2f2f2"
                )
            )
    left.set_xticks(range(N_FEATURES), [f"x{f}" for f in order], fontsize=9)
    for label, feature in zip(left.get_xticklabels(), order, strict=True):
        label.set_color(PALETTE[encoder.colors_[feature]])
    left.set_title("binary rows (columns grouped by color)", fontsize=10)
    for color in range(encoder.n_colors_):
        for row in range(len(ROWS)):
            code = codes[row, color]
            right.add_patch(
                plt.Rectangle(
                    (color - 0.45, row - 0.45),
                    0.9,
                    0.9,
                    color=PALETTE[color] if code else NONE_GREY,
                )
            )
            right.text(
                color,
                row,
                str(code),
                ha="center",
                va="center",
                fontsize=9,
                color="white" if code else "black",
            )
    right.set_xticks(range(encoder.n_colors_), encoder.get_feature_names_out(), fontsize=9)
    right.set_yticks([])
    right.set_title("codes", fontsize=10)
    fig.tight_layout()


def draw_buckets() -> None:
    """Draw each color's values by their rate of positives, filled by the column they go to."""
    X, y, _, compressor = fitted()
    inner = compressor.encoder_
    codes = inner.transform(X)
    names = compressor.get_feature_names_out()
    column_of = {}
    for column in range(compressor.n_features_out_):
        for feature in compressor.bucket_features(column):
            column_of[int(str(feature)[1:])] = column
    fig, axes = plt.subplots(1, inner.n_colors_, figsize=(8.5, 3.4), sharey=True)
    for color, ax in enumerate(np.atleast_1d(axes)):
        features = [f for f in np.flatnonzero(inner.colors_ == color)]
        features.sort(key=lambda f: inner.codes_[f])
        values = [("none", 0, None)] + [(f"x{f}", inner.codes_[f], f) for f in features]
        values = [value for value in values if (codes[:, color] == value[1]).any()]
        rates = [y[codes[:, color] == code].mean() for _, code, _ in values]
        order = np.argsort(rates, kind="stable")
        for position, index in enumerate(order):
            name, _, feature = values[index]
            column = column_of.get(feature) if feature is not None else None
            fill = NONE_GREY if column is None else BUCKET_PALETTE[column % len(BUCKET_PALETTE)]
            # From below zero, so that a value with no positive shows its fill.
            ax.bar(position, rates[index] + 0.05, bottom=-0.05, color=fill, edgecolor="black")
            ax.text(position, rates[index] + 0.03, name, ha="center", fontsize=8)
        ax.set_xticks([])
        ax.set_ylim(-0.08, 1.15)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(f"color{color}", fontsize=10, color=PALETTE[color])
    np.atleast_1d(axes)[0].set_ylabel("rate of positives")
    handles = [plt.Rectangle((0, 0), 1, 1, color=NONE_GREY, label="reference bucket (no column)")]
    handles += [
        plt.Rectangle((0, 0), 1, 1, color=BUCKET_PALETTE[c % len(BUCKET_PALETTE)], label=names[c])
        for c in range(compressor.n_features_out_)
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(f"buckets: {compressor.n_features_out_} columns for a budget of 4", fontsize=10)
    fig.tight_layout(rect=(0, 0.16, 1, 1))

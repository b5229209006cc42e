"""Every plot the project draws: training curves, confusion matrices, benchmark ratios.

Each function writes one PNG atomically (`albert_tf.saving.atomic_path`)
with matplotlib's non-interactive Agg backend and returns its path; the
pretraining and fine-tuning loops, `albert-tf evaluate` and the bench
report draw through here.
"""

import contextlib
import pathlib

import numpy as np


@contextlib.contextmanager
def _figure(path, figsize, dpi=100, **subplots):
    """Yields (figure, axes) and writes the figure to `path` when the block ends."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from albert_tf.saving import atomic_path

    figure, axes = plt.subplots(figsize=figsize, **subplots)
    try:
        yield figure, axes
        figure.tight_layout()
        with atomic_path(path) as tmp:
            figure.savefig(tmp, dpi=dpi, format="png")
    finally:
        plt.close(figure)


def save_curves(records, path, panels):
    """Metric curves against the step, one panel per entry of `panels`.

    Args:
        records: list of dicts with "step" (from `training.callbacks.read_metrics`).
        path: output PNG path.
        panels: {panel title: [metric names]}, e.g.
            {"loss": ["loss", "mlm_loss"], "accuracy": ["mlm_accuracy"]}.

    Returns:
        `path` as a `pathlib.Path`.

    Example:
    >>> records = [{"step": 50, "loss": 9.1}, {"step": 100, "loss": 7.4}]
    >>> save_curves(records, "curves.png", {"loss": ["loss"]}).stat().st_size > 0
    True
    """
    with _figure(path, (5 * len(panels), 3.5), ncols=len(panels), squeeze=False) as (_, axes):
        for ax, (title, names) in zip(axes[0], panels.items()):
            for name in names:
                points = [(r["step"], r[name]) for r in records if name in r]
                if points:
                    ax.plot(*zip(*points), label=name)
            ax.set_title(title)
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
            ax.legend()
    return pathlib.Path(path)


def plot_history(history, path):
    """Fine-tuning curves by epoch: one panel per logged quantity (loss, dev metrics).

    Args:
        history: {name: [value per epoch]} as Keras' `History.history`;
            `val_<name>` is drawn in the panel of `<name>`.
        path: output PNG path.

    Returns:
        `path` as a `pathlib.Path`.

    Example:
    >>> plot_history({"loss": [0.7, 0.5], "dev_accuracy": [0.6, 0.7]}, "history.png").is_file()
    True
    """
    keys = [k for k in history if not k.startswith("val_") and k != "learning_rate"]
    with _figure(path, (4 * len(keys), 3.2), ncols=len(keys), squeeze=False) as (_, axes):
        for axis, key in zip(axes[0], keys):
            epochs = np.arange(1, len(history[key]) + 1)
            axis.plot(epochs, history[key], marker="o", label=key)
            if f"val_{key}" in history:
                axis.plot(epochs, history[f"val_{key}"], marker="o", label=f"val_{key}")
            axis.set_xlabel("epoch")
            axis.set_title(key)
            axis.grid(alpha=0.3)
            axis.legend(fontsize=8)
    return pathlib.Path(path)


def plot_confusion_matrix(matrix, label_names, path, title="confusion matrix"):
    """Confusion matrix with counts: rows = true label, columns = predicted.

    Args:
        matrix: int [C, C] counts.
        label_names: C names, in label-id order.
        path: output PNG path.
        title: the figure's title.

    Returns:
        `path` as a `pathlib.Path`.

    Example:
    >>> plot_confusion_matrix([[40, 10], [5, 45]], ["negative", "positive"], "cm.png").is_file()
    True
    """
    matrix = np.asarray(matrix)
    size = max(3.0, 0.6 * len(label_names) + 2)
    with _figure(path, (size, size)) as (_, axis):
        axis.imshow(matrix, cmap="Blues")
        axis.set_xticks(range(len(label_names)), label_names, rotation=45, ha="right")
        axis.set_yticks(range(len(label_names)), label_names)
        axis.set_xlabel("predicted")
        axis.set_ylabel("true")
        axis.set_title(title)
        threshold = matrix.max() / 2 if matrix.size else 0
        for (row, column), count in np.ndenumerate(matrix):
            axis.text(column, row, str(count), ha="center", va="center",
                      color="white" if count > threshold else "black")
    return pathlib.Path(path)


def plot_ratios(results, path):
    """One horizontal bar per benchmark ratio (log scale, 1x marked).

    Args:
        results: {benchmark name: {"ratios": {label: albert_tf / alternative}}}.
        path: output PNG path.

    Returns:
        `path` as a `pathlib.Path`, or None when no benchmark has ratios.

    Example:
    >>> plot_ratios({"inference": {"ratios": {"vs keras-hub": 3.1}}}, "ratios.png").is_file()
    True
    """
    bars = [(name, label, value) for name, result in results.items()
            for label, value in result.get("ratios", {}).items()]
    if not bars:
        return None
    import matplotlib

    colors = matplotlib.colormaps["tab10"]
    names = list(dict.fromkeys(name for name, _, _ in bars))
    positions = list(range(len(bars)))[::-1]
    with _figure(path, (10, 0.32 * len(bars) + 1.2), dpi=110) as (_, axes):
        axes.barh(positions, [v for _, _, v in bars],
                  color=[colors(names.index(name)) for name, _, _ in bars])
        axes.set_yticks(positions, [f"{name}: {label}" for name, label, _ in bars], fontsize=7)
        axes.set_xscale("log")
        axes.axvline(1.0, color="black", linewidth=1)
        axes.set_xlabel("albert_tf / alternative (> 1: albert_tf better)")
    return pathlib.Path(path)

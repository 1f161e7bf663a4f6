"""Pictures for the notebooks: image grids, samples per class, curves, matrices.

Every function draws on a new figure and returns it; notebooks display it inline.
"""

import numpy as np


def _plt():
    import matplotlib.pyplot as plt  # imported on first use: no work at import time

    return plt


#: matplotlib's diverging colour maps: their centre colour means zero
DIVERGING_CMAPS = frozenset({"bwr", "seismic", "coolwarm", "RdBu", "RdGy", "RdYlBu", "RdYlGn", "PiYG", "PRGn",
                             "BrBG", "PuOr", "Spectral"})


def is_diverging(cmap) -> bool:
    """Whether ``cmap`` (a name, ``_r`` reversed ones included) is a diverging colour map."""
    return isinstance(cmap, str) and cmap.removesuffix("_r") in DIVERGING_CMAPS


def _as_displayable(img: np.ndarray, diverging: bool = False) -> np.ndarray:
    """Drops a trailing channel of size 1 and rescales floats for imshow.

    Args:
        img: array of shape (H, W), (H, W, 1) or (H, W, 3).
        diverging: map [-max|img|, max|img|] to [0, 1], so that zero lands on 0.5, the centre colour
            of a diverging map (a filter's negative and positive weights); otherwise map [min, max].

    Returns:
        the image, of shape (H, W) or (H, W, 3), uint8 as given or floats in [0, 1].
    """
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.dtype == np.uint8:
        return img
    if diverging:
        scale = float(np.max(np.abs(img)))
        return 0.5 + 0.5 * img / scale if scale > 0 else np.full(img.shape, 0.5)
    lo, hi = float(np.min(img)), float(np.max(img))
    return (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img, dtype=np.float64)


def show_images(images, titles=None, ncols: int = 8, size: float = 1.4, cmap: str = "gray",
                suptitle: str | None = None):
    """Shows images in a grid.

    Args:
        images: array of shape (N, H, W), (N, H, W, 1) or (N, H, W, 3), or a list of such images.
        titles: optional list of N strings.
        ncols: images per row.
        size: inches per image.
        cmap: colour map for single-channel images. With a diverging map (``bwr``, ``RdBu`` ...) each
            image is scaled symmetrically about zero, so that zero is the centre colour; otherwise from
            its minimum to its maximum.
        suptitle: optional title over the grid.

    Returns:
        the matplotlib figure.
    """
    plt = _plt()
    n = len(images)
    if n == 0:
        raise ValueError("show_images got no images")
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3 * (titles is not None)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            shown = _as_displayable(images[i], diverging=is_diverging(cmap))
            limits = {} if shown.dtype == np.uint8 else {"vmin": 0.0, "vmax": 1.0}
            ax.imshow(shown, cmap=cmap, **limits)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_samples_per_class(x, y, class_names, per_class: int = 7, seed: int = 0, size: float = 1.1):
    """Shows ``per_class`` random examples of each class, one column per class (as in CS231n).

    Args:
        x: images of shape (N, H, W) or (N, H, W, C).
        y: int labels of shape (N,).
        class_names: names indexed by label.
        per_class: rows of the grid.
        seed: seed for picking examples.

    Returns:
        the matplotlib figure.
    """
    plt = _plt()
    rng = np.random.default_rng(seed)
    num_classes = len(class_names)
    fig, axes = plt.subplots(per_class, num_classes, figsize=(size * num_classes, size * per_class),
                             squeeze=False)
    for c in range(num_classes):
        members = np.flatnonzero(np.asarray(y) == c)
        picked = rng.choice(members, size=min(per_class, len(members)), replace=False) if len(members) else []
        for row in range(per_class):
            ax = axes[row, c]
            ax.axis("off")
            if row < len(picked):
                ax.imshow(_as_displayable(x[picked[row]]), cmap="gray")
            if row == 0:
                ax.set_title(class_names[c], fontsize=8)
    fig.tight_layout()
    return fig


def plot_curves(curves: dict, xlabel: str = "epoch", ylabel: str = "", title: str | None = None,
                reference: dict | None = None, logy: bool = False):
    """Plots named curves on one axis, with optional reference curves dashed.

    Args:
        curves: name -> sequence of values (x is the index).
        reference: name -> sequence, drawn dashed in the same colour order.
        logy: logarithmic y axis.

    Returns:
        the matplotlib figure.
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in curves.items():
        ax.plot(np.arange(len(values)), values, label=name)
    for name, values in (reference or {}).items():
        ax.plot(np.arange(len(values)), values, "--", label=f"{name} (reference)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_mean_std(xs, values_per_x, xlabel: str = "", ylabel: str = "", title: str | None = None,
                  logx: bool = False, reference=None, reference_label: str = "reference"):
    """Scatter of every value per x, with the mean ± std as an error-bar line (CS231n's CV plot).

    Args:
        xs: sequence of x positions.
        values_per_x: sequence (one per x) of sequences of values.
        reference: optional reference means, drawn dashed: a sequence aligned with ``xs``, or a
            dict keyed by x or by ``str(x)`` (as JSON stores it); x values it lacks are skipped.
        reference_label: legend label of the reference line.

    Returns:
        the matplotlib figure.
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for x, values in zip(xs, values_per_x):
        ax.scatter([x] * len(values), values, color="gray", s=12)
    means = [np.mean(v) for v in values_per_x]
    stds = [np.std(v) for v in values_per_x]
    ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label="you: mean ± std")
    if reference is not None:
        if isinstance(reference, dict):
            pairs = [(x, reference.get(x, reference.get(str(x)))) for x in xs]
        else:
            pairs = list(zip(xs, reference))
        pairs = [(x, float(v)) for x, v in pairs if v is not None]
        if pairs:
            ax.plot(*zip(*pairs), "--x", color="black", linewidth=1.2, zorder=3, label=reference_label)
        ax.legend()
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def show_matrix(m, title: str | None = None, xlabel: str = "", ylabel: str = "", cmap: str = "viridis",
                colorbar: bool = True):
    """Shows a 2-D array as an image (a distance matrix, a confusion matrix, ...).

    Args:
        m: array of shape (rows, cols).

    Returns:
        the matplotlib figure.
    """
    plt = _plt()
    m = np.asarray(m)
    if m.ndim != 2:
        raise ValueError(f"show_matrix needs a 2-D array, got shape {m.shape}")
    fig, ax = plt.subplots(figsize=(7, 7 * min(1.0, m.shape[0] / max(m.shape[1], 1)) + 0.8))
    im = ax.imshow(m, cmap=cmap, interpolation="nearest", aspect="auto")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if colorbar:
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    return fig

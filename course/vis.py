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


def _as_displayable(img: np.ndarray, diverging: bool = False, vmin: float | None = None,
                    vmax: float | None = None) -> np.ndarray:
    """Drops a trailing channel of size 1 and rescales floats for imshow.

    Args:
        img: array of shape (H, W), (H, W, 1) or (H, W, 3).
        diverging: map [-max|img|, max|img|] to [0, 1], so that zero lands on 0.5, the centre colour
            of a diverging map (a filter's negative and positive weights); otherwise map [min, max].
        vmin, vmax: a fixed scale: map [vmin, vmax] to [0, 1] and clip what lies outside (a missing
            one is the image's own minimum or maximum); ``diverging`` is then ignored.

    Returns:
        the image, of shape (H, W) or (H, W, 3), uint8 as given or floats in [0, 1].
    """
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    fixed = vmin is not None or vmax is not None
    if img.dtype == np.uint8 and not fixed:
        return img
    if diverging and not fixed:
        scale = float(np.max(np.abs(img)))
        return 0.5 + 0.5 * img / scale if scale > 0 else np.full(img.shape, 0.5)
    lo = float(np.min(img)) if vmin is None else float(vmin)
    hi = float(np.max(img)) if vmax is None else float(vmax)
    if not hi > lo:
        return np.zeros(img.shape, dtype=np.float64)
    return np.clip((img - lo) / (hi - lo), 0.0, 1.0)


def show_images(images, titles=None, ncols: int = 8, size: float = 1.4, cmap: str = "gray",
                suptitle: str | None = None, vmin: float | None = None, vmax: float | None = None):
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
        vmin, vmax: one fixed colour scale for every image instead of each image's own: ``vmin`` gets
            the first colour, ``vmax`` the last, values outside are clipped (e.g. ``vmin=0, vmax=1``
            for probabilities, so that a map spanning 0.99 to 1 does not look like a drop). A missing
            one is each image's own minimum or maximum. With a diverging map, give ``vmin = -vmax`` to
            keep zero at the centre colour.

    Returns:
        the matplotlib figure.
    """
    plt = _plt()
    n = len(images)
    if n == 0:
        raise ValueError("show_images got no images")
    if vmin is not None and vmax is not None and not vmax > vmin:
        raise ValueError(f"show_images needs vmin < vmax, got vmin={vmin}, vmax={vmax}")
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3 * (titles is not None)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            shown = _as_displayable(images[i], diverging=is_diverging(cmap), vmin=vmin, vmax=vmax)
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


# --- Figures that explain a mechanism: each takes its numbers as inputs or computes only what no graded
# --- cell asks for, draws on a new figure and returns it.


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _as_int(value, name: str, minimum: int) -> int:
    _require(isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum,
             f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _as_pair(value, name: str) -> tuple[int, int]:
    pair = (value, value) if np.ndim(value) == 0 else tuple(value)
    _require(len(pair) == 2, f"{name} must be an int or a pair of ints, got {value!r}")
    return _as_int(pair[0], name, 1), _as_int(pair[1], name, 1)


def _check_windows_fit(size: int, filter_size: int, stride: int, pad: int, output_size: int, axis: str = "") -> None:
    """Refuses windows that reach beyond the padded input (a figure cannot draw them).

    Windows that stop short of the edge are drawn as they are: the strip they leave uncovered is the
    picture of a stride that does not tile the input. (Which output size is right is the student's
    ``conv_output_size``; the figures draw the one they are given.)
    """
    padded, end = size + 2 * pad, (output_size - 1) * stride + filter_size
    where = f" along {axis}" if axis else ""
    _require(filter_size <= padded, f"the filter F={filter_size} is larger than the padded input{where}: "
                                    f"W + 2P = {size} + 2*{pad} = {padded}")
    _require(end <= padded, f"{output_size} windows of F={filter_size} at stride S={stride} end at {end}, beyond the "
                            f"padded input{where} (W + 2P = {size} + 2*{pad} = {padded})")


NEURON_NODES = ("w0", "x0", "w1", "x1", "w2", "w0*x0", "w1*x1", "sum", "z", "-z", "exp", "+1", "f")


def neuron_graph_figure(values: dict, grads: dict):
    """The lecture's sigmoid neuron f = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2))) as a computational graph.

    Every edge carries its node's forward value above it (green) and the gradient of f with respect to
    it below it (red): the numbers a forward and a backward pass computed, node by node (03's cells do
    it for CS231n's example, ``w = [2, -3, -3]``, ``x = [-1, -2]``). The figure draws them; it computes
    nothing. The texts have gids ``value:NODE`` and ``grad:NODE``.

    Args:
        values: node -> forward value, for every node of ``NEURON_NODES``: the inputs ``w0 x0 w1 x1 w2``,
            the gates' outputs ``w0*x0 w1*x1 sum z -z exp +1`` and the output ``f``.
        grads: node -> gradient of f with respect to that node's value (``grads["f"]`` is 1).

    Returns:
        the matplotlib figure.
    """
    for what, given in (("values", values), ("grads", grads)):
        missing = [node for node in NEURON_NODES if node not in given]
        _require(not missing, f"{what} has no {', '.join(missing)} (the graph's nodes are {', '.join(NEURON_NODES)})")
    value = {node: float(values[node]) for node in NEURON_NODES}
    grad = {node: float(grads[node]) for node in NEURON_NODES}
    gates = [("w0*x0", ("w0", "x0")), ("w1*x1", ("w1", "x1")), ("sum", ("w0*x0", "w1*x1")), ("z", ("sum", "w2")),
             ("-z", ("z",)), ("exp", ("-z",)), ("+1", ("exp",)), ("f", ("+1",))]

    pos = {"w0": (0, 5), "x0": (0, 3.6), "w1": (0, 2.4), "x1": (0, 1.0), "w2": (0, -0.4), "w0*x0": (2, 4.3),
           "w1*x1": (2, 1.7), "sum": (3.6, 3.0), "z": (5.2, 2.0), "-z": (6.8, 2.0), "exp": (8.4, 2.0),
           "+1": (10.0, 2.0), "f": (11.6, 2.0)}
    labels = {"w0*x0": "*", "w1*x1": "*", "sum": "+", "z": "+", "-z": "*-1", "exp": "exp", "+1": "+1", "f": "1/x"}
    plt = _plt()
    fig, ax = plt.subplots(figsize=(12, 4.6))
    ax.set_axis_off()
    ends = [(arg, name) for name, args in gates for arg in args] + [("f", None)]
    for src, dst in ends:
        (x0_, y0_), (x1_, y1_) = pos[src], (pos[dst] if dst else (13.0, pos["f"][1]))
        ax.annotate("", xy=(x1_ - 0.3, y1_), xytext=(x0_ + (0.3 if src in labels else 0.15), y0_),
                    arrowprops={"arrowstyle": "->", "color": "0.4"})
        t = 0.5 if src in labels else 0.3  # where along the edge its numbers go
        mx, my = x0_ + (x1_ - x0_) * t, y0_ + (y1_ - y0_) * t
        ax.text(mx, my + 0.12, f"{value[src]:.2f}", color="green", ha="center", va="bottom", fontsize=10,
                gid=f"value:{src}")
        ax.text(mx, my - 0.12, f"{grad[src]:.2f}", color="red", ha="center", va="top", fontsize=10,
                gid=f"grad:{src}")
    for name, (px, py) in pos.items():
        if name in labels:
            ax.add_patch(plt.Circle((px, py), 0.3, facecolor="white", edgecolor="black"))
            ax.text(px, py, labels[name], ha="center", va="center", fontsize=10)
        else:
            ax.text(px - 0.1, py, name, ha="right", va="center", fontsize=11)
    ax.set_xlim(-0.8, 13.3)
    ax.set_ylim(-0.9, 5.4)
    ax.set_aspect("equal")
    ax.set_title("forward values above the edges (green), gradients df/d(edge) below (red)", fontsize=10)
    fig.tight_layout()
    return fig


def activation_gradients_figure(x, activations: dict, saturate_at: float | None = None):
    """Activation functions (left) and their local gradients (right), to see where they saturate.

    Args:
        x: array of shape (N,), increasing inputs.
        activations: name -> (values, gradients), each an array of shape (N,): the activation at ``x`` and
            its derivative (e.g. your forward pass, and your backward pass with ``dout = 1``).
        saturate_at: if given, shade |x| >= saturate_at on both panels (the saturated region).

    Returns:
        the matplotlib figure; the right panel marks each gradient's maximum.
    """
    x = np.asarray(x, dtype=np.float64)
    _require(x.ndim == 1 and x.size >= 2, f"x must have shape (N,) with N >= 2, got shape {x.shape}")
    _require(bool(np.all(np.diff(x) > 0)), "x must be increasing")
    _require(len(activations) > 0, "activation_gradients_figure got no activations")
    for name, pair in activations.items():
        _require(len(pair) == 2, f"activations[{name!r}] must be (values, gradients), got {len(pair)} arrays")
        for part, arr in zip(("values", "gradients"), pair):
            _require(np.shape(arr) == x.shape, f"activations[{name!r}] {part} must have x's shape {x.shape}, "
                                               f"got shape {np.shape(arr)}")
    plt = _plt()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    marked = set()
    for n, (name, (values, grads)) in enumerate(activations.items()):
        line, = left.plot(x, values, ls="--" if n % 2 else "-", label=name)
        right.plot(x, grads, color=line.get_color(), ls=line.get_linestyle(), label=name)
        k = int(np.argmax(grads))
        right.plot([x[k]], [grads[k]], "o", color=line.get_color(), ms=4)
        if f"{grads[k]:.2f}" not in marked:  # one label per distinct maximum
            marked.add(f"{grads[k]:.2f}")
            right.annotate(f"max {grads[k]:.2f}", (x[k], grads[k]), textcoords="offset points", xytext=(4, 4),
                           fontsize=8, color=line.get_color())
    for ax, title in ((left, "activation"), (right, "local gradient d(out)/dx")):
        if saturate_at is not None:
            for sign in (-1, 1):
                ax.axvspan(sign * saturate_at, sign * x[-1] if sign > 0 else x[0], color="0.9", zorder=0)
        ax.set(xlabel="x", title=title)
        ax.grid(alpha=0.3)
    left.set_ylim(-1.5, min(3.0, float(np.max([np.max(v) for v, _ in activations.values()])) + 0.5))
    right.legend(fontsize=8)
    if saturate_at is not None:
        right.text(saturate_at, right.get_ylim()[1] * 0.95, f" |x| ≥ {saturate_at:g}", fontsize=8, va="top")
    fig.tight_layout()
    return fig


def conv_window_figure(input_size: int, filter_size: int, stride: int, pad: int, output_size: int,
                       positions=None):
    """An F x F window sliding with stride S over a W x W input padded with P zeros, and the output grid.

    Left: the padded input, the zero padding shaded, the window at a few positions (each a colour);
    right: the output_size x output_size output, the same positions coloured. The title shows
    W' = (W - F + 2P)/S + 1 with the numbers.

    Args:
        input_size: W, the input's width and height.
        filter_size: F.
        stride: S.
        pad: P, zeros on every side.
        output_size: W', e.g. from your conv_output_size: the number of window positions per row.
        positions: (i, j) output positions to draw, each 0 <= i, j < output_size; default the first two
            of the first row, its last, and the last of the last row.

    Returns:
        the matplotlib figure; window rectangles have gid ``window``, output cells ``output-cell``.

    Raises:
        ValueError: quoting the numbers, when the windows reach beyond the padded input, or a position
            is outside.
    """
    W, F = _as_int(input_size, "input_size", 1), _as_int(filter_size, "filter_size", 1)
    S, P, out = _as_int(stride, "stride", 1), _as_int(pad, "pad", 0), _as_int(output_size, "output_size", 1)
    _check_windows_fit(W, F, S, P, out)
    if positions is None:
        positions = list(dict.fromkeys([(0, 0), (0, min(1, out - 1)), (0, out - 1), (out - 1, out - 1)]))
    for i, j in positions:
        _require(0 <= i < out and 0 <= j < out, f"position {(i, j)} is outside the {out}x{out} output")
    plt = _plt()
    Wp = W + 2 * P
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.6), gridspec_kw={"width_ratios": [Wp, max(out, 3)]})
    shade = np.ones((Wp, Wp))
    shade[P:P + W, P:P + W] = 0.0
    left.imshow(shade, cmap="Greys", vmin=0, vmax=3.0, extent=(0, Wp, Wp, 0))
    colours = plt.get_cmap("tab10")
    for k, (i, j) in enumerate(positions):
        inset = 0.06 * (k % 3)
        left.add_patch(plt.Rectangle((j * S + inset, i * S + inset), F - 2 * inset, F - 2 * inset,
                                     facecolor=(*colours(k)[:3], 0.12), edgecolor=colours(k), lw=2.5, gid="window"))
    for ax, n in ((left, Wp), (right, out)):
        ax.set_xticks(np.arange(n + 1))
        ax.set_yticks(np.arange(n + 1))
        ax.grid(color="0.6", lw=0.6)
        ax.tick_params(labelbottom=False, labelleft=False, length=0)
        ax.set_xlim(0, n)
        ax.set_ylim(n, 0)
        ax.set_aspect("equal")
    for i in range(out):
        for j in range(out):
            drawn = [k for k, p in enumerate(positions) if p == (i, j)]
            right.add_patch(plt.Rectangle((j, i), 1, 1, gid="output-cell",
                                          facecolor=colours(drawn[0]) if drawn else "white", alpha=0.7))
    left.set_title(f"input {W}×{W}, padded with P={P} (shaded): {Wp}×{Wp}\nwindow F={F}, stride S={S}", fontsize=9)
    right.set_title(f"output {out}×{out}", fontsize=9)
    fig.suptitle(f"W' = (W − F + 2P)/S + 1 = ({W} − {F} + 2·{P})/{S} + 1 = {out}")
    fig.tight_layout()
    return fig


def im2col_figure(x, cols, filter_size: int, stride: int = 1, pad: int = 0, output_size=None):
    """How im2col turns windows into rows: the padded input with its windows, and ``cols`` coloured alike.

    Row r of ``cols`` is the window of output position (r // W', r % W'); both get the same colour, and
    the numbers are written in when there are few. The title gives the matrix product that does the
    convolution.

    Args:
        x: one image, array of shape (H, W) or (H, W, C) (the input panel shows channel 0).
        cols: array of shape (H' * W', F * F * C), e.g. from your im2col on ``x[None]``.
        filter_size: F.
        stride: S.
        pad: P, zeros on every side.
        output_size: H' (= W') or (H', W'), e.g. from your conv_output_size.

    Returns:
        the matplotlib figure; its second image is the drawn matrix, of shape (H' * W', F * F * C).

    Raises:
        ValueError: quoting the shapes, when cols does not have shape (H' * W', F * F * C), or the numbers
            when the windows reach beyond the padded input.
    """
    x = np.asarray(x, dtype=np.float64)
    x = x[..., None] if x.ndim == 2 else x
    _require(x.ndim == 3, f"x must have shape (H, W) or (H, W, C), got shape {np.shape(x)}")
    H, W, C = x.shape
    F, S, P = _as_int(filter_size, "filter_size", 1), _as_int(stride, "stride", 1), _as_int(pad, "pad", 0)
    _require(output_size is not None, "im2col_figure needs output_size, H' or (H', W')")
    Ho, Wo = _as_pair(output_size, "output_size")
    _check_windows_fit(H, F, S, P, Ho, axis="the height")
    _check_windows_fit(W, F, S, P, Wo, axis="the width")
    cols = np.asarray(cols, dtype=np.float64)
    _require(cols.shape == (Ho * Wo, F * F * C),
             f"cols must have shape (H'*W', F*F*C) = ({Ho * Wo}, {F * F * C}), got shape {cols.shape}")
    plt = _plt()
    colours = plt.get_cmap("tab20")
    x_pad = np.pad(x[..., 0], P)                                                      # (H + 2P, W + 2P)
    rows = np.array([colours(r % 20) for r in range(Ho * Wo)])                        # (H'*W', 4)
    tinted = 0.55 + 0.45 * np.repeat(rows[:, None, :], cols.shape[1], axis=1)         # (H'*W', F*F*C, 4)
    tinted[..., 3] = 1.0
    fig, (left, right) = plt.subplots(1, 2, figsize=(5 + 0.45 * cols.shape[1], max(3.5, 0.35 * len(cols) + 1.5)),
                                      gridspec_kw={"width_ratios": [x_pad.shape[1], cols.shape[1]]})
    shade = np.full(x_pad.shape, 0.2)
    shade[P:P + H, P:P + W] = 0.0
    left.imshow(shade, cmap="Greys", vmin=0, vmax=1, extent=(0, x_pad.shape[1], x_pad.shape[0], 0))
    right.imshow(tinted, aspect="equal", extent=(0, cols.shape[1], cols.shape[0], 0))
    for r in range(Ho * Wo):
        i, j = divmod(r, Wo)
        inset = 0.05 + 0.05 * (r % 4)
        left.add_patch(plt.Rectangle((j * S + inset, i * S + inset), F - 2 * inset, F - 2 * inset, fill=False,
                                     edgecolor=rows[r], lw=2))
    if x_pad.size <= 400:
        for (i, j), v in np.ndenumerate(x_pad):
            left.text(j + 0.5, i + 0.5, f"{v:g}", ha="center", va="center", fontsize=8)
    if cols.size <= 600:
        for (i, j), v in np.ndenumerate(cols):
            right.text(j + 0.5, i + 0.5, f"{v:g}", ha="center", va="center", fontsize=7)
    for ax in (left, right):
        ax.tick_params(length=0)
    left.set_xticks([])
    left.set_yticks([])
    right.set_xticks(np.arange(cols.shape[1]) + 0.5,
                     [f"{p},{q},{c}" for p in range(F) for q in range(F) for c in range(C)], fontsize=6, rotation=90)
    right.set_yticks(np.arange(len(cols)) + 0.5, [f"({i},{j})" for i in range(Ho) for j in range(Wo)], fontsize=6)
    left.set_title(f"input {H}×{W}×{C}, pad {P}\n{Ho}×{Wo} windows of {F}×{F}", fontsize=9)
    right.set_title(f"cols {cols.shape}: one row per window\n(p, q, c) order, like w.reshape(-1, K)", fontsize=9)
    fig.suptitle(f"conv = cols @ w.reshape(-1, K): ({Ho * Wo}, {F * F * C}) @ ({F * F * C}, K) → ({Ho * Wo}, K) "
                 f"→ reshape ({Ho}, {Wo}, K)", fontsize=10)
    fig.tight_layout()
    return fig


def receptive_field_figure(sizes, labels=None, jumps=None):
    """Nested squares on the input grid: the region one unit sees after each layer of a stack.

    Args:
        sizes: receptive-field widths in input pixels, one per layer, e.g. from your receptive_field.
        labels: optional names of the layers, one per size.
        jumps: optional distances in input pixels between neighbouring units, one per size.

    Returns:
        the matplotlib figure; the squares have gid ``receptive-field`` and are sizes[k] pixels wide.

    Raises:
        ValueError: quoting the value, for a size that is not an int >= 1, or sizes that shrink, or
            labels or jumps of another length.
    """
    sizes = [_as_int(s, "each receptive-field size", 1) for s in sizes]
    _require(len(sizes) > 0, "receptive_field_figure got no sizes")
    _require(all(a <= b for a, b in zip(sizes, sizes[1:])), f"receptive fields never shrink, got sizes {sizes}")
    for name, extra in (("labels", labels), ("jumps", jumps)):
        _require(extra is None or len(extra) == len(sizes),
                 f"{name} must have one entry per size ({len(sizes)}), got {len(extra) if extra is not None else 0}")
    labels = labels or [f"layer {k + 1}" for k in range(len(sizes))]
    plt = _plt()
    n = sizes[-1] + 2
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if n <= 40:
        ax.set_xticks(np.arange(n + 1))
        ax.set_yticks(np.arange(n + 1))
        ax.grid(color="0.85", lw=0.6)
    ax.tick_params(labelbottom=False, labelleft=False, length=0)
    colours = plt.get_cmap("viridis")
    centre = n // 2
    ax.add_patch(plt.Rectangle((centre, centre), 1, 1, color="black"))
    for k, size in reversed(list(enumerate(sizes))):
        start = centre - (size - 1) // 2
        legend = f"{labels[k]}: {size}×{size} px" + (f", jump {jumps[k]}" if jumps is not None else "")
        ax.add_patch(plt.Rectangle((start, start), size, size, facecolor=colours(k / max(len(sizes) - 1, 1)),
                                   alpha=0.35, edgecolor=colours(k / max(len(sizes) - 1, 1)), lw=2,
                                   gid="receptive-field", label=legend))
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    ax.set_xlim(0, n)
    ax.set_ylim(n, 0)
    ax.set_aspect("equal")
    ax.set_title("what one unit (black: its centre pixel) sees, layer after layer", fontsize=10)
    fig.tight_layout()
    return fig

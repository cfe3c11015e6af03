"""Pictures of completions: one completion on a page (input, mask, all candidates, result, and the
search's losses), and a comparison grid of methods like the thesis's figures 6 and 7.

Built on `matplotlib.figure.Figure` with an Agg canvas, never on pyplot: no global state, no
display needed, so it works in scripts, on servers and in notebooks (Jupyter shows a Figure
returned by a cell as it is).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import Tensor

from semantic_inpaint.complete import Completion
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.viz import image_grid, to_uint8

BEST_COLOUR = "tab:red"
GRID_PAD = 2  # px between candidates in the grid, as image_grid draws them
CELL = 1.0  # inches per image in comparison_figure
HEADER = 0.5  # inches above comparison_figure's grid, for the title and column labels


def _show(ax: Axes, picture: Tensor, title: str, **imshow: object) -> None:
    """A (3, H, W) image in [0, 1] or an (H, W) map, without ticks."""
    ax.imshow(picture.permute(1, 2, 0).numpy() if picture.ndim == 3 else picture.numpy(), **imshow)
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()


def _candidate_grid(ax: Axes, candidates: Tensor, best: int) -> None:
    """All K candidates in a square-ish grid, the best one outlined."""
    k, _, h, w = candidates.shape
    nrow = math.ceil(math.sqrt(k))
    ax.imshow(image_grid(to_uint8(candidates * 2 - 1), nrow=nrow, pad=GRID_PAD))
    row, col = divmod(best, nrow)
    # The outline sits in the padding around the cell, so it hides none of the candidate's pixels.
    ax.add_patch(
        Rectangle(
            (GRID_PAD + col * (w + GRID_PAD) - 1.5, GRID_PAD + row * (h + GRID_PAD) - 1.5),
            w + 2,
            h + 2,
            fill=False,
            edgecolor=BEST_COLOUR,
            linewidth=2,
        )
    )
    ax.set_title(f"all {k} candidates G(z) (best: #{best}, outlined)", fontsize=9)
    ax.set_axis_off()


def _loss_curve(ax: Axes, history: Tensor, final: Tensor, best: int, name: str) -> None:
    """One loss term along the search: the best candidate, and the min-median band of all K.

    history (T, K) holds the term at z before each step; `final` (K,) at the final z, so the
    curve has T + 1 points, at steps 0..T.
    """
    values = torch.cat([history, final[None]])
    steps = torch.arange(len(values)).numpy()
    ax.fill_between(steps, values.min(dim=1).values.numpy(), values.median(dim=1).values.numpy(), color="0.8", label="min to median of K")
    ax.plot(steps, values[:, best].numpy(), color=BEST_COLOUR, linewidth=1.2, label=f"best (#{best})")
    ax.set_title(name, fontsize=9)
    ax.set_xlabel("Adam step", fontsize=8)
    ax.ticklabel_format(axis="y", useOffset=False)  # read the loss values off the axis as they are
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)


def _landmark_bars(ax: Axes, final: Tensor, best: int) -> None:
    """The final landmark loss of each candidate (it has no gradient, so it only ranks them)."""
    colours = ["0.6"] * len(final)
    colours[best] = BEST_COLOUR
    ax.bar(range(len(final)), final.numpy(), color=colours, width=0.8)
    ax.set_title("landmark loss L_d at the end, per candidate (eqs. 17-18)", fontsize=9)
    ax.set_xlabel("candidate", fontsize=8)
    ax.tick_params(labelsize=7)


def completion_figure(result: Completion, i: int = 0) -> Figure:
    """A figure for image `i` of `result`: the input with its hole in mid grey, the mask, the
    grid of all K candidates with the best outlined, the completed image, and the context and
    prior losses along the search (plus the final landmark losses when that loss was on)."""
    n = len(result.images)
    if not -n <= i < n:
        raise IndexError(f"image index {i} out of range for a completion of {n} image(s)")
    best = int(result.best[i])
    x, m = result.inputs[i], result.masks[i]
    config = result.config
    with_landmarks = config.loss.landmark != "none"

    fig = Figure(figsize=(13, 7.5), layout="constrained")
    FigureCanvasAgg(fig)  # the Agg canvas renders without a display
    grid = fig.add_gridspec(3, 5)
    _show(fig.add_subplot(grid[0, 0]), x * m + 0.5 * (1 - m), "input (hole in grey)")
    _show(fig.add_subplot(grid[0, 1]), m[0], "mask (white = known)", cmap="gray", vmin=0, vmax=1)
    fill = ", candidates' mean" if config.pick == "mean" else ""
    _show(fig.add_subplot(grid[0, 2]), result.images[i], f"completed ({config.blend}{fill})")
    _candidate_grid(fig.add_subplot(grid[1:, :3]), result.candidates[i], best)

    curves = grid[:, 3:].subgridspec(3 if with_landmarks else 2, 1)
    h = result.history
    _loss_curve(fig.add_subplot(curves[0]), h.context[:, i], result.losses.context[i], best, "context loss L_c (eq. 16)")
    _loss_curve(fig.add_subplot(curves[1]), h.prior[:, i], result.losses.prior[i], best, "prior loss L_p (eq. 19)")
    if with_landmarks and config.loss.landmark == "soft":  # in the objective every step: a curve
        _loss_curve(fig.add_subplot(curves[2]), h.landmark[:, i], result.losses.landmark[i], best, "soft landmark loss L_d (ours)")
    elif with_landmarks:
        _landmark_bars(fig.add_subplot(curves[2]), result.losses.landmark[i], best)

    terms = result.losses
    fig.suptitle(
        f"{config.iterations} iterations, K = {config.candidates}, landmark = {config.loss.landmark}; best #{best}: "
        f"context {terms.context[i, best]:.4g}, prior {terms.prior[i, best]:.4g}, "
        f"landmark {terms.landmark[i, best]:.4g}, total {terms.total[i, best]:.4g}",
        fontsize=10,
    )
    return fig


def comparison_figure(columns: Mapping[str, Sequence[Tensor | None]], row_labels: Sequence[str] | None = None, title: str = "") -> Figure:
    """A grid like the thesis's figures 6 and 7: one row per image, one column per entry of
    `columns`, label -> that column's images, each (3, H, W) in [0, 1] or None (left blank,
    e.g. a method not run on that image). The usual columns: masked input, methods, truth.
    The figure is CELL inches per image, plus HEADER inches for `title` and the labels."""
    lengths = {len(images) for images in columns.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise InpaintInputError(f"comparison_figure needs columns of equal, non-zero length, got lengths {sorted(lengths)}")
    n = lengths.pop()
    if row_labels is not None and len(row_labels) != n:
        raise InpaintInputError(f"{len(row_labels)} row labels for {n} rows")

    fig = Figure(figsize=(CELL * len(columns), CELL * n + HEADER), layout="constrained")
    FigureCanvasAgg(fig)  # the Agg canvas renders without a display
    axes = fig.subplots(n, len(columns), squeeze=False)
    for col, (label, images) in enumerate(columns.items()):
        axes[0, col].set_title(label, fontsize=8)
        for row, image in enumerate(images):
            ax = axes[row, col]
            # Ticks and frame off, but not the axis itself, so that the row label can show.
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)
            if image is None:
                ax.set_aspect("equal")  # square like the pictures beside it
                ax.text(0.5, 0.5, "not saved", ha="center", va="center", fontsize=7, color="0.5", transform=ax.transAxes)
            else:
                ax.imshow(image.permute(1, 2, 0).numpy())
    if row_labels is not None:
        for row, label in enumerate(row_labels):
            axes[row, 0].set_ylabel(label, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Write `fig` to `path` (format from the suffix, e.g. .png or .pdf), creating folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path

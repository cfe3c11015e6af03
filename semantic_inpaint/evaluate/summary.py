"""results.md: the tables laid out like the thesis's tables 1 and 2 (masks down, methods
across), each cell the mean over images with its bootstrap 95 % interval."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
from scipy import stats

from semantic_inpaint.evaluate.scores import METRICS

# scipy 1.15 renamed bootstrap's seed argument to `rng`; older versions take `random_state`.
_SEED = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"


def bootstrap_ci(values: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95 % interval of the mean of the 1-D `values` (over images), from
    `n_boot` resamples drawn with `seed` (scipy.stats.bootstrap).

    One value has no interval: (nan, nan). Values all equal give (v, v), which is what every
    resample's mean is (scipy is not asked: some versions warn there)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float("nan"), float("nan")
    if np.all(values == values[0]):
        return float(values[0]), float(values[0])
    result = stats.bootstrap(
        (values,), np.mean, n_resamples=n_boot, confidence_level=0.95, method="percentile", vectorized=True, **{_SEED: np.random.default_rng(seed)}
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def mean_and_interval(values: np.ndarray, decimals: int, signed: bool = False) -> str:
    """'mean [lo, hi]' of `values` with their `bootstrap_ci`, or 'mean' alone for one value,
    which has no interval. `signed`: a '+' before positive numbers, for differences."""
    f = f"{'+' if signed else ''}.{decimals}f"
    lo, hi = bootstrap_ci(values)
    interval = "" if np.isnan(lo) else f" [{lo:{f}}, {hi:{f}}]"
    return f"{np.mean(values):{f}}{interval}"


def _cell(v: np.ndarray, key: str, signed: bool = False) -> str:
    """'mean [95 % CI] (n=...)' of the finite values of `v`, or '-' if there are none."""
    v = v[np.isfinite(v)]  # a perfect hole gives PSNR = inf; reported by count
    if len(v) == 0:
        return "-"
    return f"{mean_and_interval(v, 3 if 'ssim' in key else 2, signed)} (n={len(v)})"


def _table(title: str, masks: list[str], columns: list[str], cell: Callable[[str, str], str]) -> list[str]:
    """A markdown table's lines: masks down, `columns` across, `cell(mask, column)` in each."""
    lines = [f"### {title}", "", "| mask | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {mask} | " + " | ".join(cell(mask, column) for column in columns) + " |" for mask in masks]
    return lines + [""]


def summarise(rows: list[dict]) -> str:
    """Markdown tables, one per metric: masks down, methods across, 'mean [95 % CI]' (n images);
    then, with two methods or more, each method's difference from the first, paired by image
    (the interval of the mean difference says whether a method helps on these images). A cell
    of one image shows its value without an interval."""
    masks = list(dict.fromkeys(r["mask"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))

    def column(mask: str, method: str, key: str) -> list[tuple[str, float]]:
        """(image, value) of each row of `method` on `mask`."""
        return [(r["image"], float(r[key])) for r in rows if r["mask"] == mask and r["method"] == method]

    lines = []
    for key, title in METRICS.items():
        lines += _table(title, masks, methods, lambda mask, m, key=key: _cell(np.array([v for _, v in column(mask, m, key)]), key))
    if len(methods) < 2:
        return "\n".join(lines)
    base, others = methods[0], methods[1:]

    def differences(mask: str, method: str, key: str) -> np.ndarray:
        """`method` minus `base` on the images both have."""
        theirs, mine = dict(column(mask, base, key)), dict(column(mask, method, key))
        return np.array([mine[i] - v for i, v in theirs.items() if i in mine])

    lines += [f"## Differences from {base}, paired by image (method minus {base})", ""]
    for key, title in METRICS.items():
        lines += _table(title, masks, others, lambda mask, m, key=key: _cell(differences(mask, m, key), key, signed=True))
    return "\n".join(lines)

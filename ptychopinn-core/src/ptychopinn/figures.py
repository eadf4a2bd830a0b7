"""PNG figures: object amplitude/phase, comparison with the ground truth, FRC curves, loss curves.

matplotlib is an optional extra of core (``pip install 'ptychopinn-core[figures]'``). It is
imported only when a figure is drawn; without it every function raises ``ImportError`` with
that install command. Figures are drawn with the object-oriented API (no pyplot, no global
backend switch) and written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ptychopinn._atomic import atomic_write

__all__ = ["plot_comparison", "plot_consistency", "plot_frc", "plot_object", "plot_training_history"]

_INSTALL = "pip install 'ptychopinn-core[figures]'"


def _figure(nrows: int, ncols: int, size: tuple[float, float]) -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(f"PtychoPINN figures need matplotlib, which is not installed: {_INSTALL}") from exc
    fig = Figure(figsize=size, constrained_layout=True)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(p) as handle:
        fig.savefig(handle, format="png", dpi=110)
    return p


def _show(
    fig: Any, ax: Any, image: np.ndarray, title: str, cmap: str, vmin: float | None = None, vmax: float | None = None
) -> None:
    im = ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(im, ax=ax, shrink=0.8)


def plot_object(
    obj: npt.ArrayLike, path: str | os.PathLike[str], *, valid: npt.ArrayLike | None = None, title: str = ""
) -> Path:
    """Amplitude and phase of a complex object side by side.

    Parameters
    ----------
    obj : (H, W) complex
    path : PNG file to write
    valid : (H, W) bool, optional
        Pixels outside are greyed out (NaN).
    title : str

    Returns
    -------
    Path
    """
    o = np.asarray(obj)
    amp, phase = np.abs(o).astype(np.float64), np.angle(o)
    if valid is not None:
        v = np.asarray(valid, dtype=bool)
        amp, phase = np.where(v, amp, np.nan), np.where(v, phase, np.nan)
    fig, axes = _figure(1, 2, (9, 4))
    _show(fig, axes[0, 0], amp, f"{title} amplitude".strip(), "gray")
    _show(fig, axes[0, 1], phase, f"{title} phase (rad)".strip(), "twilight")
    return _save(fig, path)


def plot_comparison(
    reconstruction: npt.ArrayLike,
    truth: npt.ArrayLike | None,
    path: str | os.PathLike[str],
    *,
    valid: npt.ArrayLike | None = None,
    align_first: bool = True,
) -> Path:
    """Reconstruction, ground truth and their difference (amplitude and phase rows).

    With ``align_first`` the reconstruction is registered, phase-offset corrected and
    amplitude-scaled to the truth first (:func:`ptychopinn.metrics.align`), so the
    difference shows errors rather than the ambiguities of ptychography. Without a truth,
    falls back to :func:`plot_object`.
    """
    if truth is None:
        return plot_object(reconstruction, path, valid=valid)
    from ptychopinn.metrics.alignment import align

    r = np.asarray(reconstruction)
    t = np.asarray(truth)
    if align_first:
        al = align(r, t, valid=valid)
        r, t, mask = al.reconstruction, al.truth, al.mask
    else:
        mask = np.ones(r.shape, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    amp_r, amp_t = np.abs(r), np.abs(t)
    ph_t = np.angle(t)
    ph_r = ph_t + np.angle(r * np.conj(t))
    nan = np.nan
    rows = (
        ("amplitude", np.where(mask, amp_r, nan), amp_t, "gray"),
        ("phase (rad)", np.where(mask, ph_r, nan), ph_t, "twilight"),
    )
    fig, axes = _figure(2, 3, (13, 8))
    for i, (name, rec, tru, cmap) in enumerate(rows):
        lo, hi = float(np.nanmin(tru[mask])), float(np.nanmax(tru[mask]))
        _show(fig, axes[i, 0], rec, f"reconstruction {name}", cmap, lo, hi)
        _show(fig, axes[i, 1], tru, f"ground truth {name}", cmap, lo, hi)
        diff = np.where(mask, rec - tru, nan)
        lim = float(np.nanmax(np.abs(diff))) or 1.0
        _show(fig, axes[i, 2], diff, f"difference {name}", "RdBu_r", -lim, lim)
    return _save(fig, path)


def plot_frc(curves: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """FRC curves with the 0.5 and 1/7 thresholds.

    Parameters
    ----------
    curves : mapping name -> FRCResult or {"frequency": [...], "frc": [...]}
        E.g. ``evaluate(...)["frc_curves"]``.
    """
    fig, axes = _figure(1, 1, (6, 4))
    ax = axes[0, 0]
    for name, c in curves.items():
        if isinstance(c, Mapping):
            f, v = np.asarray(c["frequency"]), np.asarray(c["frc"])
        else:
            f, v = np.asarray(c.frequency), np.asarray(c.curve)
        ax.plot(f[1:], v[1:], label=name)
    ax.axhline(0.5, color="k", ls="--", lw=0.8, label="0.5")
    ax.axhline(1 / 7, color="k", ls=":", lw=0.8, label="1/7")
    ax.set_xlabel("spatial frequency (cycles / pixel)")
    ax.set_ylabel("FRC")
    ax.set_xlim(0, 0.5)
    ax.set_ylim(-0.1, 1.05)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_training_history(history: Mapping[str, Sequence[float]], path: str | os.PathLike[str]) -> Path:
    """Loss curves per epoch (``TrainingSummary.history``); log scale when all values are positive.

    Series whose name contains ``learning_rate`` go on a second axis.
    """
    fig, axes = _figure(1, 1, (6, 4))
    ax = axes[0, 0]
    positive = True
    lr_axis = None
    for name, values in history.items():
        v = np.asarray(list(values), dtype=np.float64)
        if v.size == 0:
            continue
        epochs = np.arange(1, v.size + 1)
        if "learning_rate" in name or name == "lr":
            lr_axis = lr_axis or ax.twinx()
            lr_axis.plot(epochs, v, color="grey", ls=":", label=name)
            lr_axis.set_ylabel("learning rate")
            continue
        positive = positive and bool(np.all(v[np.isfinite(v)] > 0))
        ax.plot(epochs, v, marker="o", ms=3, label=name)
    if positive and ax.lines:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if ax.lines:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no training history", ha="center", va="center", transform=ax.transAxes)
    return _save(fig, path)


def plot_consistency(consistency: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Per-pattern data consistency (histograms of Poisson deviance and amplitude error).

    Parameters
    ----------
    consistency : mapping name -> DataConsistency
        E.g. ``{"network": ..., "refined": ...}`` (:mod:`ptychopinn.refinement.consistency`).
    path : path-like
        PNG to write.
    """
    fig, axes = _figure(1, 2, (9.0, 3.4))
    for name, c in consistency.items():
        for ax, values, label in ((axes[0, 0], c.poisson_deviance, "Poisson half-deviance per pixel"),
                                  (axes[0, 1], c.amplitude_error, "relative amplitude error")):
            finite = np.asarray(values)[np.isfinite(values)]
            if finite.size:
                ax.hist(finite, bins=40, alpha=0.6, label=f"{name} (median {np.median(finite):.3g})")
            ax.set_xlabel(label, fontsize=9)
            ax.set_ylabel("patterns", fontsize=9)
    for ax in axes[0]:
        ax.legend(fontsize=8)
    fig.suptitle("data consistency per diffraction pattern", fontsize=10)
    return _save(fig, path)

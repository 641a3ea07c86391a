"""ROC, DET and score-histogram plots (matplotlib, written as PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from liveness.evaluate.run import ScoredSet


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _rates(scored: ScoredSet) -> tuple[np.ndarray, np.ndarray] | None:
    from sklearn.metrics import roc_curve

    ok = scored.detected()
    is_real = np.array([s.is_real for s in scored.samples])[ok]
    if is_real.all() or not is_real.any():
        return None
    fpr, tpr, _ = roc_curve(is_real, scored.scores[ok])
    return fpr, 1.0 - tpr


def write_plots(folder: Path, scored: ScoredSet, threshold: float, title: str) -> list[Path]:
    """hist.png (per class and per attack species), roc.png and det.png (these need both classes)."""
    plt = _pyplot()
    written = [_histograms(plt, folder, scored, threshold, title)]
    rates = _rates(scored)
    if rates is not None:
        written += [_roc(plt, folder, *rates, title), _det(plt, folder, *rates, title)]
    return written


def _roc(plt, folder: Path, apcer: np.ndarray, bpcer: np.ndarray, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(apcer, 1 - bpcer, lw=2)
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set(xlabel="APCER (attacks accepted)", ylabel="1 - BPCER (real faces accepted)", title=f"ROC: {title}")
    ax.grid(alpha=0.3)
    return _save(plt, fig, folder / "roc.png")


def _det(plt, folder: Path, apcer: np.ndarray, bpcer: np.ndarray, title: str) -> Path:
    from scipy.stats import norm

    clip = lambda v: norm.ppf(np.clip(v, 1e-4, 1 - 1e-4))  # noqa: E731
    ticks = np.array([0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95])
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(clip(apcer), clip(bpcer), lw=2)
    ax.set_xticks(clip(ticks), [f"{t:g}" for t in ticks])
    ax.set_yticks(clip(ticks), [f"{t:g}" for t in ticks])
    ax.set(xlabel="APCER", ylabel="BPCER", title=f"DET: {title}")
    ax.grid(alpha=0.3)
    return _save(plt, fig, folder / "det.png")


def _histograms(plt, folder: Path, scored: ScoredSet, threshold: float, title: str) -> Path:
    ok = scored.detected()
    groups: dict[str, list[float]] = {}
    for sample, score in zip(scored.samples, scored.scores, strict=True):
        if np.isfinite(score):
            groups.setdefault("real" if sample.is_real else sample.attack, []).append(score)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    bins = np.linspace(0, 1, 41)
    attack = [v for k, vs in groups.items() if k != "real" for v in vs]
    for ax, series in ((axes[0], {"real": groups.get("real", []), "attack": attack}), (axes[1], groups)):
        for name, values in sorted(series.items()):
            if values:
                ax.hist(values, bins=bins, alpha=0.5, density=True, label=f"{name} ({len(values)})")
        ax.axvline(threshold, color="black", ls="--", lw=1, label=f"threshold {threshold:.3f}")
        ax.set(xlabel="score (probability of real)", ylabel="density")
        ax.legend(fontsize=8)
    axes[0].set_title("per class")
    axes[1].set_title("per attack species")
    fig.suptitle(f"{title} ({int(ok.sum())} scored, {int((~ok).sum())} without a face)")
    return _save(plt, fig, folder / "hist.png")


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

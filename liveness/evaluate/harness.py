"""`liveness evaluate`: score a dataset with one scorer and write a full report folder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from liveness.detect import FaceDetector
from liveness.detect.landmarks import EyeLandmarker
from liveness.errors import ConfigError
from liveness.evaluate.dataset import EvalSample
from liveness.evaluate.plots import write_plots
from liveness.evaluate.report import REPORT_KEYS
from liveness.evaluate.run import (
    ScoredSet,
    blink_gated_report,
    find_faces,
    frame_report,
    score_samples,
    score_videos,
    video_report,
    write_scores,
)  # fmt: skip
from liveness.evaluate.scorers import Scorer
from liveness.provenance import provenance
from liveness.types import Face


@dataclass
class Evaluation:
    scorer: str
    threshold: float
    threshold_source: str
    scored: ScoredSet
    frame_level: dict[str, Any]
    video_level: dict[str, Any] | None
    video_level_blink: dict[str, Any] | None = None  # a video without a blink judged an attack

    def to_json(self) -> dict[str, Any]:
        out = {
            "system": self.scorer,
            "threshold": self.threshold,
            "threshold_source": self.threshold_source,
            "frame_level": self.frame_level,
            "video_level": self.video_level,
        }
        if self.scored.blinks is not None:
            out["video_level_require_blink"] = self.video_level_blink
            out["blinks"] = self.scored.blinks
        return out


def evaluate(
    scorer: Scorer,
    samples: Sequence[EvalSample],
    *,
    detector: FaceDetector | None = None,
    faces: Sequence[Face | None] | None = None,
    threshold: float | None = None,
    threshold_source: str | None = None,
    declared_species: Sequence[str] = (),
    every: int = 1,
    eyes: EyeLandmarker | None = None,
) -> Evaluation:
    """Score `samples` (detecting faces unless given) and compute frame and video reports.

    Video files are scored every `every`-th frame; with `eyes` their blinks are counted and
    a third report judges a video without a blink an attack (what `--require-blink` does)."""
    images = [s for s in samples if not s.is_video]
    videos = [s for s in samples if s.is_video]
    if faces is not None and videos:
        raise ConfigError("face boxes can be given for images only")
    scored = score_samples(scorer, images, list(faces) if faces is not None else find_faces(images, detector))
    if videos:
        if detector is None:
            raise ConfigError("videos need a face detector")
        scored = scored + score_videos(scorer, videos, detector, every, eyes)
    if threshold is None:
        threshold, threshold_source = scorer.threshold, threshold_source or "the scorer's own (model card)"
    return _judged(scorer.name, scored, threshold, threshold_source or "given", declared_species)


def _judged(
    name: str, scored: ScoredSet, threshold: float, source: str, declared: Sequence[str]
) -> Evaluation:
    return Evaluation(
        scorer=name,
        threshold=threshold,
        threshold_source=source,
        scored=scored,
        frame_level=frame_report(scored, threshold, declared),
        video_level=video_report(scored, threshold, declared),
        video_level_blink=blink_gated_report(scored, threshold, declared),
    )


def write_report(
    folder: Path, evaluation: Evaluation, recipe: dict[str, Any], model: dict[str, Any] | None = None
) -> Path:
    """report.json, report.md, scores.csv, run.json and the plots in `folder`; `model` names the
    model scored (name, card, sha256 of its files) in run.json."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(evaluation.to_json(), indent=2) + "\n", encoding="utf-8")
    (folder / "report.md").write_text(markdown(evaluation), encoding="utf-8")
    write_scores(folder / "scores.csv", evaluation.scored, evaluation.threshold)
    write_plots(folder, evaluation.scored, evaluation.threshold, evaluation.scorer)
    run = {
        "recipe": recipe,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": model,
        **provenance(),
    }
    (folder / "run.json").write_text(json.dumps(run, indent=2, default=str) + "\n", encoding="utf-8")
    return folder


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def markdown(evaluation: Evaluation) -> str:
    lines = [
        f"# Evaluation of `{evaluation.scorer}`",
        "",
        f"Threshold {evaluation.threshold:.4f} ({evaluation.threshold_source}). "
        "A face is accepted as real when its score >= threshold.",
        "",
    ]
    for level, report in (
        ("Frame level", evaluation.frame_level),
        ("Video level (mean score)", evaluation.video_level),
        (
            "Video level, real only after a blink (mean score, 0 without a blink)",
            evaluation.video_level_blink,
        ),
    ):
        if report is None:
            continue
        lines += [f"## {level}", "", "| metric | value |", "|---|---|"]
        for key in REPORT_KEYS:
            if key == "apcer_per_pais":
                continue
            value = report[key]
            shown = (
                str(value)
                if key.startswith(("n_", "failures"))
                else _num(value)
                if key in ("auc", "threshold", "eer_threshold")
                else _pct(value)
            )
            lines.append(f"| {key} | {shown} |")
        lines += ["", "| attack species | APCER |", "|---|---|"]
        lines += [f"| {name} | {_pct(v)} |" for name, v in report["apcer_per_pais"].items()]
        if report["notes"]:
            lines += ["", "Notes:"] + [f"- `{k}`: {v}" for k, v in report["notes"].items()]
        lines.append("")
    return "\n".join(lines + _blink_lines(evaluation.scored))


def _blink_lines(scored: ScoredSet) -> list[str]:
    """Blinks seen per video, by label (every video when there are few)."""
    if scored.blinks is None:
        return []
    label = {s.video_id: s.label for s in scored.samples}
    lines = ["## Blinks seen", ""]
    for name in ("real", "spoof"):
        counts = [n for video, n in scored.blinks.items() if label.get(video) == name]
        if counts:
            lines.append(f"- {name}: {sum(n > 0 for n in counts)} of {len(counts)} videos show a blink")
    if len(scored.blinks) <= 50:
        lines += ["", "| video | label | blinks |", "|---|---|---|"]
        lines += [f"| {video} | {label.get(video, '')} | {n} |" for video, n in scored.blinks.items()]
    return [*lines, ""]


def rethreshold(evaluation: Evaluation, threshold: float, source: str) -> Evaluation:
    """The same scores judged at another threshold (no rescoring)."""
    declared = [k for k, v in evaluation.frame_level["apcer_per_pais"].items() if v is None]
    return _judged(evaluation.scorer, evaluation.scored, threshold, source, declared)

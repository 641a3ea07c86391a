"""Steps the multi-source ship recipes share (`ship_multisource.sh`, `ship_colour_texture.sh`).

`split`: the training faces, every corpus source of `build_corpus.py` but Replay-Attack devel (which
the shipping rule judges, so no model may see it), with their cached teacher scores beside them.
`card`: the trained model's card names every source, its commit and its terms, drops local paths,
and, given a `liveness evaluate` report of Replay-Attack devel, records its numbers at the model's
own threshold.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from liveness.cards import ModelCard
from liveness.data.corpus import read_catalogue
from liveness.data.manifest import read_rows, write_rows

JUDGED = "replay-attack-devel"
CATALOGUE_TERMS = (
    "public GitHub repository with no licence for its data and no stated consent: research and "
    "evaluation only"
)
LAB_TERMS = "released by its owners for research only"
CITATION = "Chingovska, Anjos, Marcel, BIOSIG 2012 (Replay-Attack); Tan et al., ECCV 2010 (NUAA)"


def split(work: Path, corpus: Path) -> int:
    """Write WORK/train.csv and WORK/teacher.csv: the corpus faces a ship recipe trains on."""
    teachers = {r["path"]: r["teacher"] for r in read_rows(corpus / "teachers.csv")}
    rows = [
        r for r in read_rows(corpus / "manifest.csv") if r["source_name"] != JUDGED and r["path"] in teachers
    ]
    write_rows(work / "train.csv", rows)
    write_rows(work / "teacher.csv", [{"path": r["path"], "teacher": teachers[r["path"]]} for r in rows])
    return len(rows)


def sources(corpus: Path, shared: Path) -> list[dict]:
    """Every training source of the corpus table with its repository, commit, faces and terms."""
    catalogue = {r.family: r for r in read_catalogue(shared / "data" / "catalogue" / "sources.csv")}
    found = []
    for table in read_rows(corpus / "sources.csv"):
        if table["source"] == JUDGED:
            continue
        row = catalogue.get(table["source"])
        found.append(
            {
                "source": row.repo if row else table["source"],
                "commit": row.commit if row else "",
                "faces_real": int(table["real"]),
                "faces_spoof": int(table["spoof"]),
                "terms": CATALOGUE_TERMS if row else LAB_TERMS,
            }
        )
    return found


def devel_metrics(report: Path) -> dict:
    """Replay-Attack devel as `liveness evaluate` judged it at the model's own threshold."""
    found = json.loads(report.read_text(encoding="utf-8"))
    return {
        "threshold_from": "the model's own (its card's threshold_source)",
        "frame_level": found["frame_level"],
        "video_level": found.get("video_level"),
    }


def card(work: Path, shared: Path, path: Path, limitations: str, devel_report: Path | None = None) -> None:
    """Rewrite the card at `path` with the sources, terms and (given) Replay-Attack devel numbers."""
    model = ModelCard.load(path)
    training_data = json.loads(json.dumps(model.training_data).replace(str(work), "$WORK"))
    training_data["config"]["dataset"] = "$WORK/train.csv"
    metrics = dict(model.metrics)
    if devel_report is not None:
        metrics[JUDGED] = devel_metrics(devel_report)
    model.replace(
        training_data={
            "dataset": "every corpus source of recipes/build_corpus.py but Replay-Attack devel: "
            "Replay-Attack train, NUAA and the approved catalogue's tutorial datasets, faces boxed by res10",
            "citation": CITATION,
            "sources": sources(work / "corpus", shared),
            **{k: v for k, v in training_data.items() if k != "dataset"},
        },
        metrics=metrics,
        limitations=limitations,
    ).save(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    steps = parser.add_subparsers(dest="step", required=True)
    p = steps.add_parser("split", help="write WORK/train.csv and WORK/teacher.csv")
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--corpus", type=Path, required=True)
    p = steps.add_parser("card", help="complete the trained model's card")
    p.add_argument("--work", type=Path, required=True, help="the recipe's folder (holds corpus/)")
    p.add_argument("--shared", type=Path, required=True)
    p.add_argument("--card", type=Path, required=True)
    p.add_argument("--limitations", required=True)
    p.add_argument("--devel-report", type=Path, help="report.json of Replay-Attack devel")
    args = parser.parse_args()
    if args.step == "split":
        print(f"{split(args.work, args.corpus)} training faces in {args.work / 'train.csv'}")
    else:
        card(args.work, args.shared, args.card, args.limitations, args.devel_report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

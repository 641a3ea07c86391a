"""Reading and writing manifest CSV files (one row per sample, paths relative to the file)."""

from __future__ import annotations

import csv
from pathlib import Path

from liveness.errors import DatasetError

MANIFEST_NAME = "manifest.csv"


def read_rows(path: Path) -> list[dict[str, str]]:
    """All rows of a CSV as dicts; a clear `DatasetError` for missing or non-CSV files."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames:
                raise DatasetError(f"{path} is empty")
            return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    except FileNotFoundError:
        raise DatasetError(f"manifest not found: {path}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path} is not a readable CSV file: {exc}") from None


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    """Write rows atomically, with the union of their columns, `path` first."""
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    if "path" in columns:
        columns.remove("path")
        columns.insert(0, "path")
    tmp = Path(path).with_name(Path(path).name + ".part")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def face_box_in_file(row: dict[str, str]) -> tuple[int, int, int, int] | None:
    """The face box `x,y,w,h` of a row inside the file its `path` names.

    A gather manifest gives the box in the frame and where the crop was cut
    (`crop_x`, `crop_y`); a corpus row that points at the frame itself has no
    crop offset. None when the row has no box.
    """
    if not all(row.get(k, "").lstrip("-").isdigit() for k in ("x", "y", "w", "h")):
        return None
    x, y, w, h = (int(row[k]) for k in ("x", "y", "w", "h"))
    offsets = [row.get(k, "") for k in ("crop_x", "crop_y")]
    cx, cy = (int(v) if v.lstrip("-").isdigit() else 0 for v in offsets)
    if w < 1 or h < 1:
        return None
    return max(0, x - cx), max(0, y - cy), w, h

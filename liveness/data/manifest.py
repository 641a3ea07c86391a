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

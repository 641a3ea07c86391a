"""The README and docs: every relative link resolves, and the README stays a newcomer's page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO

PAGES = [REPO / "README.md", REPO / "research" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _relative_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)  # code is not a link
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page):
    broken = [t for t in _relative_links(page) if not (page.parent / t.split("#")[0]).exists()]
    assert not broken, f"{page.name}: {broken}"


def test_the_readme_is_a_page_not_a_log():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 400
    assert not re.search(r"\bsession \d", text, re.I)


def test_gitignore_covers_what_the_readme_commands_write():
    ignored = (REPO / ".gitignore").read_text().split()
    for written in ("annotated.mp4", "frames.jsonl", "/models/", "/reports/", "plot.png"):
        assert written in ignored, written

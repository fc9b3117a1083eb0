"""The documentation: it builds offline with warnings as errors, its examples run, and it is
self-contained (nothing points to a design note or a folder outside the repository)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: What a reference to a document outside the repository looks like.
OUTSIDE = re.compile(r"design\.md|\.\./shared|shared folder|shared/data|/work/", re.IGNORECASE)

#: Pages whose Python blocks (after a ``<!-- tested`` marker) must run as written.
TESTED_PAGES = ("index.md", "tutorial.md")


def _texts() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "mkdocs.yml", ROOT / "CHANGELOG.md"]
    files += sorted(p for p in DOCS.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    files += sorted((ROOT / "fidelity").rglob("*.py"))
    return files


def test_nothing_refers_to_a_document_outside_the_repository():
    found = []
    for path in _texts():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "references outside the repository:\n" + "\n".join(found)


def test_the_pattern_catches_what_it_should():
    for text in ("see DESIGN.md", "in ../shared/data", "the shared folder", "/work/shared/x"):
        assert OUTSIDE.search(text), text
    for text in ('mode="shared"', "shared by all tastes", "docs/concepts.md"):
        assert not OUTSIDE.search(text), text


def test_every_api_page_documents_a_module_with_a_directive():
    pages = sorted((DOCS / "api").glob("*.md"))
    assert pages
    for page in pages:
        assert re.search(r"^::: fidelity[\w.]*$", page.read_text(), flags=re.M), page.name


@pytest.mark.slow
def test_site_builds_offline_with_warnings_as_errors(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = out.stdout + out.stderr
    assert out.returncode == 0, log
    assert "WARNING" not in log, log
    for page in ("index", "concepts", "architecture", "tutorial", "cli", "changelog"):
        assert (site / f"{page}.html").is_file(), page
    api = {p.stem for p in (DOCS / "api").glob("*.md")}
    assert api == {p.stem for p in (site / "api").glob("*.html")}
    # the API pages are generated from the docstrings, the CLI page from the parser
    split_page = (site / "api" / "split.html").read_text()
    assert 'id="fidelity.split.split_providers"' in split_page
    assert "usage: fidelity reproduce" in (site / "cli.html").read_text()
    assert "Unreleased" in (site / "changelog.html").read_text()


def _tested_blocks(page: str) -> list[str]:
    text = (DOCS / page).read_text()
    _, marker, rest = text.partition("<!-- tested")
    assert marker, f"{page} has no tested marker"
    return re.findall(r"^```python\n(.*?)^```", rest, flags=re.S | re.M)


@pytest.mark.slow
@pytest.mark.parametrize("page", TESTED_PAGES)
def test_page_examples_run_as_written(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write their output folders here
    blocks = _tested_blocks(page)
    assert blocks
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOCS / page), "exec"), namespace)

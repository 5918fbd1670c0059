"""The docs as a MkDocs site: every page is in the navigation, and the site builds without a warning.

MkDocs is optional (``pip install mkdocs``); the build test is skipped where it is not installed.
"""
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = sorted(str(page.relative_to(ROOT / "docs")) for page in (ROOT / "docs").rglob("*.md"))


def test_every_page_is_in_the_navigation():
    config = (ROOT / "mkdocs.yml").read_text()
    missing = [page for page in PAGES if f": {page}\n" not in config]
    assert not missing, f"add these pages to the nav of mkdocs.yml: {missing}"


def test_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "site")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "index.html").exists()

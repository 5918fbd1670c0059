"""Every ```python block in docs/ and the README runs here, so the docs cannot drift from the code.

Blocks in one page run in order in one namespace (a page is one session). A block whose first line is
``# doc: no-run`` is shown but not run (e.g. a command that trains for minutes).
"""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
PAGES = sorted(p for p in [*DOCS.rglob("*.md"), ROOT / "README.md"] if BLOCK.search(p.read_text()))


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_code_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs.{page.stem}"}
    for number, block in enumerate(BLOCK.findall(page.read_text()), start=1):
        if block.lstrip().startswith("# doc: no-run"):
            continue
        try:
            exec(compile(block, f"{page.name} block {number}", "exec"), namespace)
        except Exception as error:
            pytest.fail(f"{page.relative_to(ROOT)}, code block {number} failed: {type(error).__name__}: {error}")


def test_there_are_documented_examples():
    assert PAGES, "docs/ should hold pages with runnable examples"

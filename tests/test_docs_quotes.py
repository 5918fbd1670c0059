"""Code that the docs quote from tinygen reads there exactly as in the source, so a walk-through cannot go stale.

A quote is a ```python block right after a line ``<!-- quote: PATH NAME -->``, where NAME is a function or class
of the file PATH, or a method (``Class.method``); the block must be its source, dedented, decorators included.
"""
import ast
import pathlib
import re
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
QUOTE = re.compile(r"<!-- quote: (\S+) (\S+) -->\n```python\n(.*?)```", re.S)
QUOTES = [
    (page, path, name, block)
    for page in sorted((ROOT / "docs").rglob("*.md"))
    for path, name, block in QUOTE.findall(page.read_text())
]


def source_of(path, name):
    """The dedented source of ``name`` (``function``, ``Class`` or ``Class.method``) in the file ``path``."""
    text = path.read_text()
    body, node = ast.parse(text).body, None
    for part in name.split("."):
        node = next((item for item in body if getattr(item, "name", None) == part), None)
        if node is None:
            raise LookupError(f"{path} has no {name}")
        body = node.body
    first = min([decorator.lineno for decorator in node.decorator_list] + [node.lineno])
    return textwrap.dedent("\n".join(text.splitlines()[first - 1:node.end_lineno])) + "\n"


@pytest.mark.parametrize("page, path, name, block", QUOTES,
                         ids=[f"{page.name}:{name}" for page, _, name, _ in QUOTES])
def test_quoted_code_is_the_source(page, path, name, block):
    source = source_of(ROOT / path, name)
    assert block == source, (
        f"{page.relative_to(ROOT)} quotes {name} from {path}, which now reads differently; paste it again:\n{source}"
    )


def test_the_reverse_mode_page_quotes_the_loop_and_the_node():
    quoted = {(path, name) for page, path, name, _ in QUOTES if page.name == "reverse-mode.md"}
    assert quoted == {("tinygen/autograd/engine.py", "run_backward"),
                      ("tinygen/autograd/function.py", "Function.__call__")}


def test_a_changed_quote_fails(tmp_path):
    """The check compares line for line: one changed character in the source makes the quote stale."""
    module = tmp_path / "module.py"
    module.write_text("class A:\n    @staticmethod\n    def f():\n        return 1\n")
    assert source_of(module, "A.f") == "@staticmethod\ndef f():\n    return 1\n"
    module.write_text("class A:\n    @staticmethod\n    def f():\n        return 2\n")
    assert source_of(module, "A.f") != "@staticmethod\ndef f():\n    return 1\n"

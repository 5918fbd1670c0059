"""The code stays inside the oldest Python that setup.cfg claims (``python_requires``).

CI runs the fast suite on that Python itself (the oldest-versions pass in .ci/run); this test keeps a developer on a
newer one from writing newer syntax in the meantime. ``ast.parse(..., feature_version=...)`` is best-effort: seen on
CPython 3.11 to 3.13, it refuses ``except*`` (3.11) and, where the running parser knows them, ``type`` aliases and
``def f[T]()`` (3.12); it lets through star-expressions in subscripts and annotations (``a[*b]``, 3.11) and the
3.12 f-strings (quotes and backslashes inside ``{}``), and it knows nothing of new standard-library names
(``tomllib``, ``typing.Self``, ``datetime.UTC``) or changed behaviour: only the run on the oldest Python finds those.
"""
import ast
import configparser
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("tinygen", "tests", "examples", "benchmarks")


def oldest_claimed_python():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    requirement = config["options"]["python_requires"]
    major, minor = re.fullmatch(r">=\s*(\d+)\.(\d+)", requirement.strip()).groups()
    return int(major), int(minor)


def python_files():
    return sorted(path for folder in SOURCE_FOLDERS for path in (ROOT / folder).rglob("*.py")
                  if ".venv" not in path.parts)


def test_the_oldest_claimed_python_is_310_as_the_readme_says():
    assert oldest_claimed_python() == (3, 10)
    assert "Python 3.10" in (ROOT / "README.md").read_text()


def test_every_source_file_parses_as_the_oldest_claimed_python():
    version = oldest_claimed_python()
    files = python_files()
    assert len(files) > 100
    failures = []
    for path in files:
        try:
            ast.parse(path.read_text(), filename=str(path), feature_version=version)
        except SyntaxError as error:
            failures.append(f"{path.relative_to(ROOT)}:{error.lineno}: {error.msg}")
    assert not failures, f"syntax newer than Python {version[0]}.{version[1]}:\n" + "\n".join(failures)


NEWER_SYNTAX = [
    ((3, 11), "try:\n    pass\nexcept* ValueError:\n    pass\n"),  # exception groups
    ((3, 12), "type Pair = tuple[int, int]\n"),                     # type aliases
    ((3, 12), "def first[T](items: list[T]) -> T:\n    return items[0]\n"),  # type parameters
]


@pytest.mark.parametrize("since, source", NEWER_SYNTAX, ids=["except*", "type alias", "type parameters"])
def test_the_check_refuses_newer_syntax(since, source):
    if sys.version_info[:2] < since:
        pytest.skip(f"Python {sys.version_info[0]}.{sys.version_info[1]} cannot parse this at all: its own parser "
                    "is the check")
    ast.parse(source)  # valid for the running Python ...
    with pytest.raises(SyntaxError):
        ast.parse(source, feature_version=oldest_claimed_python())  # ... but not for the oldest claimed one


def test_the_check_accepts_what_the_oldest_python_has():
    ast.parse("match x:\n    case [a, *rest]:\n        pass\n", feature_version=oldest_claimed_python())
    with pytest.raises(SyntaxError):
        ast.parse("match x:\n    case [a, *rest]:\n        pass\n", feature_version=(3, 9))

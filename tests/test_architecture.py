"""The layering drawn in docs/architecture.md is true: every package of tinygen is in the picture, and every import
goes to the package's own row or a row below it, except the one documented cycle (Tensor, a façade over ops)."""
import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tinygen"
ALLOWED_UPWARDS = {("tensor", "ops")}  # tensor.py imports ops at its end: its methods forward to them


def drawn_rows(page=ROOT / "docs" / "architecture.md"):
    """The diagram's rows, top to bottom, each the set of package names on it (``tinygen/nn/`` -> ``nn``)."""
    diagram = re.search(r"```\n(.*?)```", page.read_text(), re.S).group(1)
    rows, current = [], set()
    for line in diagram.splitlines():
        if line.strip().startswith("|"):  # the line between two rows
            rows.append(current)
            current = set()
        current |= {path.split("/")[1].removesuffix(".py") for path in re.findall(r"tinygen/[\w.]+/?", line)}
    return rows + [current]


def imports(package=PACKAGE):
    """``(importer, imported)`` package pairs, for every import between tinygen's packages (lazy ones too)."""
    pairs = set()
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).parts
        if parts == ("__init__.py",):
            continue  # the top-level namespace gathers the public API from everywhere
        importer = parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "tinygen":
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinygen."):
                names = [node.module.split(".")[1]]
            elif isinstance(node, ast.Import):
                names = [alias.name.split(".")[1] for alias in node.names if alias.name.startswith("tinygen.")]
            else:
                continue
            pairs |= {(importer, name) for name in names if name != importer}
    return pairs


def layering_violations(rows, pairs):
    """Imports that go to a higher row than the importer's, or involve a package the picture does not show."""
    row_of = {name: index for index, row in enumerate(rows) for name in row}
    problems = []
    for importer, imported in sorted(pairs):
        if importer not in row_of or imported not in row_of:
            problems.append(f"{importer} -> {imported}: not both in the diagram")
        elif row_of[imported] < row_of[importer] and (importer, imported) not in ALLOWED_UPWARDS:
            problems.append(f"{importer} -> {imported}: imports a package drawn above it")
    return problems


def test_every_package_is_drawn():
    packages = {path.name.removesuffix(".py") for path in PACKAGE.iterdir()
                if (path.suffix == ".py" and path.name != "__init__.py") or (path / "__init__.py").exists()}
    drawn = set().union(*drawn_rows())
    assert packages - drawn == set(), f"docs/architecture.md does not draw {sorted(packages - drawn)}"
    assert drawn - packages == set(), f"docs/architecture.md draws packages that do not exist: {drawn - packages}"


def test_imports_only_go_down_the_picture():
    assert layering_violations(drawn_rows(), imports()) == []


def test_the_check_notices_an_upward_import_and_an_undrawn_package():
    rows = [{"training"}, {"nn"}, {"ops"}, {"tensor"}]
    assert layering_violations(rows, {("training", "nn"), ("tensor", "ops")}) == []
    assert layering_violations(rows, {("nn", "training"), ("nn", "mystery")}) == [
        "nn -> mystery: not both in the diagram", "nn -> training: imports a package drawn above it",
    ]

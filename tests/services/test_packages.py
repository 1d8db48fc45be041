"""The services are packages by area, and each package's `__init__` says what it holds and
lists (`__all__`) the modules that pages, API, CLI and scheduler may call: a module imported
from outside `market/services/` that is not listed there means the list no longer tells a
newcomer where the entry points are."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "market" / "services"
PACKAGES = sorted(p.parent for p in SERVICES.glob("*/__init__.py"))


def _imported_from_outside() -> dict[str, set[str]]:
    """{package: modules} that code outside market/services imports."""
    used: dict[str, set[str]] = {}
    callers = [*(ROOT / "market").rglob("*.py"), ROOT / "app.py"]
    for path in callers:
        if SERVICES in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            parts = node.module.split(".")
            if "services" not in parts:
                continue
            rest = parts[parts.index("services") + 1 :]
            if len(rest) == 1:
                used.setdefault(rest[0], set()).update(a.name for a in node.names)
            elif rest:
                used.setdefault(rest[0], set()).add(rest[1])
    return used


def _declared(package: Path) -> tuple[str | None, list[str] | None]:
    tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    listed = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "__all__" for t in node.targets
        ):
            listed = ast.literal_eval(node.value)
    return ast.get_docstring(tree), listed


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_each_package_says_what_it_holds_and_lists_real_modules(package):
    doc, listed = _declared(package)
    assert doc, f"{package.name}/__init__.py: say in a line what the package holds"
    assert listed, f"{package.name}/__init__.py: list the modules the views may call"
    modules = {p.stem for p in package.glob("*.py")} - {"__init__"}
    assert set(listed) <= modules, set(listed) - modules


def test_every_module_called_from_outside_is_listed():
    unlisted = {
        package: sorted(modules - set(_declared(SERVICES / package)[1] or ()))
        for package, modules in _imported_from_outside().items()
    }
    assert not {k: v for k, v in unlisted.items() if v}, unlisted

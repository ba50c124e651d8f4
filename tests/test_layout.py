"""The package's layout: every module imports, and imports run one way between the layers."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import analysis

PACKAGE = Path(analysis.__file__).parent
#: The modules every layer may use: the disk layout, the exceptions, file writing, parameter checks, the tables' look,
#: the way numbers are written, holding the cycle collector.
BASE = {
    "analysis",
    "analysis.paths",
    "analysis.errors",
    "analysis.files",
    "analysis.params",
    "analysis.table_css",
    "analysis.numbers",
    "analysis.cycles",
}
#: Layer -> the layers its modules may import from (besides themselves and the base).
ALLOWED = {
    "base": set(),
    "data": set(),
    "measures": {"data"},
    "studies": {"data", "measures"},
    "ice": {"data", "measures"},
    "pipeline": {"data", "measures"},
    "cli": {"data", "measures", "studies", "ice", "pipeline"},
}


def _name(path: Path) -> str:
    parts = ["analysis", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(_name(path) for path in PACKAGE.rglob("*.py"))


def _layer(module: str) -> str:
    if module in BASE:
        return "base"
    parts = module.split(".")
    if parts[1] in ALLOWED:
        return parts[1]
    return "cli"  # the entry points: analysis.cli, analysis.__main__


def _imports(module: str) -> set[str]:
    """Every ``analysis`` module ``module`` imports, at the top or inside a function, or names as a string to import
    by name (``importlib.import_module("analysis.studies.base")``, a list of modules to preload)."""
    path = PACKAGE / Path(*module.split(".")[1:])
    source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    found = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("analysis")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("analysis"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
        # What: the package itself names the modules of its public names, each imported on first use.
        elif isinstance(node, ast.Constant) and node.value in MODULES and module != "analysis":
            found.add(node.value)
    return found - {module}


def _violations(module: str, layer: str) -> list[str]:
    """The imports of ``module`` that a module of ``layer`` must not make."""
    allowed = ALLOWED[layer]
    wrong = []
    for imported in sorted(_imports(module)):
        target = _layer(imported)
        if target in (layer, "base"):
            continue
        if target not in allowed:
            wrong.append(f"{imported} ({target})")
    return wrong


@pytest.mark.parametrize("module", [m for m in MODULES if m != "analysis.__main__"])  # __main__ runs the CLI
def test_every_module_imports(module: str) -> None:
    importlib.import_module(module)


@pytest.mark.parametrize("module", MODULES)
def test_imports_run_one_way(module: str) -> None:
    wrong = _violations(module, _layer(module))
    assert not wrong, f"{module} ({_layer(module)}) imports from a layer it must not know: {', '.join(wrong)}"


def test_the_rule_catches_an_upward_import() -> None:
    """The check fails for imports from above: the runner, were it in the data layer, or the landing page in ice."""
    assert _violations("analysis.pipeline.runner", "data")
    assert any("analysis.pipeline.runplan" in v for v in _violations("analysis.pipeline.landing", "ice"))
    assert any("analysis.studies.growth" in v for v in _violations("analysis.studies.comparison", "pipeline"))


#: What the package never calls or overrides: jupyter_client's private kernel start, and a provisioner's process.
PRIVATE = (
    re.compile(r"_async_launch_kernel"),
    re.compile(r"_reconcile_connection_info"),
    re.compile(r"provisioner\.process\s*="),
)


@pytest.mark.parametrize("pattern", PRIVATE, ids=lambda p: p.pattern)
def test_no_private_jupyter_client_method_is_called_or_overridden(pattern: re.Pattern[str]) -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert found == [], f"{pattern.pattern} in {', '.join(found)}"

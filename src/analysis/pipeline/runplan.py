"""The run plan: which notebook runs under which name with which parameters."""

from __future__ import annotations

import ast
import csv
import datetime
import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from analysis.data.source import unreadable
from analysis.errors import NoRunsError, RunPlanError
from analysis.files import TEMPORARY_NAME_EXTRA
from analysis.params import check_names
from analysis.paths import FULL_HTML, INDEX_FILE, PROJECT_ROOT
from analysis.pipeline.grids import GRID_KEYS, expand, fields, read_rows

#: Parameters the runner sets itself for every run.
RUNNER_PARAMETERS = ("data_dir", "output_dir")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True, slots=True)
class Run:
    """One execution of a notebook.

    Attributes
    ----------
    name
        Run name: the stem of ``reports/<name>.ipynb`` and of its figure folder.
    notebook
        The source notebook.
    parameters
        Parameters other than ``data_dir`` and ``output_dir``.
    requires
        Files or folders the run needs; without them it cannot execute here.
    how_to_enable
        What to do when something it requires is missing.
    grid
        The name template of the [[grid]] entry the run was expanded from (blank for a [[run]] entry).
    """

    name: str
    notebook: Path
    parameters: dict[str, object] = field(default_factory=dict)
    requires: tuple[Path, ...] = ()
    how_to_enable: str = ""
    grid: str = ""

    @property
    def available(self) -> bool:
        """Whether every file or folder the run requires is there (a run that requires none always is)."""
        return all(path.exists() for path in self.requires)


def _fail(path: Path, where: str, message: str) -> RunPlanError:
    return RunPlanError(f"{path}: {where}: {message}")


def declared_parameters(notebook: Path) -> dict[str, object]:
    """The names the notebook's cell tagged ``parameters`` assigns, with their default values, read as papermill
    reads them (not executed; a default that is not a plain literal is ``None``).

    Raises
    ------
    RunPlanError
        When the file is not a readable Jupyter notebook, or its parameters cell is not Python.
    """
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        tagged = [cell for cell in cells if "parameters" in cell.get("metadata", {}).get("tags", [])]
        source = tagged[0]["source"] if tagged else ""
        tree = ast.parse(source if isinstance(source, str) else "".join(source))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, SyntaxError) as error:
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise RunPlanError(f"{notebook} is not a readable Jupyter notebook ({reason})") from None
    declared: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            try:
                default = ast.literal_eval(node.value)
            except ValueError:
                default = None
            declared |= {target.id: default for target in targets if isinstance(target, ast.Name)}
    return declared


def _kind_of_value(value: object) -> str:
    """A plan value's kind in words: ``text``, ``a number``, ``a list``, ``a table`` ..."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime.date | datetime.time):
        return "a TOML date or time"
    return type(value).__name__


def _check_value(run: Run, name: str, value: object, default: object) -> None:
    """A plan value must be of the kind of the notebook's default (text where the default is text or ``None``)."""
    if isinstance(value, datetime.date | datetime.time):
        raise RunPlanError(
            f"run {run.name}: parameter {name}: {value!s} is a TOML date or time; write it as text in quotes: "
            f'{name} = "{value!s}"'
        )
    expected = _kind_of_value("" if default is None else default)
    if isinstance(value, list | dict):
        if expected in ("a list", "a table") and _kind_of_value(value) == expected:
            return
    elif expected in ("text", _kind_of_value(value)) and (expected != "text" or isinstance(value, str)):
        return
    hint = f'; write it in quotes: {name} = "{value}"' if expected == "text" and isinstance(value, int | float) else ""
    raise RunPlanError(
        f"run {run.name}: parameter {name}: {value!r} is {_kind_of_value(value)}; {run.notebook.name} expects "
        f"{expected} (its default is {default!r}){hint}"
    )


def check_run(run: Run, declared: dict[str, object] | None = None) -> Run:
    """Check that ``run`` passes only parameters its notebook declares (``declared``, else read from it), each of
    the kind of the notebook's default; return it.

    Raises
    ------
    RunPlanError
        When the notebook is not readable, or a value is of another kind (a TOML date for text, say).
    ParameterError
        Naming the unknown parameters and listing the notebook's own.
    """
    try:
        defaults = declared if declared is not None else declared_parameters(run.notebook)
    except RunPlanError as error:
        raise RunPlanError(f"run {run.name}: {error}") from None
    given = {**run.parameters, **dict.fromkeys(RUNNER_PARAMETERS)}
    check_names(given, defaults, f"run {run.name}: {run.notebook.name}")
    for name, value in run.parameters.items():
        _check_value(run, name, value, defaults[name])
    return run


def _root(plan: Path) -> Path:
    """The project a plan belongs to: the checkout when the plan lies in it, else the plan's own folder."""
    return PROJECT_ROOT if plan.resolve().is_relative_to(PROJECT_ROOT) else plan.parent.resolve()


def _list(plan: Path, where: str, value: object) -> list[object]:
    if not isinstance(value, list):
        raise _fail(plan, where, f"requires {value!r} must be a list of paths")
    return value


def _required_path(plan: Path, where: str, item: object, key: str = "requires") -> Path:
    """A path a run requires (or, ``key`` ``rows``, a grid's table), relative to the project, which must stay
    inside it; messages name ``key``."""
    root = _root(plan)
    if not isinstance(item, str) or not item.strip() or Path(item).is_absolute():
        each = "each entry" if key == "requires" else "it"
        raise _fail(plan, where, f"{key} {item!r}: {each} must be a path relative to the project")
    target = (root / item).resolve()
    if not target.is_relative_to(root):
        raise _fail(plan, where, f"{key} {item!r} lies outside the project ({root})")
    return target


def _notebook_path(plan: Path, where: str, notebook: object) -> Path:
    """The notebook a run names: a relative path to an ``.ipynb`` file that stays inside the project.

    The project is the checkout when the plan lies in it, else the plan's own folder.
    """
    if not isinstance(notebook, str) or not notebook.strip():
        raise _fail(plan, where, f"notebook {notebook!r} must be the path of a notebook, relative to the plan")
    root = _root(plan)
    if Path(notebook).is_absolute():
        raise _fail(plan, where, f"notebook {notebook!r} must be a path relative to the plan's folder")
    target = (plan.parent / notebook).resolve()
    if not target.is_relative_to(root):
        raise _fail(plan, where, f"notebook {notebook!r} lies outside the project ({root})")
    if target.suffix != ".ipynb":
        raise _fail(plan, where, f"notebook {notebook!r} must be a Jupyter notebook (.ipynb)")
    if not target.is_file():
        raise _fail(plan, where, f"notebook {notebook!r} is not a file in {plan.parent}")
    return plan.parent / notebook


#: The landing page's name, and the name endings of files the report writes itself beside a run's pages.
_INDEX, _OWN_SUFFIXES = Path(INDEX_FILE).stem, (Path(FULL_HTML).stem, ".failed")


def _reserved(name: str) -> str:
    """Why ``name`` would collide with a file the report writes itself (blank when it would not)."""
    lower = name.lower()
    if lower == _INDEX:
        return f"the landing page is {INDEX_FILE}"
    for suffix in _OWN_SUFFIXES:
        if lower.endswith(suffix):
            other = name[: -len(suffix)]
            return f"run pages end in {suffix}.html or {suffix}.ipynb (run {other!r} writes {name}.html)"
    return ""


@dataclass(frozen=True)
class _Shared:
    """What every run of one plan entry has in common, checked once: its notebook, requirements and hint."""

    notebook: Path
    requires: tuple[Path, ...]
    how_to_enable: str


def _shared(path: Path, where: str, entry: dict[str, Any]) -> _Shared:
    notebook = _notebook_path(path, where, entry.get("notebook"))
    requires = tuple(_required_path(path, where, item) for item in _list(path, where, entry.get("requires", [])))
    how = entry.get("how_to_enable", "")
    if not isinstance(how, str):
        raise _fail(path, where, "how_to_enable must be text")
    return _Shared(notebook, requires, how)


#: The longest run name: the longest file name made from a run's fits the 255 bytes most file systems allow a file
#: name. That is the temporary file its build record is written through (``.<name>.json.XXXXXXXX.tmp`` in
#: ``.build-record/``), longer than its pages' and failed notebook's (``<name>.failed.ipynb``).
MAX_NAME = 255 - len(".json") - TEMPORARY_NAME_EXTRA


def _checked_name(path: Path, where: str, name: object, taken: set[str]) -> str:
    """``name`` if it is a safe run name that no run before it has (``taken``: their names in lower case)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _fail(path, where, f"name {name!r} must be letters, digits, '.', '_' or '-'")
    if len(name) > MAX_NAME:
        raise _fail(
            path,
            where,
            f"name {name[:40]!r}... has {len(name)} characters; a run name has at most {MAX_NAME}, so the names of "
            "its files fit the file system",
        )
    collision = _reserved(name)
    if collision:
        raise _fail(path, where, f"name {name!r} is the report's own: {collision}; choose another name")
    if name.lower() in taken:
        raise _fail(path, where, f"name {name!r} is used by another run (names that differ in case only collide)")
    return name


def _run(path: Path, where: str, shared: _Shared, name: object, parameters: object, taken: set[str]) -> Run:
    """One run of the plan, checked: a safe unique name, parameters it may set.

    ``taken`` holds the names of the runs before it, in lower case (names that differ in case only collide).
    """
    name = _checked_name(path, where, name, taken)
    if not isinstance(parameters, dict):
        raise _fail(path, where, "parameters must be a table of name = value")
    reserved = sorted(set(parameters) & set(RUNNER_PARAMETERS))
    if reserved:
        raise _fail(path, where, f"{reserved} are set by the runner, not by the plan")
    taken.add(name.lower())
    return Run(name, shared.notebook, dict(parameters), requires=shared.requires, how_to_enable=shared.how_to_enable)


def _grid_runs(
    path: Path, where: str, entry: dict[str, Any], taken: set[str], say: Callable[[str], None] | None = None
) -> list[Run]:
    """The runs one [[grid]] entry expands to (see :mod:`analysis.pipeline.grids`); ``say`` is told what each
    filter did.

    Raises
    ------
    NoRunsError
        When the grid's filters leave no run, saying what each removed.
    """
    unknown = sorted(set(entry) - set(GRID_KEYS))
    if unknown:
        raise _fail(path, where, f"unknown keys {unknown}; a grid has {', '.join(GRID_KEYS)}")
    template, columns = entry.get("name"), entry.get("columns")
    tables = {key: entry.get(key, {}) for key in ("parameters", "where", "at_least")}
    if not isinstance(columns, dict) or not columns or not all(isinstance(v, str) for v in columns.values()):
        raise _fail(path, where, "columns must be a table of parameter = column name")
    try:
        named = fields(template) if isinstance(template, str) else None
    except ValueError as error:
        raise _fail(path, where, f"name {template!r}: {error}; write fields as {{parameter}}") from None
    if not isinstance(template, str) or named is None or not set(named) <= set(columns):
        raise _fail(path, where, f"name {template!r} must be a template whose {{fields}} are parameters of columns")
    if not all(isinstance(value, dict) for value in tables.values()):
        raise _fail(path, where, "parameters, where and at_least must be tables")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in tables["at_least"].values()):
        raise _fail(path, where, "at_least must give whole numbers")
    every = entry.get("every", "")
    if not isinstance(every, str):
        raise _fail(path, where, "every must be a column name")
    table = _required_path(path, where, entry.get("rows"), "rows")
    named_columns = [("columns", c) for c in columns.values()] + [("where", c) for c in tables["where"]]
    named_columns += [("at_least", c) for c in tables["at_least"]] + ([("every", every)] if every else [])
    try:
        header, rows = read_rows(table, {column for _, column in named_columns})
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise _fail(path, where, f"rows {table}: cannot be read as a CSV table ({error})") from None
    for key, column in named_columns:
        if column not in header:
            raise _fail(path, where, f"{key}: {column!r} is not a column of {table} (its columns: {', '.join(header)})")
    spec = {"columns": columns, **tables, "every": every}
    expanded, said = expand(template, rows, spec)
    if say is not None:
        say(f"{where} ({template}): " + "; ".join(said))
    if not expanded:
        raise NoRunsError(f"{path}: {where} ({template}) selects no run: " + "; ".join(said))
    shared = _shared(path, where, entry)
    return [
        replace(_run(path, f"{where} ({name})", shared, name, parameters, taken), grid=template)
        for name, parameters in expanded
    ]


def read_plan(path: Path, say: Callable[[str], None] | None = None) -> list[Run]:
    """Read the run plan at ``path``, expanding its grids, and check each run's parameters against its notebook's.

    Raises
    ------
    RunPlanError
        When the file is missing or malformed, a name repeats, a notebook or a grid's table is missing or unreadable.
    ParameterError
        When a run passes a parameter its notebook does not declare.
    NoRunsError
        When a grid selects no run (``say``, if given, is told what each grid's filters did).
    """
    why = unreadable(path)
    if why is not None:
        raise RunPlanError(f"{path}: {why}: the run plan must be a readable file")
    try:
        plan = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # what: a BOM an editor put first is no error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RunPlanError(f"{path}: not valid TOML: {error}") from None
    except RecursionError:
        raise RunPlanError(f"{path}: not a run plan: its arrays or tables are nested too deeply") from None
    entries, grids = plan.get("run", []), plan.get("grid", [])
    if not isinstance(entries, list) or not isinstance(grids, list) or not (entries or grids):
        raise _fail(path, "run", "the plan needs at least one [[run]] or [[grid]] table")
    runs: list[Run] = []
    taken: set[str] = set()
    for kind, listed in (("run", entries), ("grid", grids)):
        for number, entry in enumerate(listed, start=1):
            where = f"{kind} {number}"
            if not isinstance(entry, dict):
                raise _fail(path, where, f"{entry!r} is not a table; write each {kind} as a [[{kind}]] table")
            if kind == "grid":
                runs += _grid_runs(path, where, entry, taken, say)
                continue
            unknown = sorted(set(entry) - {"name", "notebook", "parameters", "requires", "how_to_enable"})
            if unknown:
                keys = "name, notebook, parameters, requires and how_to_enable"
                raise _fail(path, where, f"unknown keys {unknown}; a run has {keys}")
            _checked_name(path, where, entry.get("name"), taken)  # what: a bad name is said before a bad notebook
            shared = _shared(path, where, entry)
            runs.append(_run(path, where, shared, entry.get("name"), entry.get("parameters", {}), taken))
    declared: dict[Path, dict[str, object]] = {}
    for run in runs:
        if run.notebook not in declared:
            try:
                declared[run.notebook] = declared_parameters(run.notebook)
            except RunPlanError as error:
                raise RunPlanError(f"run {run.name}: {error}") from None
        check_run(run, declared[run.notebook])
    return runs

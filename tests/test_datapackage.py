"""The Data Package, the citation file and the license: what lets others read, cite and reuse the tables."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from frictionless import validate

from analysis.files import to_json
from analysis.paths import PROJECT_ROOT
from analysis.pipeline.datapackage import DESCRIPTOR, descriptor

FRICTIONLESS = str(Path(sys.executable).with_name("frictionless"))


def test_the_committed_descriptor_is_the_one_the_schema_gives() -> None:
    assert DESCRIPTOR.read_text(encoding="utf-8") == to_json(descriptor()), (
        "datapackage.json is stale: write it again with python -m analysis.pipeline.datapackage"
    )


def test_frictionless_validates_every_table_against_the_descriptor() -> None:
    """As a user runs it (``frictionless validate datapackage.json``), and through the library, table by table."""
    result = subprocess.run([FRICTIONLESS, "validate", DESCRIPTOR.name], cwd=PROJECT_ROOT, capture_output=True)
    assert result.returncode == 0, result.stdout.decode()
    report = validate(str(DESCRIPTOR))
    assert report.valid and len(report.tasks) == len(descriptor()["resources"]) == 5


def test_a_value_outside_the_schema_is_found_invalid(tmp_path: Path) -> None:
    """The descriptor's rules bite: an unknown kind of request, a negative count and an unknown claim source."""
    for folder in ("raw", "processed"):
        shutil.copytree(PROJECT_ROOT / "data" / folder, tmp_path / "data" / folder)
    shutil.copy(DESCRIPTOR, tmp_path)
    requests = tmp_path / "data" / "raw" / "detainer_requests.csv"
    lines = requests.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace(",detainer,", ",bogus,", 1)
    lines[2] = lines[2].replace(",68,0,68,", ",-68,0,68,", 1)
    requests.write_text("".join(lines), encoding="utf-8")
    claims = tmp_path / "data" / "raw" / "claims.csv"
    claims.write_text(claims.read_text(encoding="utf-8").replace(",news-2026-01-27\n", ",no-such-source\n", 1))
    report = validate(str(tmp_path / DESCRIPTOR.name))
    found = {(error.type, getattr(error, "cell", None)) for task in report.tasks for error in task.errors}
    assert ("constraint-error", "bogus") in found and ("constraint-error", "-68") in found
    assert any(kind == "foreign-key" for kind, _ in found)


def test_the_citation_and_the_license_match_the_package() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    citation = yaml.safe_load((PROJECT_ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software"
    assert citation["version"] == project["version"] and citation["license"] == project["license"] == "MIT"
    assert citation["authors"] and citation["title"]
    assert (PROJECT_ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")

"""Shared fixtures: a copy of the small made-up dataset in a temporary folder."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from analysis.paths import RUN_DESCRIPTION

#: `make test` explores the same examples every time (derandomize) with no per-example time limit, so a run
#: never fails by chance; `make fuzz` sets HYPOTHESIS_PROFILE=fuzz: new random inputs, many more of them.
settings.register_profile("default", deadline=None, derandomize=True)
settings.register_profile("fuzz", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

FIXTURES = Path(__file__).parent / "fixtures"


def numbers(output_dir: Path) -> Any:
    """The numbers a run wrote into ``output_dir`` (its description's ``numbers``)."""
    return json.loads((output_dir / RUN_DESCRIPTION).read_text())["numbers"]


VALID = FIXTURES / "valid"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A writable copy of ``tests/fixtures/valid``."""
    target = tmp_path / "raw"
    shutil.copytree(VALID, target)
    return target


@pytest.fixture
def swap_in(data_dir: Path) -> Callable[[str, str], Path]:
    """Replace one table of ``data_dir`` by a fixture file; returns the data dir."""

    def swap(table: str, fixture: str) -> Path:
        shutil.copyfile(FIXTURES / fixture, data_dir / table)
        return data_dir

    return swap

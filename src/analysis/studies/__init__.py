"""The studies the notebooks narrate: one module per notebook, each with the same shape.

A study is built from a validated dataset and the notebook's parameters. It
has a ``title``, a ``headline`` (one or two sentences built from the data), its
``tables()`` for readers, its ``figures()``, its numbers as ``to_json()``, and
``save()`` to write the figures and the numbers. Notebooks narrate a study;
the report's landing page asks each run's study for its title and headline
through :func:`build`, by the study name a notebook records in its metadata.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from analysis.errors import ParameterError

if TYPE_CHECKING:
    from analysis.data.load import Dataset
    from analysis.studies.base import Study

#: Study name (as a notebook's metadata ``analysis.study`` gives it) -> the module that builds it.
STUDIES: dict[str, str] = {
    "overview": "analysis.studies.overview",
    "growth": "analysis.studies.growth",
    "denial": "analysis.studies.denial",
    "claims": "analysis.studies.claims",
    "comparison": "analysis.studies.comparison",
    "ice-records": "analysis.studies.ice_records",
}


def build(name: str, dataset: Dataset, parameters: Mapping[str, Any]) -> Study:
    """Build the study ``name`` on ``dataset`` with a notebook's ``parameters`` (other than folders).

    Raises
    ------
    ParameterError
        When there is no such study, or a parameter does not fit the data.
    """
    if name not in STUDIES:
        raise ParameterError(f"no study named {name!r}; studies: {', '.join(sorted(STUDIES))}")
    module = importlib.import_module(STUDIES[name])
    study: Study = module.study(dataset, **parameters)
    return study

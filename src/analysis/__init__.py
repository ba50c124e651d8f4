"""Reproducible analysis of immigration detainer requests to local police.

The names below are imported on first use, so that light commands (such as a
report run with nothing to do) do not pay for pandas, pandera and scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AnalysisError": "analysis.exceptions",
    "DataValidationError": "analysis.exceptions",
    "MetricError": "analysis.exceptions",
    "ParameterError": "analysis.exceptions",
    "Problem": "analysis.exceptions",
    "Dataset": "analysis.load",
    "load_dataset": "analysis.load",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")

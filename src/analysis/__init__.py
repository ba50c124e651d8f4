"""Reproducible analysis of immigration detainer requests to local police.

The names below are imported on first use, so that light commands (such as a
report run with nothing to do) do not pay for pandas, pandera and scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AnalysisError": "analysis.errors",
    "DataValidationError": "analysis.errors",
    "MetricError": "analysis.errors",
    "ParameterError": "analysis.errors",
    "Problem": "analysis.errors",
    "Dataset": "analysis.data.load",
    "load_dataset": "analysis.data.load",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")

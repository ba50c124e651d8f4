"""Reproducible analysis of immigration detainer requests to local police."""

from analysis.exceptions import AnalysisError, DataValidationError, MetricError, Problem, SelectionError
from analysis.load import Dataset, load_dataset

__all__ = [
    "AnalysisError",
    "DataValidationError",
    "Dataset",
    "MetricError",
    "Problem",
    "SelectionError",
    "load_dataset",
]

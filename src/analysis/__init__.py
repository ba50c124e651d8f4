"""Reproducible analysis of immigration detainer requests to local police."""

from analysis.exceptions import AnalysisError, DataValidationError, MetricError, ParameterError, Problem
from analysis.load import Dataset, load_dataset

__all__ = [
    "AnalysisError",
    "DataValidationError",
    "Dataset",
    "MetricError",
    "ParameterError",
    "Problem",
    "load_dataset",
]

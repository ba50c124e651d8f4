"""Making an executed notebook depend only on its inputs.

papermill records start and end times, durations and the paths it ran with,
and gives its injected cell a random id; nbclient records timings too. These
are removed or fixed, so a rerun on unchanged inputs writes the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import nbformat
from papermill.translators import translate_parameters

INJECTED_TAG = "injected-parameters"
_RUN_METADATA = ("papermill", "execution", "ExecuteTime")


def normalize(notebook: nbformat.NotebookNode, parameters: Mapping[str, object]) -> nbformat.NotebookNode:
    """Strip run-specific metadata from ``notebook`` and record ``parameters`` as its injected values.

    Parameters
    ----------
    notebook
        A notebook executed by papermill (changed in place and returned).
    parameters
        The parameters the notebook stands for; they replace the injected
        cell's source (the runner executes with a temporary ``output_dir`` and
        records the final one).
    """
    kernel = notebook.metadata.get("kernelspec", {}).get("name", "python3")
    language = notebook.metadata.get("kernelspec", {}).get("language", "python")
    for index, cell in enumerate(notebook.cells):
        for key in _RUN_METADATA:
            cell.metadata.pop(key, None)
        if INJECTED_TAG in cell.metadata.get("tags", []):
            cell.id = INJECTED_TAG
            cell.source = translate_parameters(kernel, language, dict(parameters), "Parameters").rstrip("\n")
        elif "papermill-error-cell-tag" in cell.metadata.get("tags", []):
            cell.id = f"papermill-error-{index}"
    notebook.metadata["papermill"] = {"parameters": dict(parameters)}
    return notebook


def recorded_parameters(path: Path) -> dict[str, object] | None:
    """The parameters :func:`normalize` recorded in the executed notebook at ``path`` (``data_dir`` and
    ``output_dir`` included), or ``None`` when it is not such a notebook."""
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))["metadata"]["papermill"]["parameters"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return recorded if isinstance(recorded, dict) else None

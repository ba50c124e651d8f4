"""``python -m analysis`` runs the ``detainers`` command line."""

from analysis.cli import entry

entry()

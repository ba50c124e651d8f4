"""``python -m analysis`` runs the ``detainers`` command line."""

import sys

from analysis.cli import main

sys.exit(main())

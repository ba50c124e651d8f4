"""Imported once into the fork server that kernels are forked from: what every kernel and notebook imports.

The matplotlib backend is set as ipykernel sets it before any notebook code
runs, so matplotlib, imported here, is configured as in a kernel of its own.
"""

import importlib
import os

os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")

from analysis.pipeline.kernels import PRELOAD

for _module in ("ipykernel.kernelapp", *PRELOAD):
    importlib.import_module(_module)

"""The project's kernel spec: this environment's Python, its kernels forked from a template.

``make install`` installs it into the virtual environment (``python -m analysis.pipeline.kernelspec``)
as ``detainers``, through jupyter_client's public ``KernelSpecManager.install_kernel_spec``. It names
:class:`analysis.pipeline.provisioner.ForkingProvisioner` in its metadata, so any Jupyter client
that starts it (nbval in ``make test``, JupyterLab's kernel picker) gets a kernel forked from a
template that has imported the notebooks' libraries, or one started from scratch where forking
cannot be done, as :mod:`analysis.pipeline.provisioner` describes.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager

from analysis.pipeline.provisioner import PROVISIONER

#: The kernel spec's name.
KERNEL_NAME = "detainers"


def spec() -> dict[str, object]:
    """The kernel spec (``kernel.json``): this interpreter's ``ipykernel_launcher``, the forking provisioner."""
    return {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (detainer-analysis)",
        "language": "python",
        "metadata": {"kernel_provisioner": {"provisioner_name": PROVISIONER}},
    }


def install() -> str:
    """Install the kernel spec into this environment (``sys.prefix``), replacing an older one; return its folder."""
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "kernel.json").write_text(json.dumps(spec(), indent=1) + "\n", encoding="utf-8")
        return str(KernelSpecManager().install_kernel_spec(folder, KERNEL_NAME, prefix=sys.prefix))


if __name__ == "__main__":
    print(f"installed the kernel spec {KERNEL_NAME} in {install()}")

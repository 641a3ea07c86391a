"""What a run needs to be reproduced: the code's commit and version, and the libraries' versions.

Written into every `run.json` and model card. Only libraries this process has loaded are named,
so an inference run does not claim a TensorFlow it never used.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from liveness import __version__

# module name as imported -> distribution name as installed
LIBRARIES = {
    "numpy": "numpy",
    "cv2": "opencv-python",
    "onnxruntime": "onnxruntime",
    "ai_edge_litert": "ai-edge-litert",
    "sklearn": "scikit-learn",
    "tensorflow": "tensorflow",
    "keras": "keras",
}


def versions() -> dict[str, str]:
    """liveness, Python and every loaded library of LIBRARIES, by version."""
    found = {"liveness": __version__, "python": platform.python_version()}
    for module, distribution in LIBRARIES.items():
        if module in sys.modules:
            try:
                found[distribution] = metadata.version(distribution)
            except metadata.PackageNotFoundError:
                found[distribution] = str(getattr(sys.modules[module], "__version__", "unknown"))
    return found


def git_commit() -> str | None:
    """The commit of the checkout the package runs from (with '+dirty' for local changes); None
    for an installed wheel or without git."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        commit = _git(root, "rev-parse", "HEAD")
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True)
    return done.stdout.strip()


def provenance() -> dict[str, object]:
    """The versions and the commit, as one JSON-ready block."""
    return {"versions": versions(), "git_commit": git_commit()}

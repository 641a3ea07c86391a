"""Face liveness detection: tell a live face from a photo, a screen replay or a mask.

`from liveness import LivenessChecker` is the Python API (`liveness.api`); importing the
package alone loads nothing heavy, so the `liveness` command starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.2.0"
__all__ = ["CheckResult", "FaceResult", "LivenessChecker", "__version__"]

if TYPE_CHECKING:
    from liveness.api import CheckResult, FaceResult, LivenessChecker


def __getattr__(name: str) -> object:
    if name in ("CheckResult", "FaceResult", "LivenessChecker"):
        from liveness import api

        return getattr(api, name)
    raise AttributeError(f"module 'liveness' has no attribute {name!r}")

"""Face liveness detection: tell a live face from a photo, a screen replay or a mask."""

__version__ = "0.1.0"

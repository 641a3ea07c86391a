"""Server settings; passed to worker processes through LIVENESS_* environment variables."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from liveness.detect import DEFAULT_DETECTOR
from liveness.errors import ConfigError

PREFIX = "LIVENESS_"
BLINK_MODES = ("off", "count", "require")


@dataclass(frozen=True)
class Settings:
    model: str | None = None
    detector_type: str = DEFAULT_DETECTOR
    confidence: float = 0.5
    threshold: float | None = None
    max_body_bytes: int = 10 * 1024 * 1024
    max_side: int = 4096
    rate_per_minute: int = 600
    min_face_px: int = 60
    window_seconds: float = 2.0
    blink: str = "off"  # count the blinks of a streamed check, or require one for a live decision
    max_stream_fps: int = 30  # messages a second one WebSocket may send (a camera sends 15-30)
    max_decodes: int = 2  # images decoded at once per worker: each can cost hundreds of MB
    challenge: bool = False  # streamed checks ask for random moves (liveness.decide.challenge)

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1024 or self.max_side < 32:
            raise ConfigError("the body limit must be at least 1 kB and the side limit at least 32 px")
        if self.max_decodes < 1:
            raise ConfigError("--max-decodes must be at least 1")
        if self.rate_per_minute < 0:
            raise ConfigError("--rate-limit must be >= 0 (0 turns it off)")
        if not 0.0 <= self.confidence <= 1.0:
            raise ConfigError(f"--confidence must be in [0, 1], got {self.confidence}")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ConfigError(f"--threshold must be in [0, 1], got {self.threshold}")
        if self.window_seconds <= 0 or self.max_stream_fps < 1 or self.min_face_px < 0:
            raise ConfigError("the decision window must be > 0 s, --max-stream-fps >= 1 and --min-face >= 0")
        if self.blink not in BLINK_MODES:
            raise ConfigError(f"--blink must be one of {', '.join(BLINK_MODES)}, got {self.blink!r}")

    def to_env(self) -> dict[str, str]:
        return {
            PREFIX + f.name.upper(): str(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
        }

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(PREFIX + f.name.upper())
            if raw is None:
                continue
            kind = f.type if isinstance(f.type, str) else f.type.__name__
            try:
                if kind == "bool":
                    values[f.name] = raw == "True"
                else:
                    values[f.name] = int(raw) if kind == "int" else float(raw) if "float" in kind else raw
            except ValueError:
                raise ConfigError(f"{PREFIX}{f.name.upper()}={raw!r} is not a number") from None
        return cls(**values)  # type: ignore[arg-type]

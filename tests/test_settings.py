"""Server settings: every bad value refused with the option's name, and carried to workers intact."""

from __future__ import annotations

import pytest

from liveness.errors import ConfigError
from liveness.web.settings import Settings


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"confidence": 1.5}, "--confidence"),
        ({"threshold": -0.1}, "--threshold"),
        ({"window_seconds": 0}, "window"),
        ({"max_stream_fps": 0}, "--max-stream-fps"),
        ({"max_decodes": 0}, "--max-decodes"),
        ({"rate_per_minute": -1}, "--rate-limit"),
        ({"blink": "sometimes"}, "--blink"),
        ({"max_body_bytes": 10}, "body limit"),
    ],
)
def test_a_bad_setting_is_refused_by_name(bad, named):
    with pytest.raises(ConfigError, match=named):
        Settings(**bad)


def test_settings_reach_worker_processes_unchanged():
    given = Settings(model="colour-texture", threshold=0.31, blink="require", challenge=True, max_decodes=3)
    assert Settings.from_env(given.to_env()) == given
    assert Settings.from_env({}) == Settings()

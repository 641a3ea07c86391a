#!/usr/bin/env python3
"""Tutorial-compatible `LivenessNet.build(width, height, depth, classes)`.

The model lives in `liveness.models.livenessnet`. Unlike the tutorial's, it
takes RGB pixels in 0-255 and scales them itself.
"""

from liveness.errors import ConfigError


class LivenessNet:
    @staticmethod
    def build(width: int, height: int, depth: int, classes: int):
        if width != height or depth != 3:
            raise ConfigError("LivenessNet takes square RGB inputs (width == height, depth == 3)")
        from liveness.models import build_model

        return build_model("livenessnet", input_size=width, n_classes=classes)


if __name__ == "__main__":
    LivenessNet.build(32, 32, 3, 2).summary()

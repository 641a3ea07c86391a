import numpy as np

from liveness.decide.quality import QualityLimits, frame_problem
from liveness.types import Face


def test_quality_gates():
    limits = QualityLimits(min_face_px=60, min_brightness=40, max_brightness=235)
    frame = np.full((200, 200, 3), 120, np.uint8)
    face = Face(10, 10, 100, 100, 0.9)
    assert frame_problem(frame, [], limits) == "no_face"
    assert frame_problem(frame, [face, face], limits) == "several_faces"
    assert frame_problem(frame, [Face(0, 0, 40, 40, 0.9)], limits) == "face_too_small"
    assert frame_problem(np.full_like(frame, 20), [face], limits) == "too_dark"
    assert frame_problem(np.full_like(frame, 250), [face], limits) == "too_bright"
    assert frame_problem(frame, [face], limits) is None

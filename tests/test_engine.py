import logging
import shutil
import subprocess
import sys

import numpy as np
import pytest

from liveness.cards import ModelCard, card_path_for
from liveness.engine import LivenessEngine
from liveness.engine.backends import KerasBackend, LiteRTBackend, ONNXBackend
from liveness.errors import ModelLoadError
from liveness.io.media import iter_video
from liveness.preprocess import face_crop, to_model_input
from liveness.resources import DEFAULT_MODEL
from tests.conftest import FAKE_VIDEO, REAL_VIDEO, run_cli


def _face_batch(detector, card, videos=(REAL_VIDEO, FAKE_VIDEO)) -> np.ndarray:
    crops = []
    for video in videos:
        for frame in iter_video(video, skip=10):
            for face in detector.detect(frame.image)[:1]:
                crops.append(face_crop(frame.image, face.box, card.crop_scale))
    return to_model_input(crops, card.input_size)


def test_litert_agrees_with_keras_on_real_faces(trained_model, detector):
    card = ModelCard.load(card_path_for(trained_model))
    batch = _face_batch(detector, card)
    assert len(batch) >= 15
    keras_out = KerasBackend(trained_model, (card.input_size, card.input_size, 3)).run(batch)
    lite = LiteRTBackend(trained_model.with_suffix(".tflite"), (card.input_size, card.input_size, 3))
    np.testing.assert_allclose(lite.run(batch), keras_out, atol=1e-4)
    np.testing.assert_allclose(lite.run(batch[:1]), keras_out[:1], atol=1e-4)  # batch size changes


def test_onnx_export_agrees_with_litert_and_runs_in_the_engine(trained_model, detector, tmp_path):
    pytest.importorskip("tf2onnx")
    import shutil

    for file in trained_model.parent.glob("m.*"):
        shutil.copyfile(file, tmp_path / file.name)
    model = tmp_path / trained_model.name
    done = run_cli("export", "--model", str(model), "--format", "onnx")
    assert done.returncode == 0, done.stderr[-2000:]
    card = ModelCard.load(card_path_for(model))
    assert "m.onnx" in card.files and "tf2onnx" not in done.stderr  # its INFO chatter is quieted
    batch = _face_batch(detector, card)
    shape = (card.input_size, card.input_size, 3)
    onnx_out = ONNXBackend(model.with_suffix(".onnx"), shape).run(batch)
    np.testing.assert_allclose(
        onnx_out, LiteRTBackend(model.with_suffix(".tflite"), shape).run(batch), atol=1e-4
    )
    engine = LivenessEngine.load(model, detector=detector, runtime="onnx")
    assert engine.backend.name == "onnx"


def test_engine_scores_every_face_in_one_batch(trained_model, detector, face_frame):
    engine = LivenessEngine.load(trained_model, detector=detector)
    verdicts = engine.analyse(face_frame)
    assert len(verdicts) == 1
    v = verdicts[0]
    assert 0.0 <= v.score <= 1.0 and v.label == engine.label_for(v.score)
    assert engine.score_faces(face_frame, []) == []
    two = engine.score_faces(face_frame, [v.face, v.face])
    assert two[0].score == pytest.approx(two[1].score, abs=1e-6) == pytest.approx(v.score, abs=1e-5)


@pytest.mark.parametrize(("name", "runtime"), [(None, "litert"), ("colour-texture", "texture")])
def test_bundled_models_load_without_tensorflow(shared, name, runtime):
    code = (
        "import sys, cv2\n"
        "from liveness.engine import LivenessEngine\n"
        f"engine = LivenessEngine.load({name!r})\n"
        f"frame = cv2.VideoCapture({str(REAL_VIDEO)!r}).read()[1]\n"
        "verdicts = engine.analyse(frame)\n"
        "assert len(verdicts) == 1, verdicts\n"
        f"assert engine.backend.name.startswith({runtime!r}), engine.backend.name\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
        "print(verdicts[0].score)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert 0.0 <= float(done.stdout.strip()) <= 1.0


def test_shipped_model_card_is_complete():
    card = ModelCard.load(card_path_for(DEFAULT_MODEL))
    assert card.class_names and card.real_class == "real"
    assert "research" in card.terms and "retrain" in card.terms.lower()
    assert "Replay-Attack" in card.training_data["dataset"] and card.limitations
    # the numbers that made it the default (recipes/ship_two_domain.sh), recorded at its own threshold
    devel = card.metrics["replay-attack-devel"]
    assert devel["frame_level"]["threshold"] == card.threshold
    assert (
        devel["video_level"]["acer"] <= 0.03 and max(devel["video_level"]["apcer_per_pais"].values()) <= 0.05
    )
    files = [DEFAULT_MODEL, *(DEFAULT_MODEL.parent / name for name in card.files)]
    assert sum(p.stat().st_size for p in files) < 5_000_000


def _copy_model(trained_model, tmp_path):
    for path in trained_model.parent.glob(trained_model.stem + ".*"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path / trained_model.name


def test_wrong_model_files_are_refused(trained_model, tmp_path):
    model = _copy_model(trained_model, tmp_path)
    with pytest.raises(ModelLoadError, match="not found"):
        LivenessEngine.load(tmp_path / "other.keras")
    model.with_suffix(".tflite").write_bytes(b"this is not a model")
    with pytest.raises(ModelLoadError, match="sha256"):
        LivenessEngine.load(model)
    card = ModelCard.load(card_path_for(model))
    card.replace(files={}).save(card_path_for(model))
    with pytest.raises(ModelLoadError, match="not a LiteRT model"):
        LivenessEngine.load(model, runtime="litert")
    model.with_suffix(".tflite").unlink()
    card.replace(files={}, input_size=64).save(card_path_for(model))
    with pytest.raises(ModelLoadError, match="expects"):
        LivenessEngine.load(model)


def test_label_file_must_match_the_card(trained_model, tmp_path):
    (tmp_path / "le.json").write_text('{"classes": ["cat", "dog"]}')
    with pytest.raises(ModelLoadError, match="trained on"):
        LivenessEngine.load(trained_model, label_file=tmp_path / "le.json")


def test_the_default_detector_gives_res10_boxes_and_another_detector_is_named(shared, caplog):
    with caplog.at_level(logging.WARNING, logger="liveness.engine"):
        engine = LivenessEngine.load()
    assert engine.detector.name == "res10-fast" and engine.card.detector == "res10"
    assert "trained and calibrated" not in caplog.text
    with caplog.at_level(logging.WARNING, logger="liveness.engine"):
        LivenessEngine.load(detector_type="blazeface")
    assert "trained and calibrated on res10 faces, this engine detects them with blazeface" in caplog.text

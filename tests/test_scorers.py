import numpy as np
import pytest

from liveness.engine import LivenessEngine
from liveness.evaluate.dataset import EvalSample
from liveness.evaluate.protocols import video_faces, video_pairs
from liveness.evaluate.scorers import (
    LBP_SETTINGS,
    EngineScorer,
    LBPSVMScorer,
    MiniFASNetScorer,
    lbp_features,
)
from liveness.io.media import read_image
from liveness.preprocess import silent_face_box
from liveness.types import Face
from tests.conftest import need_reference


def test_silent_face_box_scales_shrinks_and_stays_inside():
    assert silent_face_box((100, 100, 40, 40), 2.0, 400, 400) == (80, 80, 80, 80)
    x, y, w, h = silent_face_box((0, 0, 40, 50), 2.7, 400, 400)  # at the corner: shifted inside
    assert (x, y) == (0, 0) and (w, h) == (108, 135)
    x, y, w, h = silent_face_box((50, 20, 100, 100), 4.0, 320, 240)  # too big: the scale shrinks
    assert h <= 239 and w == h and y >= 0 and x + w <= 319


def test_lbp_features_are_normalised_histograms():
    rng = np.random.default_rng(0)
    face = rng.integers(0, 255, (90, 70, 3), dtype=np.uint8)
    feats = lbp_features(face)
    expected = sum((p + 2) * g * g for p, _, g in LBP_SETTINGS)
    assert feats.shape == (expected,)
    assert np.isclose(feats.sum(), sum(g * g for *_, g in LBP_SETTINGS))
    colour = lbp_features(face, colour=True)  # the same histograms of H, S, V, Y, Cr and Cb
    assert colour.shape == (6 * expected,) and np.isclose(colour.sum(), 6 * feats.sum())
    grey_face = np.repeat(face[..., :1], 3, axis=2)  # no colour: Cr and Cb are the same flat plane
    cr, cb = np.split(lbp_features(grey_face, colour=True)[4 * expected :], 2)
    assert np.array_equal(cr, cb) and not np.array_equal(cr, colour[4 * expected : 5 * expected])


def _devel_faces(shared, detector, kind: str, n: int):
    folders = sorted((shared / "data" / "replay-attack" / "devel").glob(f"devel__{kind}*"))[:n]
    out = []
    for folder in folders:
        image = read_image(folder / "frame_00000.jpg")
        out.append((image, detector.detect(image)[0]))
    return out


def test_minifasnet_reference_scores_real_above_attacks(shared, detector):
    folder = need_reference(shared / "models" / "minifasnet")
    scorer = MiniFASNetScorer(folder)
    real = [scorer.score(img, [f])[0] for img, f in _devel_faces(shared, detector, "real", 6)]
    fake = [
        scorer.score(img, [f])[0]
        for img, f in _devel_faces(shared, detector, "attack__hand__attack_print", 6)
    ]
    assert all(0.0 <= s <= 1.0 for s in real + fake)
    assert np.mean(real) > np.mean(fake)
    image, face = _devel_faces(shared, detector, "real", 1)[0]
    assert scorer.score(image, [face, face]).shape == (2,)


def test_lbp_svm_learns_and_scores(shared, detector):
    train = _devel_faces(shared, detector, "real", 12) + _devel_faces(shared, detector, "attack__fixed", 12)
    feats = np.stack([lbp_features(img[f.y : f.y + f.h, f.x : f.x + f.w]) for img, f in train])
    scorer = LBPSVMScorer().fit(feats, np.array([1] * 12 + [0] * 12))
    image, face = train[0]
    # fitting from labelled image files gives the same model; faceless images are left out
    folders = sorted((shared / "data" / "replay-attack" / "devel").glob("devel__real*"))[:12]
    folders += sorted((shared / "data" / "replay-attack" / "devel").glob("devel__attack__fixed*"))[:12]
    samples = [EvalSample(f / "frame_00000.jpg", is_real=i < 12) for i, f in enumerate(folders)]
    refit = LBPSVMScorer().fit_faces(samples + samples[:1], [f for _, f in train] + [None])
    np.testing.assert_allclose(refit.score(image, [face]), scorer.score(image, [face]), atol=1e-6)
    score = scorer.score(image, [face, Face(0, 0, 40, 40, 1.0)])
    assert score.shape == (2,) and 0.0 <= score.min() <= score.max() <= 1.0


def test_shared_video_pairs_are_ranked_and_decided_per_video(shared):
    folder = need_reference(shared / "models" / "minifasnet")
    videos = video_faces(shared / "data" / "videos" / "labels.csv", every=15)
    assert len(videos) == 6 and all(v.frames for v in videos)
    reference = video_pairs(MiniFASNetScorer(folder), videos)
    assert (reference["pairs"], reference["pairs_ordered"]) == (3, 3)  # measured: every pair right
    assert reference["videos_correct"] >= 5
    engine = LivenessEngine.load(None, detector=None)
    shipped = video_pairs(EngineScorer(engine), videos)
    assert shipped["mean_score"]["lestari15/real.mp4"] > shipped["mean_score"]["lestari15/fake.mp4"]
    for path, mean in shipped["mean_score"].items():
        assert shipped["decision"][path] == ("real" if mean >= engine.threshold else "spoof")


def test_celeba_crop_is_a_mirrored_square_of_one_and_a_half_boxes():
    from liveness.evaluate.scorers import celeba_crop

    frame = np.zeros((240, 320, 3), np.uint8)
    frame[:, :10] = (0, 0, 255)  # a red left edge (BGR)
    centred = celeba_crop(frame, (120, 80, 80, 80))  # a 120-px square inside the frame
    assert centred.shape == (3, 128, 128) and centred.dtype == np.float32
    assert centred.max() == 0.0  # the red edge is outside the square
    edge = celeba_crop(frame, (0, 80, 80, 80))  # the 120-px square starts 20 px left of the frame
    # never shifted inside: the frame's edge lands at column 20 * 128/120 ~ 21, and the missing
    # part is mirrored from the frame, so the red edge shows on both sides of it (not black)
    red_columns = np.flatnonzero(edge[0].mean(axis=0) > 0.9)  # channel 0 is R after BGR->RGB
    assert red_columns.min() <= 13 and red_columns.max() >= 29
    assert edge[0].mean(axis=0)[:9].max() < 0.1  # beyond the mirrored strip: the black frame


@pytest.mark.shared
def test_celeba_reference_ranks_real_above_attacks_and_evaluates(shared, detector, tmp_path):
    from liveness.evaluate.scorers import reference_scorer
    from tests.conftest import replay_subset, run_cli

    pytest.importorskip("onnxruntime")
    scorer = reference_scorer("celeba", shared / "models")
    real = [scorer.score(img, [f])[0] for img, f in _devel_faces(shared, detector, "real", 6)]
    fake = [s for img, f in _devel_faces(shared, detector, "attack__fixed__attack_mobile", 6)
            for s in scorer.score(img, [f])]  # fmt: skip
    assert min(real) > max(fake) - 0.5 and np.mean(real) > np.mean(fake) + 0.3
    result = run_cli(
        "evaluate", "--reference", "celeba", "--reference-dir", str(shared / "models"),
        "--dataset", str(replay_subset(tmp_path, every=100)), "--report-dir", str(tmp_path / "r"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = (tmp_path / "r" / "report.json").read_text()
    assert (
        '"celeba_minifasnet"' in report or "celeba_minifasnet" in (tmp_path / "r" / "report.md").read_text()
    )
    both = run_cli("evaluate", "--reference", "celeba", "--model", "x.tflite", "--dataset", "d",
                   "--report-dir", str(tmp_path / "q"))  # fmt: skip
    assert both.returncode == 2 and "not both" in both.stderr

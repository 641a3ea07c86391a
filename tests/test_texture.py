"""The colour-texture model: its descriptor, its safe file, training without TensorFlow, the engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from liveness import texture
from liveness.engine import LivenessEngine
from liveness.errors import ConfigError, ModelLoadError
from liveness.train import TrainConfig
from tests.conftest import run_cli


def test_descriptor_histograms_are_normalised_and_count_the_patterns():
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    d = texture.describe(crop)
    assert d.shape == (texture.descriptor_length(),) == (2148,)
    blocks = d[: -texture.SPECTRUM_BINS].reshape(-1, 59)
    np.testing.assert_allclose(blocks.sum(axis=1), 1.0, atol=1e-4)  # 6 channels x (2 radii + 4 cells)
    flat = texture.describe(np.full((32, 32, 3), 90, np.uint8), grid=1)
    # every neighbour equals the centre: pattern 255, the last uniform pattern (bin 57), everywhere
    assert np.all(flat[: -texture.SPECTRUM_BINS].reshape(-1, 59)[:, 57] == 1.0)


def test_one_pixel_pattern_is_read_clockwise_from_the_top_left():
    # the centre 50 against its 8 neighbours, clockwise from the top-left: >= sets the bit
    patch = np.array([[60, 10, 10], [60, 50, 10], [60, 60, 60]], dtype=np.int16)
    bins = texture._lbp_bins(patch[None], 1)
    neighbours = [60, 10, 10, 10, 60, 60, 60, 60]  # TL, T, TR, R, BR, B, BL, L
    code = sum(1 << i for i, v in enumerate(neighbours) if v >= 50)
    assert bins.shape == (1, 1, 1)
    assert bins[0, 0, 0] == texture._LUT[code]
    assert texture._LUT[code] < 58  # one run of ones: a uniform pattern, its own bin


def test_the_model_file_is_arrays_only(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, texture.descriptor_length())).astype(np.float32)
    is_real = np.arange(40) % 2 == 0
    x[is_real, 0] += 3.0
    model = texture.fit(x, is_real, rng.random(40), real_index=1)
    path = tmp_path / "m.npz"
    model.save(path)
    again = texture.TextureModel.load(path)
    np.testing.assert_allclose(again.real_probability(x), model.real_probability(x), rtol=1e-6)
    assert again.real_probability(x)[is_real].mean() > again.real_probability(x)[~is_real].mean() + 0.2

    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, mean=np.array([object()], dtype=object))
    with pytest.raises(ModelLoadError, match="not a colour-texture model"):
        texture.TextureModel.load(pickled)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ModelLoadError, match="not a colour-texture model"):
        texture.TextureModel.load(junk)
    short = tmp_path / "short.npz"
    np.savez(
        short,
        mean=np.zeros(3),
        scale=np.ones(3),
        labels_coef=np.zeros(3),
        labels_bias=0.0,
        real_index=1,
        grid=2,
    )
    with pytest.raises(ModelLoadError, match="do not fit"):
        texture.TextureModel.load(short)


def test_options_of_networks_are_refused_for_a_colour_texture_model(tmp_path):
    with pytest.raises(ConfigError, match="--distribute do not apply"):
        TrainConfig(dataset="x", architecture=texture.ARCHITECTURE, distribute="mirrored")
    config = TrainConfig(dataset="x", architecture=texture.ARCHITECTURE, model=str(tmp_path / "m.keras"))
    assert config.model.endswith("m.npz")


def test_trains_without_tensorflow_and_scores_through_the_engine(gathered, tmp_path, detector, face_frame):
    model = tmp_path / "texture.npz"
    code = (
        "import sys\n"
        "from liveness.train import TrainConfig, train\n"
        f"r = train(TrainConfig(dataset={str(gathered)!r}, model={str(model)!r},"
        " architecture='colour-texture', input_size=128, plot=None))\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'\n"
        "print(r.model_path)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    card = json.loads(model.with_name("texture.card.json").read_text())
    assert card["architecture"] == "colour-texture" and card["input_size"] == 128
    validation = card["metrics"]["validation_frame_level"]
    assert validation["auc"] > 0.9, validation  # the six shared videos, held out by subject
    assert 0.0 < card["threshold"] < 1.0

    engine = LivenessEngine.load(model, detector=detector)
    assert engine.backend.name == "texture"
    verdicts = engine.analyse(face_frame)
    assert len(verdicts) == 1 and 0.0 <= verdicts[0].score <= 1.0
    assert verdicts[0].label == ("real" if verdicts[0].score >= card["threshold"] else "spoof")

    tampered = tmp_path / "copy"
    tampered.mkdir()
    (tampered / "texture.card.json").write_text(model.with_name("texture.card.json").read_text())
    (tampered / "texture.npz").write_bytes(model.read_bytes()[:-8] + b"12345678")
    with pytest.raises(ModelLoadError, match="sha256"):
        LivenessEngine.load(tampered / "texture.npz", detector=detector)


def test_cli_trains_a_colour_texture_model_and_check_uses_it(gathered, tmp_path):
    model = tmp_path / "cli.npz"
    done = run_cli("train", "--dataset", str(gathered), "--arch", "colour-texture", "--model", str(model))
    assert done.returncode == 0, done.stderr[-2000:]
    assert model.is_file() and Path(str(model).replace(".npz", ".card.json")).is_file()
    assert not (tmp_path / "plot.png").exists()
    refused = run_cli("train", "--dataset", str(gathered), "--arch", "colour-texture", "--model", str(model))
    assert refused.returncode != 0 and "exist" in refused.stderr

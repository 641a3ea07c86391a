import pickle

import pytest

from liveness.cards import (
    ModelCard,
    card_path_for,
    model_stem,
    read_label_names,
    real_class_of,
    write_label_names,
)
from liveness.errors import ModelLoadError


def card(**kw):
    base = dict(name="m", architecture="livenessnet", input_size=32, class_names=("fake", "real"))
    return ModelCard(**{**base, **kw})


def test_round_trip(tmp_path):
    c = card(threshold=0.3, metrics={"auc": 0.9})
    c.save(tmp_path / "m.card.json")
    loaded = ModelCard.load(tmp_path / "m.card.json")
    assert loaded == c
    assert loaded.real_index == 1
    assert loaded.label_for(0.3) == "real" and loaded.label_for(0.29) == "spoof"


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(class_names=("real",)), "at least 2"),
        (dict(class_names=("a", "b")), "real class"),
        (dict(input_size=2), "input_size"),
        (dict(threshold=1.5), "threshold"),
        (dict(crop_scale=0.5), "crop_scale"),
    ],
)
def test_invalid_cards_are_refused(bad, message):
    with pytest.raises(ModelLoadError, match=message):
        card(**bad)


def test_malformed_card_files(tmp_path):
    (tmp_path / "x.card.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        ModelCard.load(tmp_path / "x.card.json")
    (tmp_path / "y.card.json").write_text('{"name": "y"}')
    with pytest.raises(ModelLoadError, match="missing keys"):
        ModelCard.load(tmp_path / "y.card.json")
    with pytest.raises(ModelLoadError, match="not found"):
        ModelCard.load(tmp_path / "missing.card.json")


def test_model_file_names():
    for name in ("m.keras", "m.tflite", "m.card.json"):
        assert model_stem(__import__("pathlib").Path(f"/x/{name}")).name == "m"
    assert card_path_for(__import__("pathlib").Path("a/b.keras")).name == "b.card.json"


def test_label_file_is_json_and_pickles_are_refused(tmp_path):
    write_label_names(tmp_path / "le.json", ["fake", "real"])
    assert read_label_names(tmp_path / "le.json") == ["fake", "real"]
    with pytest.raises(ModelLoadError, match="never pickled"):
        write_label_names(tmp_path / "le.pickle", ["fake", "real"])
    evil = tmp_path / "le.bin"
    evil.write_bytes(pickle.dumps({"classes": ["fake", "real"]}))
    with pytest.raises(ModelLoadError, match="pickle"):
        read_label_names(evil)


def test_real_class_names():
    assert real_class_of(["fake", "real"]) == "real"
    assert real_class_of(["attack", "live"]) == "live"
    with pytest.raises(ModelLoadError):
        real_class_of(["cat", "dog"])

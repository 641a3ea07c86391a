import numpy as np
import pytest

from liveness.errors import InputError
from liveness.io.media import decode_image, iter_images, iter_video, read_image
from tests.conftest import REAL_VIDEO
from tests.media import faceless_video, rotated_phone_video


def test_read_image_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_image(tmp_path / "missing.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_image(tmp_path / "empty.jpg")
    (tmp_path / "text.jpg").write_text("hello, I am not a picture" * 10)
    with pytest.raises(InputError, match="not an image"):
        read_image(tmp_path / "text.jpg")
    with pytest.raises(InputError):
        read_image(tmp_path)


def test_decode_grey_and_16_bit_png():
    import cv2

    _ok, png = cv2.imencode(".png", (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000))
    image = decode_image(png.tobytes())
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8


def test_one_bad_image_among_many_is_skipped(tmp_path, caplog):
    import cv2

    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "b.png").write_bytes(b"\x89PNG broken")
    frames = list(iter_images([tmp_path / "a.png", tmp_path / "b.png"]))
    assert len(frames) == 1
    assert "b.png" in caplog.text


def test_video_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        list(iter_video(tmp_path / "none.mp4"))
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(InputError):
        list(iter_video(tmp_path / "empty.mp4"))
    (tmp_path / "noise.mp4").write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(InputError):
        list(iter_video(tmp_path / "noise.mp4"))


def test_video_skip(tmp_path):
    frames = list(iter_video(faceless_video(tmp_path / "v.mp4", n=8), skip=3))
    assert [f.index for f in frames] == [0, 3, 6]


def test_phone_rotation_metadata_is_applied(shared, tmp_path, detector):
    video = rotated_phone_video(REAL_VIDEO, tmp_path / "phone.mp4")
    frames = list(iter_video(video, skip=4))
    assert all(f.image.shape[:2] == (720, 1080) for f in frames)  # upright again
    assert all(detector.detect(f.image) for f in frames)


def test_camera_reader_drops_frames_instead_of_queueing(shared):
    """A live source read in its own thread: a slow consumer always gets the newest frame."""
    import time

    from liveness.io.media import CameraReader

    reader = CameraReader(str(REAL_VIDEO))  # any capture source; a file plays faster than real time
    indices = []
    try:
        for frame in reader.frames():
            indices.append(frame.index)
            time.sleep(0.05)  # a slow pipeline
    finally:
        reader.close()
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    assert reader.dropped > 0 and len(indices) < 112
    assert indices[-1] >= 100  # it kept up with the source instead of lagging behind


def test_face_box_validation():
    from liveness.types import Face

    with pytest.raises(ValueError, match="positive size"):
        Face(0, 0, 0, 5, 0.9)
    with pytest.raises(ValueError, match="inside the frame"):
        Face(-1, 0, 5, 5, 0.9)
    with pytest.raises(ValueError, match="confidence"):
        Face(0, 0, 5, 5, 1.5)


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "WEBP", "GIF"])
def test_tiny_images_decode_instead_of_crashing(fmt):
    import io

    from PIL import Image

    from liveness.io.media import decode_image

    buffer = io.BytesIO()
    Image.new("RGB", (5, 3), (10, 20, 30)).save(buffer, fmt)
    assert decode_image(buffer.getvalue()).shape == (3, 5, 3)


def test_a_float_image_with_nan_and_inf_decodes_to_8_bit():
    import io

    from PIL import Image

    from liveness.io.media import decode_image

    values = np.full((20, 20), np.nan, np.float32)
    values[0, 0], values[1, 1] = np.inf, 5.0
    buffer = io.BytesIO()
    Image.fromarray(values, mode="F").save(buffer, "TIFF")
    image = decode_image(buffer.getvalue())
    assert image.dtype == np.uint8 and image.shape == (20, 20, 3) and image[1, 1, 0] == 255


def test_check_on_a_tiny_image_is_never_read_as_a_verdict(tmp_path):
    from PIL import Image

    from tests.conftest import run_cli

    path = tmp_path / "tiny.png"
    Image.new("RGB", (4, 4)).save(path)
    result = run_cli("check", str(path))
    assert result.returncode in (2, 3), result.stderr  # an error or "uncertain", never 1 ("attack")
    assert "Traceback" not in result.stderr


def test_an_unexpected_error_exits_2_with_one_line(monkeypatch, capfd):
    from liveness import cli
    from liveness.cli import check as check_command

    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(check_command, "run", broken)
    assert cli.main(["check", "x.png"]) == 2
    err = capfd.readouterr().err
    assert "unexpected error: RuntimeError: boom" in err and "Traceback" not in err


@pytest.mark.parametrize("orientation", range(1, 9))
def test_photos_are_turned_as_their_exif_orientation_says(orientation):
    import io

    from PIL import Image, ImageOps

    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:10, :20] = (0, 0, 255)  # asymmetric marks, so every turn and mirror shows
    stored[30:, 50:] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.fromarray(stored[..., ::-1].copy()).save(buffer, "JPEG", exif=exif, quality=100)
    viewer = np.array(ImageOps.exif_transpose(Image.open(io.BytesIO(buffer.getvalue()))))[..., ::-1]
    decoded = decode_image(buffer.getvalue())
    assert decoded.shape == viewer.shape
    assert np.abs(decoded.astype(int) - viewer).max() <= 1

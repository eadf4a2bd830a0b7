"""``TorchOptions``: execution options of the PyTorch backend (no torch import here).

Core calls the ``ptychopinn_resolve_options`` hook once, when the backend is selected, with a
:class:`TorchOptions`, a plain mapping (from a configuration file's backend-options table) or None;
:func:`resolve_options` turns any of them into a :class:`TorchOptions`, which every other hook then
receives. An unknown key is a :class:`~ptychopinn.errors.ConfigError` that names it. The
Lightning-facing fields are handed to ``lightning.Trainer`` as they are, so every value
Lightning accepts works (``accelerator="gpu"``, ``devices=4``, ``strategy="ddp"``,
``num_nodes=2``, ``precision="bf16-mixed"`` ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ptychopinn.config.backend_options import resolve_dataclass_options
from ptychopinn.errors import ConfigError

__all__ = ["TorchOptions", "resolve_options"]


@dataclass(frozen=True, kw_only=True)
class TorchOptions:
    """How the PyTorch backend runs (training and inference)."""

    backend: ClassVar[str] = "pytorch"
    """The backend these options belong to (core refuses them for another backend)."""

    accelerator: str = "auto"
    """``lightning.Trainer(accelerator=...)``: ``"auto"``, ``"cpu"``, ``"gpu"``, ``"cuda"``, ``"mps"``."""

    devices: int | str | list[int] = "auto"
    """``lightning.Trainer(devices=...)``: count, list of ids or ``"auto"``."""

    num_nodes: int = 1
    """``lightning.Trainer(num_nodes=...)`` for multi-node DDP."""

    strategy: str = "auto"
    """``lightning.Trainer(strategy=...)``: ``"auto"``, ``"ddp"``, ``"ddp_spawn"``, ``"fsdp"`` ..."""

    precision: str | int = "32-true"
    """``lightning.Trainer(precision=...)``: ``"32-true"``, ``"16-mixed"``, ``"bf16-mixed"`` ...
    Inference uses autocast to the same reduced dtype for ``*-mixed``."""

    deterministic: bool = False
    """``lightning.Trainer(deterministic=...)``."""

    enable_progress_bar: bool = True
    """Show Lightning's progress bar while training."""

    num_threads: int | None = None
    """CPU threads (``torch.set_num_threads``) while training, predicting or refining; the previous
    count is restored afterwards. None: torch's default, except refinement on a CPU, which runs
    single-threaded (its minibatch ops are small)."""

    num_workers: int = 0
    """DataLoader worker processes."""

    log_dir: str | None = None
    """Directory of Lightning's CSV logs (history); None = a temporary directory that is
    removed after training (the history is returned in the training summary anyway)."""

    inference_device: str | None = None
    """torch device of the predictor and the refinement operator (``"cpu"``, ``"cuda:0"``);
    None = CUDA when available and ``accelerator`` allows it, else CPU."""

    inference_chunk_size: int | None = 16
    """Groups per network call of the predictor on a CPU, whatever ``InferenceConfig.batch_size``
    (which then only sets how many groups core hands over at a time). Larger calls make every
    activation tensor outgrow the CPU caches (≈ 270 MB at 256 groups, width 2): at 1 thread,
    256 groups per call ran 1.44x slower than 16 (``benchmarks/results/torch_infer_chunking.json``).
    None = one call per ``batch_size``. Not applied on GPUs."""

    def __post_init__(self) -> None:
        if not isinstance(self.num_nodes, int) or self.num_nodes < 1:
            raise ConfigError(f"TorchOptions.num_nodes must be an integer >= 1, got {self.num_nodes!r}")
        if not isinstance(self.num_workers, int) or self.num_workers < 0:
            raise ConfigError(f"TorchOptions.num_workers must be an integer >= 0, got {self.num_workers!r}")
        if self.num_threads is not None and (not isinstance(self.num_threads, int) or self.num_threads < 1):
            raise ConfigError(f"TorchOptions.num_threads must be an integer >= 1 or None, got {self.num_threads!r}")
        chunk = self.inference_chunk_size
        if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1):
            raise ConfigError(f"TorchOptions.inference_chunk_size must be an integer >= 1 or None, got {chunk!r}")
        for name in ("deterministic", "enable_progress_bar"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"TorchOptions.{name} must be true or false, got {getattr(self, name)!r}")

    def trainer_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``lightning.Trainer`` taken verbatim from these options."""
        return {
            "accelerator": self.accelerator,
            "devices": self.devices,
            "num_nodes": self.num_nodes,
            "strategy": self.strategy,
            "precision": self.precision,
            "deterministic": self.deterministic,
            "enable_progress_bar": self.enable_progress_bar,
        }


def resolve_options(options: object | None) -> TorchOptions:
    """``TorchOptions`` from None, a ``TorchOptions`` or a mapping of its fields; ConfigError naming an
    unknown key, a bad value or another type (core's ``resolve_dataclass_options``)."""
    return resolve_dataclass_options(TorchOptions, options, label="PyTorch")

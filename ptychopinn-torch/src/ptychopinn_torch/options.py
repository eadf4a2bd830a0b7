"""``TorchOptions``: execution options of the PyTorch backend (no torch import here).

Core passes a backend's options through untouched: a :class:`TorchOptions`, a plain mapping
read from a configuration file (``[backend_options]`` / ``options:``), or None. The
Lightning-facing fields are handed to ``lightning.Trainer`` as they are, so every value
Lightning accepts works (``accelerator="gpu"``, ``devices=4``, ``strategy="ddp"``,
``num_nodes=2``, ``precision="bf16-mixed"`` ...). No device or distribution logic lives in
this backend.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

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
    """``TorchOptions`` from None, a ``TorchOptions`` or a mapping (unknown keys -> ConfigError)."""
    if options is None:
        return TorchOptions()
    if isinstance(options, TorchOptions):
        return options
    if isinstance(options, Mapping):
        known = {f.name for f in dataclasses.fields(TorchOptions)}
        unknown = sorted(str(k) for k in options if k not in known)
        if unknown:
            raise ConfigError(
                f"unknown PyTorch backend option(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}"
            )
        return TorchOptions(**dict(options))
    raise ConfigError(
        f"PyTorch backend options must be a ptychopinn_torch.TorchOptions or a mapping, got {type(options).__name__}"
    )

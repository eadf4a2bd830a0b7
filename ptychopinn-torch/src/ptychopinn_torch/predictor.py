"""``TorchPredictor``: a model's network, built once, run batch after batch (backend API 2.0).

Core caches the predictor per model and options, scales, batches, groups and stitches
(:mod:`ptychopinn.plugins.predictor`); this module only runs the network: on the chosen device,
under ``torch.inference_mode``, with autocast for ``*-mixed`` precision, channels-last, and on a
CPU in chunks of ``TorchOptions.inference_chunk_size`` groups (cache-sized activations).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from ptychopinn.errors import ConfigError
from ptychopinn.results import TrainedModel
from ptychopinn_torch.network import GraphNetwork, build_network
from ptychopinn_torch.options import TorchOptions

__all__ = ["TorchPredictor", "autocast_dtype", "build_predictor", "chunk_size", "device_for", "torch_threads"]

NAME = "pytorch"


def device_for(options: TorchOptions) -> torch.device:
    """Where inference and refinement run: ``options.inference_device``, else CUDA when allowed and present."""
    if options.inference_device is not None:
        return torch.device(options.inference_device)
    if options.accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def autocast_dtype(precision: str | int) -> torch.dtype | None:
    """The autocast dtype of a Lightning precision: bfloat16 / float16 for ``bf16-*`` / ``16-*``, else None."""
    p = str(precision)
    if p.startswith("bf16"):
        return torch.bfloat16
    if p.startswith("16"):
        return torch.float16
    return None


def chunk_size(options: TorchOptions, device: torch.device) -> int | None:
    """Groups per network call: ``options.inference_chunk_size`` on a CPU, None (whole batch) elsewhere."""
    return options.inference_chunk_size if device.type == "cpu" else None


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n)`` (None: unchanged), restoring the previous count."""
    previous = torch.get_num_threads()
    if n is not None and n != previous:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


class TorchPredictor:
    """The network of one model on one device (:class:`ptychopinn.plugins.predictor.Predictor`).

    Parameters
    ----------
    net : GraphNetwork
        The built network (moved to ``device`` and put in eval mode here).
    options : TorchOptions
        ``inference_device`` / ``accelerator`` (device), ``num_threads`` (CPU threads during
        :meth:`predict`, restored afterwards), ``precision`` (autocast), ``inference_chunk_size``.
    """

    backend: str = NAME

    def __init__(self, net: GraphNetwork, options: TorchOptions) -> None:
        self.device = device_for(options)
        self.net = net.to(self.device).eval()
        self.net.requires_grad_(False)
        self.options = options
        self.chunk = chunk_size(options, self.device)
        self.autocast = autocast_dtype(options.precision)
        graph = net.graph
        self.channels, self.N, _ = graph.shapes[graph.input]
        self.channels_out = graph.shapes[graph.amp][0]

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        if self.autocast is None:
            return self.net(x)
        with torch.autocast(device_type=self.device.type, dtype=self.autocast):
            return self.net(x)

    def predict(self, diffraction: np.ndarray) -> np.ndarray:
        """Run the network on one batch.

        Parameters
        ----------
        diffraction : (B, C, N, N) float32
            Diffraction amplitudes in network units.

        Returns
        -------
        (B, C_out, N, N) complex64
            Object patches ``amp * exp(i * phase)`` (before the physics).

        Raises
        ------
        ConfigError
            When the batch is not ``(B, C, N, N)`` for this model's C and N.
        """
        x = np.asarray(diffraction, dtype=np.float32)
        if x.ndim != 4 or x.shape[1:] != (self.channels, self.N, self.N):
            raise ConfigError(
                f"predict: diffraction must be (B, {self.channels}, {self.N}, {self.N}) for this model, "
                f"got {x.shape}"
            )
        if not (x.flags.writeable and x.flags.c_contiguous):  # memory maps, views: torch wants its own buffer
            x = np.array(x, dtype=np.float32, order="C")
        B = x.shape[0]
        if B == 0:
            return np.zeros((0, self.channels_out, self.N, self.N), dtype=np.complex64)
        step = B if self.chunk is None else max(1, self.chunk)
        with torch_threads(self.options.num_threads), torch.inference_mode():
            xb = torch.from_numpy(x).to(self.device, non_blocking=True)
            outs = [self._run(xb[i : i + step]).to("cpu") for i in range(0, B, step)]
        out = outs[0] if len(outs) == 1 else torch.cat(outs)
        return out.numpy().astype(np.complex64, copy=False)


def build_predictor(model: TrainedModel, options: TorchOptions) -> TorchPredictor:
    """The predictor of ``model`` (weights already validated by core) with ``options``."""
    return TorchPredictor(build_network(model.model_config, weights=model.weights), options)

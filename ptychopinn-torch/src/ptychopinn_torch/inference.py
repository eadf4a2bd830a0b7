"""The ``infer`` hook's implementation: batched forward passes under ``torch.inference_mode``."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np
import torch

from ptychopinn.config import InferenceConfig
from ptychopinn.data import GroupedScan
from ptychopinn.results import PatchPrediction, TrainedModel
from ptychopinn_torch.network import PtychoPINNNet
from ptychopinn_torch.options import TorchOptions
from ptychopinn_torch.physics import group_object
from ptychopinn_torch.weights import net_from_weights

__all__ = ["chunk_size", "infer", "inference_device", "network_for"]

_CACHE_SIZE = 4
_cache: OrderedDict[tuple, tuple[Mapping[str, np.ndarray], PtychoPINNNet]] = OrderedDict()
_lock = threading.Lock()


def inference_device(options: TorchOptions) -> torch.device:
    """The device ``infer`` runs on: ``options.inference_device``, else CUDA when allowed and present."""
    if options.inference_device is not None:
        return torch.device(options.inference_device)
    if options.accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def network_for(model: TrainedModel, device: torch.device) -> PtychoPINNNet:
    """The built network of ``model`` on ``device``, cached by ``id(model.weights)`` (small LRU).

    The cache keeps a strong reference to the weights mapping, so an id cannot be reused by
    another mapping while its entry lives.
    """
    key = (id(model.weights), model.model_config, str(device))
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] is model.weights:
            _cache.move_to_end(key)
            return hit[1]
    net = net_from_weights(model.model_config, model.weights, device=device)
    with _lock:
        _cache[key] = (model.weights, net)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return net


def _autocast_dtype(precision: str | int) -> torch.dtype | None:
    p = str(precision)
    if p.startswith("bf16"):
        return torch.bfloat16
    if p.startswith("16"):
        return torch.float16
    return None


def chunk_size(options: TorchOptions, device: torch.device, batch_size: int) -> int:
    """Groups per network call: ``options.inference_chunk_size`` on a CPU (capped by ``batch_size``)."""
    if device.type != "cpu" or options.inference_chunk_size is None:
        return batch_size
    return max(1, min(batch_size, options.inference_chunk_size))


def infer(model: TrainedModel, data: GroupedScan, config: InferenceConfig, options: TorchOptions) -> PatchPrediction:
    """One object patch per group: ``(B, N, N)`` complex64, positions = ``data.centres``.

    Groups are read ``config.batch_size`` at a time and run through the network
    :func:`chunk_size` groups per call (on a CPU, ``options.inference_chunk_size``).
    """
    model.check_groups(data)
    cfg = model.model_config
    if options.num_threads is not None:
        torch.set_num_threads(options.num_threads)
    device = inference_device(options)
    net = network_for(model, device)
    scale = np.float32(model.normalisation.network_scale)
    amp_dtype = _autocast_dtype(options.precision)
    B = data.n_groups
    out = np.empty((B, cfg.N, cfg.N), dtype=np.complex64)
    chunk = chunk_size(options, device, config.batch_size)
    with torch.inference_mode():
        for start in range(0, B, config.batch_size):
            stop = min(B, start + config.batch_size)
            xb = torch.from_numpy(data.batch_diffraction(start, stop) * scale).to(device, non_blocking=True)
            for c0 in range(0, stop - start, chunk):
                c1 = min(stop - start, c0 + chunk)
                x = xb[c0:c1]
                if amp_dtype is not None:
                    with torch.autocast(device_type=device.type, dtype=amp_dtype):
                        obj = net(x)
                else:
                    obj = net(x)
                offsets = None
                if cfg.channels > 1:
                    offsets = torch.from_numpy(data.offsets[start + c0 : start + c1].astype(np.float32)).to(device)
                patches = group_object(obj, offsets, object_big=cfg.object_big)
                out[start + c0 : start + c1] = patches.to("cpu").numpy()
    return PatchPrediction(patches=out, positions=np.asarray(data.centres, dtype=np.float64), backend="pytorch")

"""Canonical weights <-> torch modules (``docs/architecture-model.md``).

``PtychoPINNNet.state_dict()`` keys are the canonical names and its conv kernels are OIHW,
so conversion is a dtype/device change plus a strict name/shape check.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from ptychopinn.config import ModelConfig
from ptychopinn.errors import PtychoPINNError
from ptychopinn_torch.network import PtychoPINNNet

__all__ = ["expected_shapes", "net_from_weights", "state_to_weights", "validate_weights"]


def expected_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Canonical name -> shape of every weight of the architecture ``cfg`` implies (no allocation)."""
    with torch.device("meta"):
        net = PtychoPINNNet(cfg)
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def validate_weights(
    cfg: ModelConfig, weights: Mapping[str, np.ndarray], *, error: type[PtychoPINNError], where: str = "model"
) -> None:
    """Raise ``error`` unless ``weights`` has exactly the names and shapes of the architecture."""
    want = expected_shapes(cfg)
    missing = sorted(set(want) - set(weights))
    extra = sorted(set(weights) - set(want))
    arch = (
        f"N={cfg.N}, gridsize={cfg.gridsize}, n_filters_scale={cfg.n_filters_scale}, probe_big={cfg.probe_big}, "
        f"pad_object={cfg.pad_object}, object_big={cfg.object_big}"
    )
    if missing or extra:
        raise error(
            f"{where}: weights do not match the architecture ({arch}): "
            f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}, "
            f"unexpected {extra[:5]}{' ...' if len(extra) > 5 else ''}"
        )
    for name, shape in want.items():
        got = tuple(np.shape(weights[name]))
        if got != shape:
            raise error(f"{where}: weight {name!r} has shape {got}, the architecture ({arch}) needs {shape}")
        arr = weights[name]
        if not np.issubdtype(np.asarray(arr).dtype, np.floating):
            raise error(f"{where}: weight {name!r} must be floating point, got dtype {np.asarray(arr).dtype}")


def state_to_weights(net: PtychoPINNNet) -> dict[str, np.ndarray]:
    """Canonical weights (float32 numpy, OIHW) of a network."""
    out = {}
    for k, v in net.state_dict().items():
        # .contiguous(): channels-last kernels -> OIHW memory order; reshape keeps 0-d scalars 0-d
        out[k] = v.detach().to("cpu", torch.float32).contiguous().numpy().copy().reshape(tuple(v.shape))
    return out


def net_from_weights(
    cfg: ModelConfig, weights: Mapping[str, np.ndarray], *, device: torch.device | str = "cpu"
) -> PtychoPINNNet:
    """Build the network for ``cfg`` and load canonical ``weights`` (validated; ConfigError on mismatch)."""
    from ptychopinn.errors import ConfigError

    validate_weights(cfg, weights, error=ConfigError)
    net = PtychoPINNNet(cfg)
    state = {k: torch.from_numpy(np.ascontiguousarray(weights[k], dtype=np.float32)) for k in net.state_dict()}
    net.load_state_dict(state, strict=True)
    return net.to(device).eval()

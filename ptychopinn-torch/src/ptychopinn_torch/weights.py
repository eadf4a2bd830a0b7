"""Canonical weights <-> a torch network (``docs/architecture-model.md``).

:class:`~ptychopinn_torch.network.GraphNetwork`'s ``state_dict()`` keys are the canonical names
and its kernels are OIHW, so conversion is a dtype / device / memory-order change. Names and
shapes are core's business (:func:`ptychopinn.architecture.validate_weights`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from ptychopinn.errors import BundleError

__all__ = ["load_network_weights", "network_weights"]


def network_weights(net: nn.Module) -> dict[str, np.ndarray]:
    """Canonical weights of ``net``: name -> float32 C-contiguous numpy array (OIHW kernels, () scalars).

    Parameters
    ----------
    net : nn.Module
        A :class:`~ptychopinn_torch.network.GraphNetwork` (on any device, any dtype).
    """
    out: dict[str, np.ndarray] = {}
    for name, value in net.state_dict().items():
        # .contiguous(): channels-last kernels -> OIHW memory order; reshape keeps 0-d scalars 0-d
        array = value.detach().to("cpu", torch.float32).contiguous().numpy()
        out[name] = np.array(array, dtype=np.float32, copy=True).reshape(tuple(value.shape))
    return out


def load_network_weights(net: nn.Module, weights: Mapping[str, np.ndarray], *, source: str = "model") -> None:
    """Copy canonical ``weights`` into ``net`` (in place, keeping its device and memory format).

    Raises
    ------
    BundleError
        Naming ``source`` and the missing or unexpected names; core validates a model's weights with
        :func:`ptychopinn.architecture.validate_weights` before a backend sees them.
    """
    state = net.state_dict()
    missing = sorted(set(state) - set(weights))
    extra = sorted(set(weights) - set(state))
    if missing or extra:
        raise BundleError(
            f"the weights of {source} do not match the network: missing {missing[:5]}, unexpected {extra[:5]} "
            "(validate them with ptychopinn.architecture.validate_weights first)"
        )
    with torch.no_grad():
        for name, tensor in state.items():
            value = torch.from_numpy(np.array(weights[name], dtype=np.float32, order="C"))  # 0-d stays 0-d
            if tuple(value.shape) != tuple(tensor.shape):
                raise BundleError(
                    f"{source}: weight {name!r} has shape {tuple(value.shape)}, expected {tuple(tensor.shape)}"
                )
            tensor.copy_(value)

"""PtychoPINN-Next for Ptychodus: installed as ``ptychodus/plugins/ptychopinn_next.py`` by ptychopinn-ptychodus.

Ptychodus imports every module of its ``ptychodus.plugins`` namespace package at start-up and
calls ``register_plugins(registry)``. This one registers the PtychoPINN scan file readers and
adds the PtychoPINN-Next reconstructors (PINN, Supervised); see
``ptychopinn_ptychodus.integration``. It never raises: Ptychodus must start whatever happens here.
"""

import logging


def register_plugins(registry: object) -> None:
    """Ptychodus's plugin hook."""
    try:
        from ptychopinn_ptychodus.integration import register
    except Exception as exc:  # e.g. ptychopinn-ptychodus half-uninstalled
        logging.getLogger("ptychopinn_ptychodus").warning("PtychoPINN-Next plugin not loaded: %s", exc)
        return
    register(registry)

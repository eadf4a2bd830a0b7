"""PtychoPINN reconstructors for Ptychodus 1.7 (``PtychoPINN-Next``: PINN and Supervised).

Built only on ``ptychopinn``'s public API and ``ptychodus.api``; never imports an ML
framework in the Ptychodus process (models run in a spawned child). Discovery: entry-point
group ``ptychodus.reconstructor_libraries`` -> :class:`PtychoPINNNextReconstructorLibrary`
(see ``docs/ptychodus.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["PtychoPINNNextReconstructorLibrary", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn_ptychodus.library import PtychoPINNNextReconstructorLibrary


def __getattr__(name: str) -> Any:
    if name == "PtychoPINNNextReconstructorLibrary":
        from ptychopinn_ptychodus.library import PtychoPINNNextReconstructorLibrary

        return PtychoPINNNextReconstructorLibrary
    raise AttributeError(f"module 'ptychopinn_ptychodus' has no attribute {name!r}")

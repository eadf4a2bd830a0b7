"""``PtychoPINNNextReconstructorLibrary``: the Ptychodus 1.7 ``ReconstructorLibrary``.

Constructed by Ptychodus (or by the proposed entry-point loop, ``docs/ptychodus.md``) as
``PtychoPINNNextReconstructorLibrary(settings_registry, is_developer_mode_enabled)``.
Construction is cheap and GPU-free: it creates the settings groups and reads backend
entry-point metadata; no backend and no framework is imported.

Name: ``PtychoPINN-Next``. Ptychodus keys an algorithm as
``f"{library.name.casefold()}_{reconstructor.name.casefold()}"`` and splits the key on the
first ``_``, so the name has no ``_`` and must differ from the built-in ``PtychoPINN``
(TensorFlow-only) and ``PtychoPINN-Torch`` libraries, which stay usable side by side.
"""

from __future__ import annotations

from collections.abc import Iterator

from ptychodus.api.reconstruct import Reconstructor, ReconstructorLibrary
from ptychodus.api.settings import SettingsRegistry

from ptychopinn_ptychodus.reconstructor import PtychoPINNNextReconstructor, StopProbe
from ptychopinn_ptychodus.settings import PtychoPINNNextSettings

__all__ = ["LIBRARY_NAME", "LOGGER_NAME", "PtychoPINNNextReconstructorLibrary"]

LIBRARY_NAME = "PtychoPINN-Next"
LOGGER_NAME = "ptychopinn_ptychodus"
"""The library's logger; the adapter's modules (and child messages) log under it."""

RECONSTRUCTOR_NAMES = ("PINN", "Supervised")


class PtychoPINNNextReconstructorLibrary(ReconstructorLibrary):
    """PtychoPINN (``ptychopinn`` core + any installed backend) for Ptychodus 1.7.

    Parameters
    ----------
    settings_registry : SettingsRegistry
        Ptychodus's registry; the groups ``PtychoPINNNextModel``, ``PtychoPINNNextTraining``
        and ``PtychoPINNNextInference`` are created in it.
    is_developer_mode_enabled : bool
        Accepted for signature compatibility with Ptychodus's built-in libraries; the
        reconstructors are always listed (even without a backend, so the user sees why a
        run cannot start).
    """

    def __init__(self, settings_registry: SettingsRegistry, is_developer_mode_enabled: bool) -> None:
        super().__init__(LOGGER_NAME)
        self.settings = PtychoPINNNextSettings(settings_registry)
        self.stop_requested = StopProbe()
        """Polled by running reconstructors; wired to Ptychodus's task monitor by the integration hook."""
        self._reconstructors = [
            PtychoPINNNextReconstructor(name, self.settings, self.stop_requested) for name in RECONSTRUCTOR_NAMES
        ]
        self._report_backends()

    @property
    def name(self) -> str:
        return LIBRARY_NAME

    def __iter__(self) -> Iterator[Reconstructor]:
        return iter(self._reconstructors)

    def _report_backends(self) -> None:
        from ptychopinn import __version__
        from ptychopinn.plugins.names import KNOWN_BACKENDS

        installed = self.settings.backend_choices()[1:]
        if installed:
            self._logger.info(
                "PtychoPINN-Next (ptychopinn-core %s): backends installed: %s", __version__, ", ".join(installed)
            )
        else:
            commands = " or ".join(f"pip install {dist}" for dist in KNOWN_BACKENDS.values())
            self._logger.warning(
                "PtychoPINN-Next: no PtychoPINN backend is installed, so its reconstructors cannot train or "
                "reconstruct. Install one: %s.",
                commands,
            )

"""Typed errors of PtychoPINN.

Every error a user can meet derives from :class:`PtychoPINNError`. The classes, not the
message texts, are the contract between packages; the messages are written for people and
always say what to do next.

Backend selection and loading
-----------------------------
- :class:`UnknownBackendError` (``ValueError``): the name is neither known nor installed.
- :class:`BackendNotInstalledError` (``RuntimeError``): a known backend was selected but its
  distribution is not installed; the message carries the exact ``pip install`` command.
- :class:`BackendLoadError` (``ImportError``): installed, but importing its plugin failed.
- :class:`BackendIncompatibleError` (``RuntimeError``): the backend implements a backend API
  version this core cannot drive.
- :class:`DuplicateBackendError` (``RuntimeError``): two distributions claim one name.
- :class:`BackendRuntimeError` (``RuntimeError``): a backend's hook failed (it raised, called
  ``sys.exit``, rejected its options or returned NaN/Inf); the original error is chained.
- :class:`CapabilityError` (``RuntimeError``): the backend lacks a capability (``train``,
  ``infer``, ``export``...); the message names the installed backends that have it.

Compatibility of a scan, a model and a training configuration (one type per condition, all
:class:`ConfigError`; :func:`ptychopinn.config.compatibility.check_compatible` raises them)
-----------------------------------------------------------------------------------------
- :class:`PatternSizeMismatchError`: the diffraction patterns are not N x N of the model.
- :class:`GroupSizeMismatchError`: groups hold another number of patterns than gridsize**2.
- :class:`MissingGroundTruthError`: supervised training without the scan's ``objectGuess``.
- :class:`NoTrainingGroupsError`: the scan is too small for the requested training split.

Data, configuration and bundles
-------------------------------
- :class:`ScanDataError` (``ValueError``): a scan file or array violates the data contract.
- :class:`ConfigError` (``ValueError``): a configuration value or file is invalid.
- :class:`BundleError` (``ValueError``): a model bundle is malformed, truncated, tampered
  with, or written in a future format.

Outputs and resources
---------------------
- :class:`OutputError` (``OSError``-like, but a ``PtychoPINNError``): an output cannot be
  created (not a directory, not writable, not enough free space).
- :class:`ResourceLimitError` (``ValueError``): an input implies an absurd amount of memory or
  work (a canvas of many GiB, a member that inflates beyond the limit); the message says what
  was computed.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BackendIncompatibleError",
    "BackendLoadError",
    "BackendNotInstalledError",
    "BackendRuntimeError",
    "BundleError",
    "CapabilityError",
    "ConfigError",
    "DuplicateBackendError",
    "GroupSizeMismatchError",
    "MissingGroundTruthError",
    "NoTrainingGroupsError",
    "OutputError",
    "PatternSizeMismatchError",
    "PtychoPINNError",
    "ResourceLimitError",
    "ScanDataError",
    "UnknownBackendError",
]


class PtychoPINNError(Exception):
    """Base class of every error raised on purpose by PtychoPINN."""


class BackendError(PtychoPINNError):
    """Base class of the backend discovery, selection and loading errors."""


class UnknownBackendError(BackendError, ValueError):
    """The requested backend name is neither a known backend nor an installed one."""


class BackendNotInstalledError(BackendError, RuntimeError):
    """A known backend was selected but its distribution is not installed.

    Attributes
    ----------
    backend : str
        Canonical backend name, e.g. ``"pytorch"``.
    distribution : str
        The distribution that provides it, e.g. ``"ptychopinn-torch"``.
    """

    def __init__(self, message: str, *, backend: str, distribution: str) -> None:
        super().__init__(message)
        self.backend = backend
        self.distribution = distribution

    @property
    def install_command(self) -> str:
        """The exact command that installs the missing backend."""
        return f"pip install {self.distribution}"


class BackendLoadError(BackendError, ImportError):
    """The backend is installed but its plugin module (or a dependency) failed to import."""


class BackendIncompatibleError(BackendError, RuntimeError):
    """The backend implements a backend API version that this core cannot drive."""


class DuplicateBackendError(BackendError, RuntimeError):
    """Two installed distributions register the same backend name."""


class BackendRuntimeError(BackendError, RuntimeError):
    """A loaded backend's hook failed: it raised a non-PtychoPINN exception, called ``sys.exit``,
    or returned non-finite values. The message names the backend and the hook."""


class CapabilityError(BackendError, RuntimeError):
    """The selected backend cannot do what was asked (train, infer, export...).

    The message names the backend, the capability and the installed backends that have it.
    """

    def __init__(self, message: str, *, backend: str = "", capability: str = "") -> None:
        super().__init__(message)
        self.backend = backend
        """The backend that lacks the capability."""
        self.capability = capability
        """The capability it lacks."""


class ScanDataError(PtychoPINNError, ValueError):
    """A scan (NPZ file or in-memory arrays) violates the data contract.

    The message names the file (when there is one), the key, and the expected and found
    shape, dtype or units.
    """


class ConfigError(PtychoPINNError, ValueError):
    """A configuration value or configuration file is invalid; the message names the field."""


class PatternSizeMismatchError(ConfigError):
    """The diffraction patterns of a scan are not N x N pixels of the model (``ModelConfig.N``)."""


class GroupSizeMismatchError(ConfigError):
    """Groups hold another number of patterns than the model's ``gridsize**2``."""


class MissingGroundTruthError(ConfigError):
    """Supervised training needs the scan's ground-truth object (``objectGuess``) and it has none."""


class NoTrainingGroupsError(ConfigError):
    """No training group is left (the scan is too small for the requested split)."""


class BundleError(PtychoPINNError, ValueError):
    """A model bundle cannot be read: malformed, truncated, tampered with, or from the future."""


class OutputError(PtychoPINNError):
    """An output file or directory cannot be created; the message names the path and the reason."""


class ResourceLimitError(PtychoPINNError, ValueError):
    """An input implies more memory or work than is sane; the message says what was computed."""

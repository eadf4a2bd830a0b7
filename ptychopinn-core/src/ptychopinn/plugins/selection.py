"""Which backend to use: the selection rule, in one place.

Order (never a silent fallback):

1. the explicit argument or ``--backend`` flag;
2. the ``backend`` field of the configuration;
3. the ``PTYCHOPINN_BACKEND`` environment variable;
4. the only installed backend;
5. ``tensorflow`` when several are installed and it is one of them;
6. otherwise an error that lists what is installed and what to install.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from ptychopinn.errors import BackendError, BackendNotInstalledError
from ptychopinn.plugins.names import DEFAULT_BACKEND, KNOWN_BACKENDS, canonical_name

__all__ = ["ENV_VAR", "select_backend_name"]

ENV_VAR = "PTYCHOPINN_BACKEND"


def select_backend_name(
    explicit: str | None = None,
    *,
    config_backend: str | None = None,
    env: Mapping[str, str] | None = None,
    installed: Sequence[str] | None = None,
) -> str:
    """Resolve the backend name to use (canonical, aliases resolved); imports nothing.

    Parameters
    ----------
    explicit : str, optional
        Backend named by the caller (argument or ``--backend``).
    config_backend : str, optional
        The configuration's ``backend`` field.
    env : mapping, optional
        Environment to read ``PTYCHOPINN_BACKEND`` from (default ``os.environ``).
    installed : sequence of str, optional
        Installed backend names (default: entry-point metadata, minus disabled ones).

    Returns
    -------
    str
        Canonical backend name. Whether it is installed is checked by ``get_backend``.

    Raises
    ------
    BackendNotInstalledError
        No backend installed: the message gives the install commands.
    BackendError
        Several backends installed, none of them ``tensorflow``, and nothing selects one.
    """
    from ptychopinn.plugins.registry import installed_backends

    environ = os.environ if env is None else env
    for candidate in (explicit, config_backend, environ.get(ENV_VAR)):
        if candidate is not None and str(candidate).strip():
            return canonical_name(str(candidate))
    installed = sorted(installed) if installed is not None else installed_backends()
    if len(installed) == 1:
        return installed[0]
    if DEFAULT_BACKEND in installed:
        return DEFAULT_BACKEND
    commands = " or ".join(f"pip install {dist} ({name})" for name, dist in KNOWN_BACKENDS.items())
    if not installed:
        raise BackendNotInstalledError(
            f"No PtychoPINN backend is installed, so none can be selected. Install one: {commands}.",
            backend=DEFAULT_BACKEND,
            distribution=KNOWN_BACKENDS[DEFAULT_BACKEND],
        )
    raise BackendError(
        f"Several backends are installed ({', '.join(installed)}) and none is selected: pass --backend NAME "
        f"(backend= in Python), set 'backend' in the configuration, or set {ENV_VAR}."
    )

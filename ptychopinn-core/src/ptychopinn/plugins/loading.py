"""Loading one backend's plugin: bounded import, hook validation, API version and capabilities.

Called by :func:`ptychopinn.plugins.registry.get_backend`. The order matters: the declared
backend API version is checked before pluggy's check of unknown hooks, so that a 1.x plugin
(with ``ptychopinn_save``/``load``/``infer``) gets the version error and the upgrade command,
not a list of hooks it does not know.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ptychopinn.errors import BackendIncompatibleError, BackendLoadError

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.plugins.backend import Backend
    from ptychopinn.plugins.info import BackendInfo
    from ptychopinn.plugins.registry import BackendEntry

__all__ = ["REMOVED_HOOKS", "check_api_version", "check_capabilities", "load_entry"]

REMOVED_HOOKS: tuple[str, ...] = ("ptychopinn_save", "ptychopinn_load", "ptychopinn_infer", "ptychopinn_reassemble")
"""Hooks of backend API 1.x that API 2.0 removed (core saves/loads bundles, batches and stitches)."""

_CORE_UPGRADE = "pip install -U ptychopinn-core"


def load_entry(entry: BackendEntry) -> Backend:
    """Import ``entry``'s plugin (bounded), validate it and return its :class:`Backend` handle.

    Raises
    ------
    BackendLoadError
        The import hangs, fails or exits; ``ptychopinn_backend_info`` fails or misdescribes it.
    BackendIncompatibleError
        Another major backend API (names both versions and the upgrade command), hook
        signatures that do not match, or a declared capability without its hook.
    """
    import pluggy

    from ptychopinn.plugins.backend import Backend
    from ptychopinn.plugins.hookspecs import BackendSpec, PROJECT_NAME
    from ptychopinn.plugins.info import BackendInfo
    from ptychopinn.plugins.isolation import import_timeout_s, load_bounded

    try:
        module = load_bounded(entry.entry_point, timeout_s=import_timeout_s())
    except TimeoutError as exc:
        raise BackendLoadError(
            f"Backend '{entry.name}' ({entry.label}) did not finish importing its plugin module "
            f"'{entry.value}' within {import_timeout_s():g} s (PTYCHOPINN_PLUGIN_TIMEOUT); it hangs at import. "
            f"Reinstall or upgrade {entry.distribution or 'it'}, or hide it with "
            f"PTYCHOPINN_DISABLE_BACKENDS={entry.name}."
        ) from exc
    except BaseException as exc:  # SystemExit / KeyboardInterrupt raised by a plugin's import are its failure
        from ptychopinn._signals import interrupted_by

        if isinstance(exc, KeyboardInterrupt) and interrupted_by() is not None:
            raise  # the user pressed Ctrl-C while the plugin was importing
        raise BackendLoadError(
            f"Backend '{entry.name}' ({entry.label}) is installed but failed to import: "
            f"{type(exc).__name__}: {exc}. Reinstall or upgrade {entry.distribution or 'it'}; "
            f"'ptychopinn backends --check' shows the status of every backend."
        ) from exc

    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(BackendSpec)
    try:
        pm.register(module, name=entry.name)
    except pluggy.PluginValidationError as exc:
        raise _signature_error(entry, exc) from exc
    if not pm.hook.ptychopinn_backend_info.get_hookimpls():
        raise BackendIncompatibleError(
            f"Backend '{entry.name}' ({entry.label}) does not implement the required hook ptychopinn_backend_info."
        )
    try:
        info = pm.hook.ptychopinn_backend_info()
    except BaseException as exc:
        raise BackendLoadError(
            f"Backend '{entry.name}' ({entry.label}): ptychopinn_backend_info() failed: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(info, BackendInfo):
        raise BackendLoadError(
            f"Backend '{entry.name}' ({entry.label}): ptychopinn_backend_info() must return a "
            f"ptychopinn.plugins.BackendInfo, got {type(info).__name__}"
        )
    if info.name != entry.name:
        raise BackendLoadError(
            f"Backend entry point '{entry.name}' of {entry.label} describes itself as '{info.name}'; "
            f"the entry-point name and BackendInfo.name must be equal."
        )
    legacy = [h for h in REMOVED_HOOKS if hasattr(module, h)]
    check_api_version(entry, info.api_version, legacy=legacy)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise _signature_error(entry, exc, legacy=legacy) from exc
    check_capabilities(entry, info, implemented=lambda hook: bool(getattr(pm.hook, hook).get_hookimpls()))
    return Backend(info=info, plugin=module, plugin_manager=pm, distribution=entry.distribution,
                   version=entry.version, entry_point=entry.value)


def _signature_error(
    entry: BackendEntry, exc: Exception, *, legacy: list[str] | None = None
) -> BackendIncompatibleError:
    from ptychopinn.plugins.hookspecs import BACKEND_API_VERSION

    api = f"{BACKEND_API_VERSION[0]}.{BACKEND_API_VERSION[1]}"
    why = (f" It implements hook(s) {', '.join(legacy)} of backend API 1.x, which API {api} removed (core saves, "
           f"loads, batches and stitches)." if legacy else "")
    return BackendIncompatibleError(
        f"Backend '{entry.name}' ({entry.label}) does not match the hook specification of ptychopinn-core "
        f"(backend API {api}): {exc}.{why} Upgrade both: pip install -U ptychopinn-core "
        f"{entry.distribution or ''}".rstrip()
    )


def check_api_version(entry: BackendEntry, declared: object, *, legacy: list[str] | tuple[str, ...] = ()) -> None:
    """Raise :class:`BackendIncompatibleError` unless ``declared`` is (2, minor <= core's minor)."""
    from ptychopinn._version import __version__ as core_version
    from ptychopinn.plugins.hookspecs import BACKEND_API_VERSION as core

    if (
        not isinstance(declared, tuple)
        or len(declared) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in declared)
    ):
        raise BackendIncompatibleError(
            f"Backend '{entry.name}' ({entry.label}) declares backend API version {declared!r}; "
            f"expected a (major, minor) tuple of ints."
        )
    major, minor = declared
    if major == core[0] and minor <= core[1]:
        return
    if (major, minor) > core:
        fix = f"{_CORE_UPGRADE} (or install an older {entry.distribution or 'backend'})"
    else:
        fix = f"pip install -U {entry.distribution or 'the backend'}"
    raise BackendIncompatibleError(
        f"Backend '{entry.name}' ({entry.label}) implements backend API {major}.{minor}; ptychopinn-core "
        f"{core_version} supports backend API {core[0]}.0 to {core[0]}.{core[1]}. Fix: {fix}."
    )


def check_capabilities(entry: BackendEntry, info: BackendInfo, *, implemented: object) -> None:
    """Raise :class:`BackendIncompatibleError` unless every declared capability is known and has its hook."""
    from ptychopinn.plugins.hookspecs import CAPABILITY_HOOKS

    caps = info.capabilities
    if not isinstance(caps, (frozenset, set)) or not all(isinstance(c, str) for c in caps):
        raise BackendIncompatibleError(
            f"Backend '{entry.name}' ({entry.label}): BackendInfo.capabilities must be a frozenset of strings, "
            f"got {caps!r}."
        )
    unknown = sorted(set(caps) - set(CAPABILITY_HOOKS))
    if unknown:
        raise BackendIncompatibleError(
            f"Backend '{entry.name}' ({entry.label}) declares unknown capabilit{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(unknown)}; known: {', '.join(CAPABILITY_HOOKS)}. Upgrade ptychopinn-core "
            f"({_CORE_UPGRADE}) or fix the backend."
        )
    assert callable(implemented)
    missing = [f"{cap} needs {CAPABILITY_HOOKS[cap]}" for cap in sorted(caps) if not implemented(CAPABILITY_HOOKS[cap])]
    if missing:
        raise BackendIncompatibleError(
            f"Backend '{entry.name}' ({entry.label}) declares capabilities it does not implement: "
            f"{'; '.join(missing)}. This is a bug in {entry.distribution or 'the backend'}."
        )

"""Contract tier: entry point, metadata, capabilities <-> hooks, a framework-free plugin module.

These checks read the plugin through its entry point themselves (not through
:func:`ptychopinn.get_backend`), so they report precisely even for a plugin that core refuses
to load.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata

from ptychopinn.plugins.info import BackendInfo
from ptychopinn.testing.report import ConformanceFailure

__all__ = [
    "FRAMEWORK_MODULES",
    "PluginView",
    "check_capabilities_match_hooks",
    "check_entry_point",
    "check_metadata",
    "check_plugin_imports_no_framework",
    "plugin_view",
]

FRAMEWORK_MODULES: tuple[str, ...] = (
    "tensorflow", "keras", "torch", "lightning", "pytorch_lightning", "jax", "flax", "onnxruntime", "onnx",
)
"""Top-level modules a plugin module must not import (checked in a fresh interpreter)."""


@dataclass(frozen=True, kw_only=True)
class PluginView:
    """A backend's plugin as its entry point declares it, registered with a plugin manager of the kit's own."""

    name: str
    """Entry-point name."""

    value: str
    """Entry-point value (``module`` or ``module:object``)."""

    distribution: str | None
    """Distribution that provides it."""

    info: BackendInfo
    """What ``ptychopinn_backend_info`` returned."""

    hooks: frozenset[str]
    """Hooks the plugin implements."""


def _entry_point(name: str) -> metadata.EntryPoint:
    from ptychopinn.plugins.names import ENTRY_POINT_GROUP

    found = [ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        raise ConformanceFailure(
            f"no entry point {name!r} in group {ENTRY_POINT_GROUP!r}: install the backend's distribution "
            f"(pip install -e .) and register its plugin module under that group"
        )
    if len(found) > 1:
        raise ConformanceFailure(f"entry point {name!r} is provided {len(found)} times: {[ep.value for ep in found]}")
    return found[0]


def plugin_view(name: str) -> PluginView:
    """Load backend ``name``'s plugin module through its entry point and list its hooks.

    Raises
    ------
    ConformanceFailure
        No such entry point, a hook signature pluggy refuses, or no usable ``ptychopinn_backend_info``.
    """
    import pluggy

    from ptychopinn.plugins.hookspecs import PROJECT_NAME, BackendSpec

    ep = _entry_point(name)
    plugin = ep.load()
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(BackendSpec)
    try:
        pm.register(plugin, name=name)
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConformanceFailure(
            f"backend {name!r}: a hook does not match ptychopinn.plugins.BackendSpec: {exc}"
        ) from exc
    hooks = frozenset(h for h in dir(pm.hook) if h.startswith("ptychopinn_") and getattr(pm.hook, h).get_hookimpls())
    if "ptychopinn_backend_info" not in hooks:
        raise ConformanceFailure(f"backend {name!r} does not implement the required hook ptychopinn_backend_info")
    info = pm.hook.ptychopinn_backend_info()
    if not isinstance(info, BackendInfo):
        raise ConformanceFailure(
            f"backend {name!r}: ptychopinn_backend_info returned {type(info).__name__}, expected BackendInfo"
        )
    dist = getattr(ep, "dist", None)
    return PluginView(name=name, value=ep.value, distribution=None if dist is None else dist.name, info=info,
                      hooks=hooks)


def check_entry_point(name: str) -> None:
    """The backend is registered under ``ptychopinn.backends`` by an installed distribution."""
    ep = _entry_point(name)
    if getattr(ep, "dist", None) is None:
        raise ConformanceFailure(f"entry point {name!r} has no distribution metadata; install the backend with pip")


def check_metadata(view: PluginView) -> None:
    """``BackendInfo``: name = entry-point name (lower case, no spaces), API version (2, x <= core), version."""
    from ptychopinn.plugins.hookspecs import BACKEND_API_VERSION

    info = view.info
    if info.name != view.name:
        raise ConformanceFailure(f"BackendInfo.name is {info.name!r}, expected the entry-point name {view.name!r}")
    if info.name != info.name.strip().lower() or " " in info.name:
        raise ConformanceFailure(f"BackendInfo.name {info.name!r} must be lower case without spaces")
    api = info.api_version
    if not (isinstance(api, tuple) and len(api) == 2 and all(isinstance(v, int) for v in api)):
        raise ConformanceFailure(f"BackendInfo.api_version is {api!r}, expected a (major, minor) tuple of ints")
    if api[0] != BACKEND_API_VERSION[0] or api[1] > BACKEND_API_VERSION[1]:
        raise ConformanceFailure(
            f"BackendInfo.api_version is {api}, expected ({BACKEND_API_VERSION[0]}, minor <= "
            f"{BACKEND_API_VERSION[1]}) for this ptychopinn-core"
        )
    if not (isinstance(info.version, str) and info.version):
        raise ConformanceFailure(f"BackendInfo.version is {info.version!r}, expected the distribution's version string")


def check_capabilities_match_hooks(view: PluginView) -> None:
    """Each declared capability has its hook and each capability hook implemented is declared.

    Raises
    ------
    ConformanceFailure
        Naming the capability and the hook, e.g. ``declares capability 'export' but does not
        implement ptychopinn_export``.
    """
    from ptychopinn.plugins.hookspecs import CAPABILITY_HOOKS

    caps = view.info.capabilities
    if not isinstance(caps, frozenset) or not all(isinstance(c, str) for c in caps):
        raise ConformanceFailure(f"BackendInfo.capabilities is {caps!r}, expected a frozenset of strings")
    problems = [f"declares unknown capability {c!r} (known: {', '.join(CAPABILITY_HOOKS)})"
                for c in sorted(caps - set(CAPABILITY_HOOKS))]
    problems += [f"declares capability {c!r} but does not implement {CAPABILITY_HOOKS[c]}"
                 for c in sorted(caps & set(CAPABILITY_HOOKS)) if CAPABILITY_HOOKS[c] not in view.hooks]
    problems += [f"implements {hook} but does not declare capability {c!r}"
                 for c, hook in sorted(CAPABILITY_HOOKS.items()) if hook in view.hooks and c not in caps]
    if problems:
        raise ConformanceFailure(f"backend {view.name!r}: " + "; ".join(problems))


def check_plugin_imports_no_framework(view: PluginView, *, frameworks: tuple[str, ...] = FRAMEWORK_MODULES) -> None:
    """Importing the plugin module (and calling ``ptychopinn_backend_info``) in a fresh interpreter
    leaves every module of ``frameworks`` out of ``sys.modules``."""
    module = view.value.split(":")[0].strip()
    code = (
        "import importlib, json, sys\n"
        f"m = importlib.import_module({module!r})\n"
        f"print(json.dumps(sorted(f for f in {list(frameworks)!r} if f in sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise ConformanceFailure(
            f"importing plugin module {module!r} failed in a fresh interpreter: {proc.stderr[-2000:]}"
        )
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    if loaded:
        raise ConformanceFailure(
            f"importing plugin module {module!r} imported {', '.join(loaded)}: import the framework inside the hooks "
            f"(or in modules the hooks import), never at the plugin module's top level"
        )

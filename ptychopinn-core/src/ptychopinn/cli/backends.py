"""``ptychopinn backends``: the table of known and installed backends and their status."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "backends",
        help="list backends (name, distribution, version, API version, capabilities, status)",
        description="List known and installed backends from entry-point metadata; no plugin is imported. "
        "--check also loads each installed backend, each in a child process of its own with a timeout "
        "(PTYCHOPINN_PLUGIN_TIMEOUT, default 60 s), to report its API version and capabilities (train, infer, "
        "refine, physics_forward, export) or why it fails: a plugin that "
        "hangs, exits or crashes is reported as failing and never stops the listing.",
    )
    p.add_argument("--check", action="store_true", help="load every installed backend (isolated) and report errors")
    p.add_argument("--no-load", action="store_true", help="metadata only (the default; kept for compatibility)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def _rows(check: bool) -> list[dict[str, str]]:
    from ptychopinn._safety import printable
    from ptychopinn.plugins.registry import list_backends

    statuses = list_backends()
    checked: dict[str, dict[str, object]] = {}
    if check:
        from ptychopinn.plugins.isolation import check_backends_isolated

        checked = check_backends_isolated([s.name for s in statuses if s.installed and s.status == "available"])
    rows = []
    for s in statuses:
        status, error, api_version = s.status, s.error, s.api_version
        caps = sorted(s.capabilities) if s.capabilities is not None else None
        if s.name in checked:
            result = checked[s.name]
            status, error = str(result["status"]), (None if result["error"] is None else str(result["error"]))
            found = result.get("capabilities")
            caps = [str(c) for c in found] if isinstance(found, list) else None
            api = result["api"]
            api_version = (int(api[0]), int(api[1])) if isinstance(api, list) and len(api) == 2 else None  # type: ignore[arg-type]
        api_text = f"{api_version[0]}.{api_version[1]}" if api_version else "-"
        rows.append(
            {
                "name": printable(s.name, limit=60),
                "distribution": printable(s.distribution or "-", limit=60),
                "version": printable(s.version or "-", limit=40),
                "api": api_text,
                "capabilities": printable(",".join(caps), limit=80) if caps is not None else "-",
                "status": status,
                "error": printable(" ".join(str(error or "").split()), limit=400),
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    rows = _rows(check=args.check)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    headers = {"name": "NAME", "distribution": "DISTRIBUTION", "version": "VERSION", "api": "API",
               "capabilities": "CAPABILITIES", "status": "STATUS", "error": "ERROR / HINT"}
    widths = {k: max(len(headers[k]), *(len(r[k]) for r in rows)) for k in headers if k != "error"}
    def line(r: dict[str, str]) -> str:
        return "  ".join(r[k].ljust(widths[k]) for k in widths) + "  " + r["error"]
    print(line(headers).rstrip())
    for r in rows:
        print(line(r).rstrip())
    if not any(r["status"] in ("available", "loaded") for r in rows):
        print("\nNo backend is installed. Install one: pip install ptychopinn-tf  or  pip install ptychopinn-torch")
    elif not args.check:
        print("\nCapabilities are known once a backend is loaded: 'ptychopinn backends --check' loads each.")
    return 0

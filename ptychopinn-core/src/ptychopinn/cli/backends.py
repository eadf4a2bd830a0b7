"""``ptychopinn backends``: the table of known and installed backends and their status."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "backends",
        help="list backends (name, distribution, version, API version, status)",
        description="List known and installed backends. Each installed backend's plugin module is imported "
        "(plugin modules import no ML framework) to report its API version and any error.",
    )
    p.add_argument("--no-load", action="store_true", help="read entry-point metadata only; import nothing")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def _rows(load: bool) -> list[dict[str, str]]:
    from ptychopinn.errors import PtychoPINNError
    from ptychopinn.plugins.registry import get_backend, list_backends

    if load:
        for status in list_backends():
            if status.installed and status.status == "available":
                try:
                    get_backend(status.name)
                except PtychoPINNError:
                    pass  # recorded by the registry and shown below
    rows = []
    for s in list_backends():
        api = f"{s.api_version[0]}.{s.api_version[1]}" if s.api_version else "-"
        rows.append(
            {
                "name": s.name,
                "distribution": s.distribution or "-",
                "version": s.version or "-",
                "api": api,
                "status": s.status,
                "error": " ".join((s.error or "").split()),
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    rows = _rows(load=not args.no_load)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    headers = {"name": "NAME", "distribution": "DISTRIBUTION", "version": "VERSION", "api": "API",
               "status": "STATUS", "error": "ERROR / HINT"}
    widths = {k: max(len(headers[k]), *(len(r[k]) for r in rows)) for k in headers if k != "error"}
    def line(r: dict[str, str]) -> str:
        return "  ".join(r[k].ljust(widths[k]) for k in widths) + "  " + r["error"]
    print(line(headers).rstrip())
    for r in rows:
        print(line(r).rstrip())
    if not any(r["status"] in ("available", "loaded") for r in rows):
        print("\nNo backend is installed. Install one: pip install ptychopinn-tf  or  pip install ptychopinn-torch")
    return 0

"""``ptychopinn config``: migrate a published-PtychoPINN configuration, validate a file, print defaults."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("config", help="migrate, validate or print configuration files")
    sub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    m = sub.add_parser(
        "migrate",
        help="convert a configuration of the published PtychoPINN (YAML, legacy names) to this schema",
        description="Reads FILE (YAML or TOML written for the published PtychoPINN: object.big, probe.trainable, "
        "n_images, nepochs...), writes the equivalent TOML and reports every key that was renamed, converted or "
        "dropped.",
    )
    m.add_argument("file", type=Path)
    m.add_argument("-o", "--output", type=Path, help="write the TOML here (default: print it)")
    m.set_defaults(func=run)
    v = sub.add_parser("validate", help="check a configuration file (unknown keys and bad values are errors)")
    v.add_argument("file", type=Path)
    v.set_defaults(func=run)
    d = sub.add_parser("defaults", help="print a TOML file with every field at its default")
    d.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ptychopinn.config.files import RunConfig, config_to_mapping, dump_toml, load_config, read_config_mapping

    if args.config_command == "defaults":
        print(dump_toml(config_to_mapping(RunConfig()), header="PtychoPINN configuration (defaults)"), end="")
        return 0
    if args.config_command == "validate":
        cfg = load_config(args.file)
        print(f"{args.file}: valid")
        print(dump_toml(config_to_mapping(cfg, only_changed=True)), end="")
        return 0
    from ptychopinn._safety import printable
    from ptychopinn.config.migrate import migrate_mapping

    if args.output is not None:
        from ptychopinn.cli._outputs import prepare_outputs

        if args.output.is_dir():
            from ptychopinn.errors import OutputError

            raise OutputError(f"{args.output}: is a directory; -o names the TOML file to write")
        prepare_outputs(args.output.parent, (args.output.name,))  # refuses devices such as /dev/null too
    report = migrate_mapping(read_config_mapping(args.file), source=str(args.file))
    text = dump_toml(config_to_mapping(report.config, only_changed=True),
                     header=f"Migrated from {args.file.name} by 'ptychopinn config migrate'.")
    print(f"migration report for {args.file}:", file=sys.stderr)
    for line in report.lines():
        print(f"  {printable(line, limit=1000)}", file=sys.stderr)
    if args.output is None:
        print(text, end="")
    else:
        from ptychopinn._atomic import atomic_write

        with atomic_write(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0

"""The ``ptychopinn`` command line (``ptychopinn.cli.main:main``).

Each command is a module with ``add_parser(subparsers)`` and ``run(args) -> int``; heavy
imports happen inside ``run``.
"""

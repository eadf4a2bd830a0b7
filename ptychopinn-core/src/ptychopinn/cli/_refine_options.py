"""Command-line options of the refinement stage (``reconstruct``, ``demo``): one definition."""

from __future__ import annotations

import argparse
import dataclasses

from ptychopinn.config.refinement import RefinementConfig

__all__ = ["add_refinement_options", "refinement_from_args"]


def add_refinement_options(parser: argparse.ArgumentParser) -> None:
    """``--refine``, ``--refine-probe``, ``--refine-positions``, ``--refine-iterations``, ``--no-refine``."""
    group = parser.add_argument_group("refinement (Poisson maximum likelihood after the network)")
    group.add_argument("--refine", action="store_true", default=None,
                       help="refine the object against the measured patterns (inference.refinement.enabled)")
    group.add_argument("--no-refine", dest="refine", action="store_false", help="network only")
    group.add_argument("--refine-probe", action="store_true", default=None,
                       help="also refine the probe (implies --refine)")
    group.add_argument("--refine-positions", action="store_true", default=None,
                       help="also refine the scan positions, sub-pixel, within --max-position-shift (implies --refine)")
    group.add_argument("--refine-iterations", type=int, metavar="N",
                       help="inference.refinement.max_iterations (the held-out rule usually stops earlier)")
    group.add_argument("--max-position-shift", type=float, metavar="PX",
                       help="inference.refinement.max_position_shift_px")


def refinement_from_args(args: argparse.Namespace, base: RefinementConfig) -> RefinementConfig | None:
    """``base`` with the flags the user gave, or None when none was given."""
    given: dict[str, object] = {}
    if args.refine is not None:
        given["enabled"] = bool(args.refine)
    if args.refine_probe:
        given.update(enabled=True, refine_probe=True)
    if args.refine_positions:
        given.update(enabled=True, refine_positions=True)
    if args.refine_iterations is not None:
        given["max_iterations"] = args.refine_iterations
    if args.max_position_shift is not None:
        given["max_position_shift_px"] = args.max_position_shift
    if not given:
        return None
    from ptychopinn.errors import ConfigError

    try:
        return dataclasses.replace(base, **given)  # type: ignore[arg-type]
    except ConfigError as exc:
        raise ConfigError(f"command-line option: {exc}") from exc

"""The network architectures, owned by core and built by every backend (``docs/architecture-model.md``).

A :class:`~ptychopinn.config.ModelConfig` names an architecture (``published`` or ``fast``);
:func:`architecture_graph` turns it into a framework-neutral :class:`Graph` that each backend
interprets. Weight names, shapes, initialisation, FLOP counts and the numpy reference live
here once.
"""

from ptychopinn.architecture.graph import ACTIVATIONS, OPS, Graph, GraphBuilder, Node
from ptychopinn.architecture.reference import reference_predict, run_graph
from ptychopinn.architecture.spec import (
    LOG_SCALE,
    ArchitectureCost,
    architecture_cost,
    architecture_graph,
    expected_shapes,
    init_weights,
    validate_weights,
)

__all__ = [
    "ACTIVATIONS",
    "LOG_SCALE",
    "OPS",
    "ArchitectureCost",
    "Graph",
    "GraphBuilder",
    "Node",
    "architecture_cost",
    "architecture_graph",
    "expected_shapes",
    "init_weights",
    "reference_predict",
    "run_graph",
    "validate_weights",
]

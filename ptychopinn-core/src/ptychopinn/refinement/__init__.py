"""Physics refinement after the network and data consistency (numpy reference; backends may
provide the gradients through the ``ptychopinn_refinement_operator`` hook).

- :func:`refine`: object (optionally probe and positions) by Poisson maximum likelihood,
  stopped by held-out patterns (:mod:`ptychopinn.refinement.engine`);
- :func:`initial_state` / :func:`to_stitched`: from a scan and a stitched object to a
  refinement problem and back (:mod:`ptychopinn.refinement.setup`);
- :func:`data_consistency`: per-pattern Poisson deviance and amplitude error.
"""

from ptychopinn.refinement.consistency import DataConsistency, data_consistency
from ptychopinn.refinement.engine import RefinementOperator, RefinementReport, RefinementResult, refine
from ptychopinn.refinement.operator import NumpyRefinementOperator, robust_half_deviance
from ptychopinn.refinement.problem import BatchGradients, RefinementProblem, RefinementState
from ptychopinn.refinement.setup import initial_state, refinement_canvas, to_stitched

__all__ = [
    "BatchGradients",
    "DataConsistency",
    "NumpyRefinementOperator",
    "RefinementOperator",
    "RefinementProblem",
    "RefinementReport",
    "RefinementResult",
    "RefinementState",
    "data_consistency",
    "initial_state",
    "refine",
    "refinement_canvas",
    "robust_half_deviance",
    "to_stitched",
]

"""``physics_forward`` tier: the backend's forward model against core's numpy oracle.

Two checks:

- **amplitudes**: ``physics_forward`` equals :func:`ptychopinn.physics.forward_amplitude` for
  gridsize 1 and 2, with and without ``object_big``, with a non-zero log scale.
- **adjointness of the linear part** (deepinv-style operator test). The linear part of the
  forward model is ``A x = far_field(probe * x)`` (probe multiply + centred unitary FFT; its
  adjoint is ``A^H y = conj(probe) * inverse_far_field(y)``). A backend exposes only the
  amplitudes ``|A_b x|``, so the kit recovers ``A_b`` from them with the polarisation identity

  ``A_b x * conj(A_b r) = (|A_b(x+r)|^2 - |A_b(x-r)|^2 + i |A_b(x+ir)|^2 - i |A_b(x-ir)|^2) / 4``

  against a reference object ``r`` (a delta under the probe's maximum, whose far field has no
  zero), fixes the unobservable per-pixel phase with the oracle's ``A r`` and tests
  ``<A_b x, y> = <x, A^H y>`` with the oracle's adjoint. This holds exactly when ``A_b`` equals
  the oracle up to a detector-pixel phase (which no measurement sees) and fails for a mirrored,
  transposed, un-shifted or conjugated FFT, a conjugated probe or an anti-linear model.
"""

from __future__ import annotations

import numpy as np

from ptychopinn.plugins.backend import Backend
from ptychopinn.testing.report import ConformanceFailure

__all__ = ["check_forward_adjointness", "check_physics_forward_matches_oracle", "recover_linear_part"]


def _probe(N: int) -> np.ndarray:
    from ptychopinn.physics import normalise_probe
    from ptychopinn.testing.synthetic import synthetic_scan

    return normalise_probe(synthetic_scan(N=N, n_side=3, step_px=5, seed=2).probe, reference_transmission=0.6)


def _random_patches(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return (rng.uniform(0.2, 1.0, shape) * np.exp(1j * rng.uniform(-2, 2, shape))).astype(np.complex64)


def _forward(backend: Backend, obj: np.ndarray, probe: np.ndarray, offsets: np.ndarray | None, *,
             object_big: bool, log_scale: float) -> np.ndarray:
    got = backend.physics_forward(obj, probe, offsets, object_big=object_big, log_scale=log_scale)
    if got is None:
        raise ConformanceFailure(
            f"backend '{backend.name}' declares capability 'physics_forward' but ptychopinn_physics_forward "
            f"returned None"
        )
    return np.asarray(got)


def check_physics_forward_matches_oracle(backend: Backend, gridsize: int, *, N: int = 64, rtol: float = 1e-5) -> None:
    """``physics_forward`` equals ``forward_amplitude`` (relative ``rtol`` of the largest amplitude)."""
    from ptychopinn.grouping import group_neighbours
    from ptychopinn.physics import forward_amplitude
    from ptychopinn.testing.synthetic import synthetic_scan

    scan = synthetic_scan(N=N, n_side=3, step_px=5, seed=2)
    groups = group_neighbours(scan.positions, gridsize=gridsize, seed=0)
    B, C = groups.indices.shape
    patches = _random_patches(np.random.default_rng(3), (B, C, N, N))
    probe = _probe(N)
    offsets = groups.offsets if C > 1 else None
    for object_big, log_scale in ((True, 0.0), (True, 0.3), (False, 0.0)):
        obj = patches if object_big or C == 1 else patches[:, :1]
        ref = forward_amplitude(obj, probe, offsets, object_big=object_big, log_scale=log_scale)
        got = _forward(backend, obj, probe, offsets, object_big=object_big, log_scale=log_scale)
        case = f"gridsize={gridsize}, object_big={object_big}, log_scale={log_scale}"
        if got.shape != ref.shape:
            raise ConformanceFailure(f"physics_forward returned shape {got.shape}, expected {ref.shape} ({case})")
        err = float(np.max(np.abs(got - ref)) / np.max(ref))
        if not err <= rtol:
            flips = {"mirrored rows": ref[..., ::-1, :], "mirrored columns": ref[..., :, ::-1],
                     "transposed": np.swapaxes(ref, -1, -2)}
            hint = [k for k, v in flips.items() if float(np.max(np.abs(got - v)) / np.max(ref)) <= rtol]
            raise ConformanceFailure(
                f"physics_forward differs from ptychopinn.physics.forward_amplitude ({case}): relative error {err:.3g} "
                f"> {rtol:g}" + (f"; it equals the oracle {hint[0]}" if hint else "")
                + " (conventions: docs/conventions.md — fftshift-ed unitary FFT, positions (x, y))"
            )


def recover_linear_part(backend: Backend, x: np.ndarray, probe: np.ndarray) -> np.ndarray:
    """The backend's ``A x`` (``x`` (K, N, N) complex), recovered from amplitudes, in the oracle's phase gauge.

    Returns
    -------
    (K, N, N) complex128
        Equal to ``far_field(probe * x)`` when the backend's linear part is the oracle's up to a
        per-pixel phase.
    """
    from ptychopinn.physics import far_field

    K, N, _ = x.shape
    p = np.asarray(probe, dtype=np.complex128)
    r = np.zeros((N, N), dtype=np.complex128)
    r[np.unravel_index(np.argmax(np.abs(p)), p.shape)] = 1.0
    scale = np.sqrt(np.mean(np.abs(far_field(p * x)) ** 2)) / np.mean(np.abs(far_field(p * r)))
    r *= scale  # |A r| comparable with |A x|: the polarisation differences keep their float32 precision
    ar = far_field(p * r)
    queries = np.concatenate([x + r, x - r, x + 1j * r, x - 1j * r]).astype(np.complex64)[:, None]
    amps = _forward(backend, queries, np.asarray(probe, dtype=np.complex64), None, object_big=True, log_scale=0.0)
    if amps.shape != queries.shape:
        raise ConformanceFailure(f"physics_forward returned shape {amps.shape}, expected {queries.shape} (gridsize 1)")
    power = (amps[:, 0].astype(np.float64) ** 2).reshape(4, K, N, N)
    cross = (power[0] - power[1] + 1j * (power[2] - power[3])) / 4  # A_b x * conj(A_b r)
    return cross * ar / np.abs(ar) ** 2


def check_forward_adjointness(backend: Backend, *, N: int = 64, rtol: float = 1e-4, seed: int = 7) -> None:
    """``<A_b x, y> = <x, A^H y>`` for the backend's linear part ``A_b`` and the oracle's adjoint ``A^H``.

    ``y = A x + noise``, so that the inner product is not small; relative error ``|lhs - rhs| / |rhs|``.
    """
    from ptychopinn.physics import far_field, inverse_far_field

    rng = np.random.default_rng(seed)
    probe = _probe(N)
    p = probe.astype(np.complex128)
    x = (rng.standard_normal((3, N, N)) + 1j * rng.standard_normal((3, N, N))).astype(np.complex64)
    x = x.astype(np.complex128)
    ax_ref = far_field(p * x)
    y = ax_ref + 0.5 * np.std(ax_ref) * (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape))
    ax = recover_linear_part(backend, x, probe)
    adjoint_y = np.conj(p) * inverse_far_field(y)
    errors = []
    for k in range(x.shape[0]):
        lhs = np.vdot(y[k], ax[k])  # <A_b x, y> = sum A_b x * conj(y)
        rhs = np.vdot(adjoint_y[k], x[k])  # <x, A^H y> = sum x * conj(A^H y)
        errors.append(abs(lhs - rhs) / abs(rhs))
    err = max(errors)
    if not err <= rtol:
        raise ConformanceFailure(
            f"physics_forward: the linear part (probe multiply + centred FFT) is not the adjoint of the oracle's "
            f"conj(probe) * inverse_far_field: |<A x, y> - <x, A^H y>| / |<x, A^H y>| = {err:.3g} > {rtol:g}; the "
            f"backend's FFT or probe convention differs (mirrored, transposed, missing fftshift, conjugated probe "
            f"or object)"
        )

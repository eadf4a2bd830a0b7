"""Outcomes of conformance checks: the failure type and the report of :func:`check_backend`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CheckResult", "ConformanceFailure", "ConformanceReport"]


class ConformanceFailure(AssertionError):
    """A backend does not conform; the message says which check, what was expected and what was found.

    A subclass of :class:`AssertionError`, so pytest reports it as a plain test failure.
    """


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """One check of one backend."""

    tier: str
    """``contract``, ``infer``, ``train``, ``physics_forward``, ``refine`` or ``export``."""

    name: str
    """Check name (the pytest test name of :class:`~ptychopinn.testing.BackendConformance` without ``test_``)."""

    status: str
    """``passed``, ``failed`` or ``skipped`` (capability not declared)."""

    message: str = ""
    """Why it failed or was skipped."""


@dataclass(frozen=True, kw_only=True)
class ConformanceReport:
    """What :func:`ptychopinn.testing.check_backend` found."""

    backend: str
    """Canonical backend name."""

    capabilities: frozenset[str]
    """Capabilities the backend declares."""

    results: tuple[CheckResult, ...]
    """Every check, in the order run."""

    @property
    def ok(self) -> bool:
        """No check failed."""
        return not self.failures

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The failed checks."""
        return tuple(r for r in self.results if r.status == "failed")

    def raise_for_failures(self) -> None:
        """Raise :class:`ConformanceFailure` listing every failed check (no-op when all passed)."""
        if self.failures:
            lines = "\n".join(f"- [{r.tier}] {r.name}: {r.message}" for r in self.failures)
            n = len(self.failures)
            raise ConformanceFailure(f"backend '{self.backend}' fails {n} conformance check(s):\n{lines}")

    def summary(self) -> str:
        """One line per check: ``status tier name: message``."""
        return "\n".join(
            f"{r.status:7s} {r.tier:15s} {r.name}" + (f": {r.message}" if r.message else "") for r in self.results
        )

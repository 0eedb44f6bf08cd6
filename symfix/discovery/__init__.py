"""Discovery stage: convex certificates of the SI-vs-WI gap (cvxpy)."""

from ._certify import Certificate, SolverError, certify, orbit_dictionary

__all__ = ["certify", "Certificate", "SolverError", "orbit_dictionary"]

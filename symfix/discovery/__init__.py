"""Discovery stage: find the largest SI-supporting subspace from data, and convex certificates
of the SI-vs-WI gap (cvxpy)."""

from ._certify import Certificate, SolverError, certify, orbit_dictionary
from ._discover import Discovery, default_start, discover

__all__ = ["discover", "Discovery", "default_start", "certify", "Certificate", "SolverError", "orbit_dictionary"]

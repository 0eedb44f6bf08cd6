"""Discovery stage: find the largest SI-supporting subspace from data, and convex certificates
of the SI-vs-WI gap (cvxpy)."""

from ._certify import Certificate, SolverError, certify, check_consistent, orbit_dictionary
from ._discover import Discovery, default_start, discover
from ._settings import DiscoverySettings
from ._identify import Match, candidate_problems, identify
from ._rational import orbit_hull, rationalise

__all__ = [
    "discover",
    "Discovery",
    "DiscoverySettings",
    "default_start",
    "identify",
    "Match",
    "candidate_problems",
    "rationalise",
    "orbit_hull",
    "certify",
    "Certificate",
    "SolverError",
    "check_consistent",
    "orbit_dictionary",
]

"""Role ordering and the authenticated caller.

Roles are cumulative (`ROLES` is ordered): an operator can do everything a viewer can, an admin
everything an operator can. Keeping the order in one place means a route states only the lowest
role it needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fluxops.core.errors import InvalidInputError
from fluxops.security.ports import ROLES

_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}


def check_role(role: str, *, field: str = "role") -> str:
    """Return ``role`` if it is one of `ROLES`; otherwise raise `InvalidInputError` naming ``field``."""
    if role not in _RANK:
        raise InvalidInputError(
            f"{field} must be one of {', '.join(ROLES)}, got {role!r}",
            field=field,
            details={"allowed": list(ROLES)},
        )
    return role


def role_allows(have: str, need: str) -> bool:
    """True when a caller holding ``have`` may call something that requires ``need``."""
    return _RANK.get(have, -1) >= _RANK[check_role(need)]


def highest_role(candidates: Iterable[str]) -> str | None:
    """The most privileged known role among ``candidates`` (unknown names ignored), or None."""
    known = [c for c in candidates if c in _RANK]
    return max(known, key=_RANK.__getitem__) if known else None


def lower_role(role: str) -> str | None:
    """The role just below ``role`` (None for the lowest): used to prove a route refuses it."""
    rank = _RANK[check_role(role)]
    return ROLES[rank - 1] if rank > 0 else None


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``actor`` is what the audit log records (key id, OIDC subject, "local-admin")."""

    actor: str
    role: str
    method: str  # "api_key" | "bootstrap" | "oidc" | "auth_disabled"

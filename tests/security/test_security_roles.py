import pytest

from fluxops.core.errors import InvalidInputError
from fluxops.security.roles import highest_role, lower_role, role_allows


def test_roles_are_cumulative() -> None:
    assert role_allows("admin", "viewer") and role_allows("admin", "operator")
    assert role_allows("admin", "admin")
    assert role_allows("operator", "viewer") and role_allows("operator", "operator")
    assert not role_allows("operator", "admin")
    assert not role_allows("viewer", "operator")
    assert not role_allows("nobody", "viewer")


def test_required_role_must_exist() -> None:
    with pytest.raises(InvalidInputError):
        role_allows("admin", "superuser")


def test_highest_and_lower_role() -> None:
    assert highest_role(["viewer", "x", "operator"]) == "operator"
    assert highest_role(["x"]) is None
    assert lower_role("admin") == "operator"
    assert lower_role("operator") == "viewer"
    assert lower_role("viewer") is None

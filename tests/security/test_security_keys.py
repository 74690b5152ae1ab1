from datetime import UTC, datetime

import pytest

from fluxops.core.errors import InvalidInputError
from fluxops.security.keys import generate_api_key, hash_secret, secret_matches, split_api_key

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_generated_key_round_trips_and_stores_only_the_hash() -> None:
    issued = generate_api_key(role="operator", label=" ops laptop ", now=NOW)
    assert issued.token.startswith(issued.record.key_id + "_")
    key_id, secret = split_api_key(issued.token) or ("", "")
    assert key_id == issued.record.key_id
    assert issued.record.key_hash == hash_secret(secret)
    assert secret not in issued.record.key_hash
    assert secret_matches(secret, issued.record.key_hash)
    assert not secret_matches(secret + "x", issued.record.key_hash)
    assert issued.record.label == "ops laptop"
    assert issued.record.role == "operator"


def test_keys_are_unique() -> None:
    tokens = {generate_api_key(role="viewer", label="", now=NOW).token for _ in range(50)}
    assert len(tokens) == 50


@pytest.mark.parametrize("token", ["", "fx", "fx_", "fx_abc_", "fx__secret", "xx_abc_secret", "a.b.c"])
def test_split_rejects_non_keys(token: str) -> None:
    assert split_api_key(token) is None


def test_split_keeps_underscores_in_secret() -> None:
    assert split_api_key("fx_abc_se_cr_et") == ("fx_abc", "se_cr_et")


def test_unknown_role_is_rejected_naming_the_field() -> None:
    with pytest.raises(InvalidInputError) as err:
        generate_api_key(role="root", label="", now=NOW)
    assert err.value.field == "role"

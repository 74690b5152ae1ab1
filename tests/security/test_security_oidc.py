"""OIDC validation with real signatures: an RSA key pair made here, its public half as a JWKS file."""

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fluxops.core.errors import AuthError, CapabilityError, PermissionDeniedError
from fluxops.security.oidc import OidcConfig, OidcValidator

ISSUER = "https://idp.example.test/"
AUDIENCE = "fluxops"


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 300, **extra}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_validator(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> OidcValidator:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return OidcValidator(OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_source=path.as_uri()))


def _rs(key: rsa.RSAPrivateKey, claims: dict[str, Any], kid: str = "k1") -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_jwks_token_gives_highest_role(jwks_validator: OidcValidator, rsa_key: rsa.RSAPrivateKey) -> None:
    p = jwks_validator.validate(_rs(rsa_key, _claims(roles=["viewer", "operator", "other"])))
    assert (p.actor, p.role, p.method) == ("oidc:alice", "operator", "oidc")
    p = jwks_validator.validate(_rs(rsa_key, _claims(fluxops_role="admin")))
    assert p.role == "admin"


@pytest.mark.parametrize(
    "claims",
    [
        _claims(iss="https://evil.test/", roles=["admin"]),
        _claims(aud="someone-else", roles=["admin"]),
        _claims(exp=int(time.time()) - 3600, roles=["admin"]),
    ],
)
def test_wrong_issuer_audience_or_expired_is_401(
    jwks_validator: OidcValidator, rsa_key: rsa.RSAPrivateKey, claims: dict[str, Any]
) -> None:
    with pytest.raises(AuthError):
        jwks_validator.validate(_rs(rsa_key, claims))


def test_other_key_and_unknown_kid_are_refused(jwks_validator: OidcValidator) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(AuthError):
        jwks_validator.validate(_rs(other, _claims(roles=["admin"])))
    with pytest.raises(AuthError):
        jwks_validator.validate(_rs(other, _claims(roles=["admin"]), kid="k2"))


def test_algorithm_confusion_and_none_are_refused(jwks_validator: OidcValidator) -> None:
    hs = jwt.encode(_claims(roles=["admin"]), "g" * 32, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(AuthError):
        jwks_validator.validate(hs)
    unsigned = jwt.encode(_claims(roles=["admin"]), None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(AuthError):
        jwks_validator.validate(unsigned)


def test_token_without_role_is_403(jwks_validator: OidcValidator, rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(PermissionDeniedError):
        jwks_validator.validate(_rs(rsa_key, _claims(roles=["other"])))


def test_hs256_secret() -> None:
    v = OidcValidator(OidcConfig(issuer=ISSUER, audience=AUDIENCE, hs256_secret="s" * 32))
    token = jwt.encode(_claims(roles="viewer"), "s" * 32, algorithm="HS256")
    assert v.validate(token).role == "viewer"
    with pytest.raises(AuthError):
        v.validate(jwt.encode(_claims(roles="viewer"), "t" * 32, algorithm="HS256"))


def test_config_needs_a_key_source() -> None:
    with pytest.raises(CapabilityError):
        OidcConfig(issuer=ISSUER, audience=AUDIENCE)


def test_missing_jwks_file_is_401(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    v = OidcValidator(OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_source=str(tmp_path / "none.json")))
    with pytest.raises(AuthError):
        v.validate(_rs(rsa_key, _claims(roles=["admin"])))


def test_jwks_over_http(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    """The JWKS fetched from an identity provider's URL (a loopback HTTP server here)."""
    import functools
    import http.server
    import threading

    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        v = OidcValidator(OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_source=url))
        assert v.validate(_rs(rsa_key, _claims(roles=["operator"]))).role == "operator"
        with pytest.raises(AuthError):
            v.validate(_rs(rsa_key, _claims(roles=["admin"]), kid="unknown"))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

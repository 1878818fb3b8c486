"""Key material: stable key ids, private keys unreadable without the secret."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt import PyJWK

from auth.keys.material import KeyCipher, public_jwk, thumbprint


def test_the_key_id_is_the_rfc7638_thumbprint() -> None:
    # The example key of RFC 8037, appendix A.3.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_generated_key_signs_what_its_public_jwk_verifies() -> None:
    cipher = KeyCipher("a-long-enough-secret")
    new = cipher.generate()
    assert new.kid == thumbprint(new.public_jwk)
    private_key = cipher.decrypt(new.encrypted_pem)
    token = jwt.encode({"sub": "x"}, private_key, algorithm="EdDSA")
    public = PyJWK.from_dict({**new.public_jwk, "kid": new.kid})
    assert jwt.decode(token, public.key, algorithms=["EdDSA"]) == {"sub": "x"}


def test_the_stored_private_key_is_encrypted() -> None:
    new = KeyCipher("a-long-enough-secret").generate()
    assert b"ENCRYPTED PRIVATE KEY" in new.encrypted_pem
    with pytest.raises(ValueError, match="AUTH_SECRET_KEY"):
        KeyCipher("another-secret-entirely").decrypt(new.encrypted_pem)


def test_public_jwk_holds_no_private_part() -> None:
    assert set(public_jwk(Ed25519PrivateKey.generate())) == {"kty", "crv", "x"}

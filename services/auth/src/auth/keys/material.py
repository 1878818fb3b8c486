"""Ed25519 key material: generation, the public JWK and its id, encryption at rest."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ALGORITHM = "EdDSA"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(private_key: Ed25519PrivateKey) -> dict[str, str]:
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 thumbprint: a key id anyone can recompute from the public key."""
    required = {name: jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True)
class NewKey:
    kid: str
    public_jwk: dict[str, str]
    encrypted_pem: bytes


class KeyCipher:
    """Encrypts private keys with the service's secret before they reach the database.

    A database dump alone then cannot sign tokens: the secret lives only in
    the processes' environment.
    """

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def generate(self) -> NewKey:
        private_key = Ed25519PrivateKey.generate()
        jwk = public_jwk(private_key)
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._secret),
        )
        return NewKey(kid=thumbprint(jwk), public_jwk=jwk, encrypted_pem=pem)

    def decrypt(self, encrypted_pem: bytes) -> Ed25519PrivateKey:
        try:
            key = serialization.load_pem_private_key(encrypted_pem, password=self._secret)
        except ValueError as exc:
            raise ValueError(
                "cannot decrypt the signing key: AUTH_SECRET_KEY differs from the one it was "
                "stored with"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError(f"signing key is {type(key).__name__}, expected Ed25519")
        return key

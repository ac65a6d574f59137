"""SNS message signatures: an RSA key and a certificate for it, one per data store.

SNS signs every message it posts to an endpoint (SubscriptionConfirmation,
Notification, UnsubscribeConfirmation): the string to sign is ``name\\nvalue\\n`` for
each of a fixed list of fields, in that order, leaving out absent optional ones
(`string_to_sign`); SignatureVersion 1 signs it with SHA1withRSA, 2 with SHA256withRSA
(the topic attribute SignatureVersion chooses); Signature is the base64 of the
signature, and SigningCertURL names a PEM X.509 certificate holding the public key.
Here that certificate is served by this server (``GET /SimpleNotificationService-
<id>.pem``, services/sns/links.py), so a subscriber verifies a message exactly as the
AWS SDKs' message validators do, trusting this server's certificate instead of AWS's.

The key is made on first use and kept in the store, so every process and every restart
signs with the same key. Layout in `KEY_SPACE` (stored on disk — do not change):
    sns/signing-key -> JSON {"key": base64 of the PKCS#8 DER private key sealed by the
                       server's master key (services/kms), "cert": PEM certificate}
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from dynastore.engine.crypto import KEY_SPACE, Sealer
from dynastore.storage.base import Backend

RECORD_KEY = b"sns/signing-key"
KEY_BITS = 2048
CERT_DAYS = 3650
CERT_PREFIX = "/SimpleNotificationService-"
SIGNATURE_VERSIONS = ("1", "2")

# The fields signed for each message type, in the order SNS signs them.
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)


def string_to_sign(fields: Mapping[str, Any]) -> bytes:
    """SNS's canonical string to sign for a message (its JSON fields)."""
    names = NOTIFICATION_FIELDS if fields.get("Type") == "Notification" else CONFIRMATION_FIELDS
    text = "".join(f"{n}\n{fields[n]}\n" for n in names if fields.get(n) is not None)
    return text.encode()


def _hash(version: str) -> hashes.HashAlgorithm:
    return hashes.SHA256() if version == "2" else hashes.SHA1()


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The private key, its certificate (PEM) and the certificate's path on this server."""

    private: rsa.RSAPrivateKey
    certificate: bytes
    cert_path: str

    def sign(self, fields: Mapping[str, Any], version: str) -> str:
        signature = self.private.sign(string_to_sign(fields), padding.PKCS1v15(), _hash(version))
        return base64.b64encode(signature).decode()


class Signer:
    """Loads (or makes, once per store) the signing key on first use and caches it."""

    def __init__(self, backend: Backend, sealer: Sealer) -> None:
        self._backend = backend
        self._sealer = sealer
        self._key: SigningKey | None = None
        self._lock = threading.Lock()

    def key(self) -> SigningKey:
        key = self._key
        if key is not None:
            return key
        with self._lock:
            if self._key is None:
                self._key = self._load()
            return self._key

    def sign(self, fields: Mapping[str, Any], version: str) -> str:
        """The base64 Signature of a message for SignatureVersion `version`."""
        return self.key().sign(fields, version)

    def cert_path(self) -> str:
        return self.key().cert_path

    def certificate(self, path: str) -> bytes | None:
        """The PEM certificate when `path` is its path, else None."""
        if not path.startswith(CERT_PREFIX):
            return None
        key = self.key()
        return key.certificate if path == key.cert_path else None

    def _load(self) -> SigningKey:
        raw = self._backend.get(KEY_SPACE, RECORD_KEY)
        if raw is None:
            with self._backend.write() as tx:
                raw = tx.get(KEY_SPACE, RECORD_KEY)  # another process may have made it
                if raw is None:
                    raw = self._new_record()
                    tx.put(KEY_SPACE, RECORD_KEY, raw)
        record = orjson.loads(raw)
        der = self._sealer.unseal(base64.b64decode(record["key"]), RECORD_KEY)
        private = serialization.load_der_private_key(der, password=None)
        assert isinstance(private, rsa.RSAPrivateKey)
        certificate = str(record["cert"]).encode()
        return SigningKey(private, certificate, _cert_path(certificate))

    def _new_record(self) -> bytes:
        private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        der = private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        sealed = self._sealer.seal(der, RECORD_KEY)
        record = {"key": base64.b64encode(sealed).decode(), "cert": _certificate(private).decode()}
        return orjson.dumps(record)


def _certificate(private: rsa.RSAPrivateKey) -> bytes:
    """A self-signed certificate for `private`, as PEM."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Dynastore"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def _cert_path(certificate: bytes) -> str:
    return f"{CERT_PREFIX}{hashlib.sha256(certificate).hexdigest()[:32]}.pem"

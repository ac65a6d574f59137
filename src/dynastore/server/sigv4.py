"""AWS Signature Version 4 authentication for every service served on the port.

Checks run in the order AWS's front end (coral) runs them, so a request with several
problems gets the same first error as from AWS (dynalite recorded the order):

1. both an ``Authorization`` header and ``X-Amz-Algorithm`` query auth -> Invalid;
   neither, or a header not starting ``AWS4-`` -> MissingAuthenticationToken;
2. a pair without ``=``, missing Credential/Signature/SignedHeaders/date -> Incomplete;
3. date format (Incomplete), then clock skew beyond 15 minutes (Invalid);
4. ``host`` must be signed; the algorithm must be AWS4-HMAC-SHA256; the credential
   must have five elements; region, service, terminator and date of the scope;
5. unknown access key -> UnrecognizedClient; then the signature; then the session token.
   A temporary key (``ASIA...``) that STS issued is found in ``sessions`` when the
   credentials file does not name it; AWS reads such a key out of its session token, so
   the token is checked first (missing or wrong -> UnrecognizedClient), then the expiry
   (ExpiredToken), then the signature made with the session's secret.

Mode ``accept`` (the default without a credentials file, like DynamoDB Local) runs only
the shape checks that locate the caller (1, 2, algorithm, five-element credential, a
well-formed region) and never the clock, key or signature. Its account is the store's
account for a known key, else ``default_account`` for every key: one predictable
namespace is what local users expect, not one account per random test key.

Inputs are the request as it came off the wire: ``path`` must be the *raw*
(still percent-encoded) path, as clients sign the encoded path once more for every
service but S3; ``query`` is the raw query string; header names are lower-cased and
repeated headers are joined with ``,``.
"""

from __future__ import annotations

import calendar
import configparser
import datetime
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable
from urllib.parse import quote, unquote

from dynastore.errors import (
    ExpiredTokenException,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

__all__ = [
    "ALGORITHM",
    "SIGNING_SERVICES",
    "AccessKey",
    "Caller",
    "CredentialStore",
    "SessionTokenStore",
    "SigV4Verifier",
    "StaticCredentials",
    "TemporaryKey",
    "TemporaryKeys",
    "canonical_query",
    "canonical_uri",
    "load_credentials_file",
    "token_digest",
]

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# Signing names (credential-scope services) of everything served on the port. The
# dynamodbstreams API signs as "dynamodb" in botocore; some SDKs use its endpoint prefix.
SIGNING_SERVICES = frozenset(
    {
        "dynamodb",
        "streams.dynamodb",
        "kms",
        "sts",
        "sns",
        "iam",
        "monitoring",
        "application-autoscaling",
        "backup",
    }
)

MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600
_SIGNING_KEY_CACHE_SIZE = 1024

_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")
# We serve every region in one process, so any lower-case dashed name is a region.
_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_QUERY_AUTH_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "X-Amz-Date",
)

_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
_TOKEN_INVALID = "The security token included in the request is invalid"


# --- credentials ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent the request: the namespace (account, region) it acts in."""

    access_key: str
    account_id: str
    region: str
    service: str


class CredentialStore(Protocol):
    """Looks up a secret; ``account_id`` None means the server's default account."""

    def secret_for(self, access_key: str) -> tuple[str, str | None] | None: ...


@runtime_checkable
class SessionTokenStore(Protocol):
    """Optional: a store that also knows each key's session token (None: permanent key).

    When the store implements it, the ``X-Amz-Security-Token`` of a request must equal
    the key's token (and be absent for a permanent key), as AWS requires.
    """

    def session_token_for(self, access_key: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key: str
    secret_key: str
    account_id: str | None = None
    session_token: str | None = None


class StaticCredentials:
    """An immutable in-memory credential store (CredentialStore and SessionTokenStore)."""

    def __init__(self, keys: Iterable[AccessKey]) -> None:
        by_id: dict[str, AccessKey] = {}
        for key in keys:
            previous = by_id.get(key.access_key)
            if previous is not None and previous != key:
                raise ValueError(f"access key {key.access_key!r} is defined twice, differently")
            if key.account_id is not None and not _is_account_id(key.account_id):
                raise ValueError(f"account id of {key.access_key!r} must be 12 digits")
            by_id[key.access_key] = key
        self._keys: Mapping[str, AccessKey] = by_id

    def secret_for(self, access_key: str) -> tuple[str, str | None] | None:
        key = self._keys.get(access_key)
        return None if key is None else (key.secret_key, key.account_id)

    def session_token_for(self, access_key: str) -> str | None:
        key = self._keys.get(access_key)
        return None if key is None else key.session_token

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, access_key: object) -> bool:
        return access_key in self._keys


def token_digest(token: str) -> bytes:
    """What a store keeps of a session token: its SHA-256 (reading it gives no token)."""
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True, slots=True)
class TemporaryKey:
    """A role session's credentials as the verifier checks them."""

    secret_key: str
    token_sha256: bytes  # token_digest of the session token
    account_id: str
    expiration: float  # epoch seconds

    def token_matches(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token_digest(token), self.token_sha256)


class TemporaryKeys(Protocol):
    """The temporary keys issued by STS AssumeRole (services/sts/store.py)."""

    def temporary_key(self, access_key: str) -> TemporaryKey | None: ...


def load_credentials_file(path: str | Path) -> StaticCredentials:
    """Read an AWS shared-credentials style INI file.

    Every section (``[default]``, ``[profile x]``, any name) with ``aws_access_key_id``
    and ``aws_secret_access_key`` defines a key; ``account_id`` (or botocore's
    ``aws_account_id``) and ``aws_session_token`` are optional. Sections without a key id
    are ignored, so an AWS ``config`` file with region-only profiles also loads.
    """
    # No interpolation: secrets may contain '%'. No DEFAULT section: AWS files use a
    # lower-case [default] profile, and inherited keys would duplicate it everywhere.
    parser = configparser.ConfigParser(interpolation=None, default_section="\x00")
    with open(path, encoding="utf-8") as handle:
        parser.read_file(handle)
    keys: list[AccessKey] = []
    for name in parser.sections():
        section = parser[name]
        key_id = section.get("aws_access_key_id", "").strip()
        if not key_id:
            continue
        secret = section.get("aws_secret_access_key", "").strip()
        if not secret:
            raise ValueError(f"{path}: [{name}] has aws_access_key_id but no secret")
        account = (section.get("account_id") or section.get("aws_account_id") or "").strip()
        if account and not _is_account_id(account):
            raise ValueError(f"{path}: [{name}] account_id must be 12 digits, got {account!r}")
        token = section.get("aws_session_token", "").strip()
        keys.append(AccessKey(key_id, secret, account or None, token or None))
    return StaticCredentials(keys)


def _is_account_id(value: str) -> bool:
    return len(value) == 12 and value.isascii() and value.isdigit()


# --- canonical forms (the SigV4 spec) ------------------------------------------------------


def canonical_uri(raw_path: str) -> str:
    """Non-S3 canonical URI: drop empty and dot segments, then percent-encode once more."""
    if raw_path == "/" or not raw_path:
        return "/"
    segments: list[str] = []
    for segment in raw_path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    out = "/".join(segments)
    if raw_path[0] == "/":
        out = "/" + out
    if raw_path[-1] == "/" and segments:
        out += "/"
    return quote(out, safe="/~")


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """Decoded (name, value) pairs of a raw query string ('+' is a literal plus)."""
    pairs: list[tuple[str, str]] = []
    for part in raw_query.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def canonical_query(pairs: Iterable[tuple[str, str]], skip: str | None = None) -> str:
    """Pairs re-encoded the RFC 3986 way, sorted by encoded name, then encoded value."""
    encoded = sorted((_encode(name), _encode(value)) for name, value in pairs if name != skip)
    return "&".join(f"{name}={value}" for name, value in encoded)


def _encode(text: str) -> str:
    # Most names and values need no escaping; quote() costs ten times the check.
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="-_.~")


def _trim(value: str) -> str:
    # Trimall: strip, and collapse inner runs of whitespace to one space.
    if "  " in value or "\t" in value or value != value.strip():
        return " ".join(value.split())
    return value


def _format_time(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


# --- the verifier ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Presented:
    """The authentication material a request carries, before any check."""

    presigned: bool
    algorithm: str
    credential: str
    signed_headers: str
    signature: str
    amz_date: str  # ISO-8601 basic, or "" until the Date header is converted
    security_token: str | None
    expires: str | None
    query_pairs: list[tuple[str, str]] | None


_MAX_ACCEPTED = 1024


class SigV4Verifier:
    """Authenticates requests; one instance per server (it caches signing keys)."""

    def __init__(
        self,
        mode: Literal["verify", "accept"],
        credentials: CredentialStore | None,
        default_account: str,
        default_region: str,
        clock: Callable[[], float] = time.time,
        services: frozenset[str] = SIGNING_SERVICES,
        sessions: TemporaryKeys | None = None,
    ) -> None:
        if mode not in ("verify", "accept"):
            raise ValueError(f"mode must be 'verify' or 'accept', not {mode!r}")
        if mode == "verify" and credentials is None:
            raise ValueError("mode 'verify' needs a credential store")
        self.mode = mode
        self.default_account = default_account
        # Kept for callers that build a Caller without a request (workers, CLI).
        self.default_region = default_region
        self._credentials = credentials
        self._tokens = (
            credentials.session_token_for if isinstance(credentials, SessionTokenStore) else None
        )
        self._clock = clock
        self._services = services
        self._sessions = sessions
        # (secret, date, region, service) -> kSigning; bounded, oldest evicted first.
        self._signing_keys: dict[tuple[str, str, str, str], bytes] = {}
        # accept mode: Authorization header without its signature -> caller (bounded).
        self._accepted: dict[tuple[str, bool, str | None], Caller] = {}
        # Concurrent requests mostly carry the same X-Amz-Date; parse it once.
        self._last_date: tuple[str, float | None] = ("", None)

    def authenticate(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        expected_service: str | None = None,
    ) -> Caller:
        """Return the caller or raise the AWS error.

        ``expected_service`` (a signing name), when the router already knows the target,
        pins the scope's service; note botocore signs the Streams API as "dynamodb".
        Without it any name in ``services`` is accepted.
        """
        verify = self.mode == "verify"
        header = headers.get("authorization")
        cache_key = None
        if not verify and header and not query:
            # Accept mode checks only the header's shape, and a client's headers differ
            # per request only in the signature: remember the caller per header prefix.
            dated = "x-amz-date" in headers or "date" in headers
            cache_key = (header.partition("Signature=")[0], dated, expected_service)
            known = self._accepted.get(cache_key)
            if known is not None:
                return known
        presented = self._present(query, headers)
        if verify:
            self._check_date(presented, headers)
            if "host" not in presented.signed_headers.lower().split(";"):
                raise InvalidSignatureException(
                    "'Host' must be a 'SignedHeader' in the AWS Authorization."
                )
        if presented.algorithm != ALGORITHM:
            raise IncompleteSignatureException(
                f"Unsupported AWS 'algorithm': '{presented.algorithm}' (only {ALGORITHM} for now). "
            )
        scope = presented.credential.rstrip("/").split("/")
        if len(scope) != 5:
            raise IncompleteSignatureException(
                "Credential must have exactly 5 slash-delimited elements, "
                f"e.g. keyid/date/region/service/term, got '{presented.credential}'"
            )
        access_key, scope_date, region, service, terminator = scope
        problems = self._scope_problems(
            presented, scope_date, region, service, terminator, expected_service, verify
        )
        if problems:
            raise InvalidSignatureException(" ".join(problems))
        stored = self._credentials.secret_for(access_key) if self._credentials else None
        if not verify:
            account = stored[1] if stored is not None else None
            caller = Caller(access_key, account or self.default_account, region, service)
            if cache_key is not None and "Signature=" in (header or ""):
                if len(self._accepted) >= _MAX_ACCEPTED:
                    self._accepted.pop(next(iter(self._accepted)))
                self._accepted[cache_key] = caller
            return caller
        if stored is None:
            secret, account = self._session_secret(access_key, presented.security_token)
        else:
            secret, account = stored
        payload_hash = self._payload_hash(presented, headers, body)
        self._check_signature(
            presented, method, path, headers, payload_hash, secret, scope_date, region, service
        )
        if (
            stored is not None
            and self._tokens is not None
            and self._tokens(access_key) != presented.security_token
        ):
            raise UnrecognizedClientException(_TOKEN_INVALID)
        return Caller(access_key, account or self.default_account, region, service)

    def _session_secret(self, access_key: str, token: str | None) -> tuple[str, str]:
        """(secret, account) of a live session's key that `token` belongs to, or the error.

        Only ``ASIA`` keys reach the store: the credentials file's keys never do.
        """
        found = None
        if self._sessions is not None and access_key.startswith("ASIA"):
            found = self._sessions.temporary_key(access_key)
        if found is None:
            raise UnrecognizedClientException()
        if not found.token_matches(token):
            raise UnrecognizedClientException(_TOKEN_INVALID)
        if found.expiration <= self._clock():
            raise ExpiredTokenException()
        return found.secret_key, found.account_id

    # -- parsing --------------------------------------------------------------------------

    def _present(self, query: str, headers: Mapping[str, str]) -> _Presented:
        header = headers.get("authorization")
        pairs = _query_pairs(query) if query else None
        params = dict(pairs) if pairs and "X-Amz-" in query else {}
        by_query = "X-Amz-Algorithm" in params
        if header and by_query:
            raise InvalidSignatureException(
                "Found both 'X-Amz-Algorithm' as a query-string param "
                "and 'Authorization' as HTTP header."
            )
        if by_query:
            missing = "".join(
                f"AWS query-string parameters must include '{name}'. "
                for name in _QUERY_AUTH_PARAMS
                if not params.get(name)
            )
            if missing:
                raise IncompleteSignatureException(
                    missing + "Re-examine the query-string parameters."
                )
            return _Presented(
                presigned=True,
                algorithm=params["X-Amz-Algorithm"],
                credential=params["X-Amz-Credential"],
                signed_headers=params["X-Amz-SignedHeaders"],
                signature=params["X-Amz-Signature"],
                amz_date=params["X-Amz-Date"],
                security_token=params.get("X-Amz-Security-Token"),
                expires=params.get("X-Amz-Expires"),
                query_pairs=pairs,
            )
        if not header or not header.strip().startswith("AWS4-"):
            raise MissingAuthenticationTokenException()
        algorithm, _, rest = header.strip().partition(" ")
        fields: dict[str, str] = {}
        for token in rest.replace(",", " ").split():
            name, eq, value = token.partition("=")
            if not eq:
                raise IncompleteSignatureException(
                    f"'{token}' not a valid key=value pair (missing equal-sign) "
                    f"in Authorization header: '{header}'."
                )
            fields[name] = value
        missing = "".join(
            f"Authorization header requires '{name}' parameter. "
            for name in ("Credential", "Signature", "SignedHeaders")
            # AWS lets SignedHeaders be empty here; the 'host' check rejects it next.
            if (name not in fields if name == "SignedHeaders" else not fields.get(name))
        )
        if "x-amz-date" not in headers and "date" not in headers:
            missing += (
                "Authorization header requires existence of either "
                "a 'X-Amz-Date' or a 'Date' header. "
            )
        if missing:
            raise IncompleteSignatureException(f"{missing}Authorization={header}")
        return _Presented(
            presigned=False,
            algorithm=algorithm,
            credential=fields["Credential"],
            signed_headers=fields["SignedHeaders"],
            signature=fields["Signature"],
            amz_date=headers.get("x-amz-date", ""),
            security_token=headers.get("x-amz-security-token"),
            expires=None,
            query_pairs=pairs,
        )

    # -- checks ---------------------------------------------------------------------------

    def _check_date(self, presented: _Presented, headers: Mapping[str, str]) -> None:
        """Parse the request time (setting ``amz_date``) and enforce the skew window."""
        raw = presented.amz_date
        request_time: float | None = None
        if raw or presented.presigned:
            last_raw, request_time = self._last_date
            if raw != last_raw:
                request_time = _parse_amz_date(raw)
                self._last_date = (raw, request_time)
        else:
            # No X-Amz-Date: the RFC 1123 Date header is the signing time.
            raw = headers.get("date", "")
            try:
                parsed = parsedate_to_datetime(raw)
            except (TypeError, ValueError, IndexError):
                parsed = None
            if parsed is not None:
                if parsed.tzinfo is None:  # "-0000": UTC, not the server's local time
                    parsed = parsed.replace(tzinfo=datetime.UTC)
                request_time = parsed.timestamp()
                presented.amz_date = _format_time(request_time)
        if request_time is None:
            raise IncompleteSignatureException(
                f"Date must be in ISO-8601 'basic format'. Got '{raw}'. "
                "See http://en.wikipedia.org/wiki/ISO_8601"
            )
        now = self._clock()
        window = MAX_SKEW_SECONDS
        window_text = "15 min."
        if presented.presigned and presented.expires is not None:
            # AWS services other than S3 keep presigned URLs to the 15-minute window
            # whatever X-Amz-Expires says; we honour a shorter X-Amz-Expires as well.
            expires = _parse_expires(presented.expires)
            if expires < window:
                window, window_text = expires, f"{expires} sec."
        if request_time < now - window:
            raise InvalidSignatureException(
                f"Signature expired: {presented.amz_date} is now earlier than "
                f"{_format_time(now - window)} ({_format_time(now)} - {window_text})"
            )
        if request_time > now + MAX_SKEW_SECONDS:
            raise InvalidSignatureException(
                f"Signature not yet current: {presented.amz_date} is still later than "
                f"{_format_time(now + MAX_SKEW_SECONDS)} ({_format_time(now)} + 15 min.)"
            )

    def _scope_problems(
        self,
        presented: _Presented,
        scope_date: str,
        region: str,
        service: str,
        terminator: str,
        expected_service: str | None,
        verify: bool,
    ) -> list[str]:
        problems: list[str] = []
        if not _REGION.fullmatch(region):
            problems.append(f"Credential should be scoped to a valid region, not '{region}'.")
        if not verify:
            return problems
        if expected_service is not None:
            if service != expected_service:
                problems.append(
                    f"Credential should be scoped to correct service: '{expected_service}'."
                )
        elif service not in self._services:
            problems.append("Credential should be scoped to correct service: 'dynamodb'.")
        if terminator != TERMINATOR:
            problems.append(
                "Credential should be scoped with a valid terminator: "
                f"'{TERMINATOR}', not '{terminator}'."
            )
        if scope_date != presented.amz_date[:8]:
            problems.append(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                f"of date from HTTP: '{scope_date}' != '{presented.amz_date[:8]}', "
                f"from '{presented.amz_date}'."
            )
        return problems

    def _payload_hash(self, presented: _Presented, headers: Mapping[str, str], body: bytes) -> str:
        declared = headers.get("x-amz-content-sha256")
        if declared is None and presented.query_pairs:
            declared = dict(presented.query_pairs).get("X-Amz-Content-Sha256")
        if declared is None:
            return hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
        if declared == UNSIGNED_PAYLOAD:
            return declared
        if declared.startswith("STREAMING-"):
            # Chunk-signed (aws-chunked) uploads exist only in S3.
            raise InvalidSignatureException(
                f"x-amz-content-sha256 '{declared}' (a streaming, chunk-signed payload) "
                "is not supported by this service; sign the whole body or send "
                f"'{UNSIGNED_PAYLOAD}'."
            )
        if not _HEX64.fullmatch(declared):
            raise InvalidSignatureException(
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, or a valid sha256 value."
            )
        actual = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
        if not hmac.compare_digest(declared, actual):
            raise InvalidSignatureException(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        return declared

    def _check_signature(
        self,
        presented: _Presented,
        method: str,
        path: str,
        headers: Mapping[str, str],
        payload_hash: str,
        secret: str,
        scope_date: str,
        region: str,
        service: str,
    ) -> None:
        names = presented.signed_headers.lower().split(";")
        canonical_headers = "".join(f"{name}:{_trim(headers.get(name, ''))}\n" for name in names)
        pairs = presented.query_pairs
        skip = "X-Amz-Signature" if presented.presigned else None
        cquery = canonical_query(pairs, skip) if pairs else ""
        canonical = "\n".join(
            (
                method.upper(),
                canonical_uri(path),
                cquery,
                canonical_headers,
                ";".join(names),
                payload_hash,
            )
        )
        scope = f"{scope_date}/{region}/{service}/{TERMINATOR}"
        string_to_sign = (
            f"{ALGORITHM}\n{presented.amz_date}\n{scope}\n"
            f"{hashlib.sha256(canonical.encode()).hexdigest()}"
        )
        key = self._signing_key(secret, scope_date, region, service)
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), presented.signature.encode()):
            raise InvalidSignatureException(
                f"{_SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have "
                f"been\n'{canonical}'\n\nThe String-to-Sign should have been\n"
                f"'{string_to_sign}'\n"
            )

    def _signing_key(self, secret: str, date: str, region: str, service: str) -> bytes:
        cache_key = (secret, date, region, service)
        key = self._signing_keys.get(cache_key)
        if key is None:
            key = _hmac(f"AWS4{secret}".encode(), date)
            for part in (region, service, TERMINATOR):
                key = _hmac(key, part)
            if len(self._signing_keys) >= _SIGNING_KEY_CACHE_SIZE:
                del self._signing_keys[next(iter(self._signing_keys))]
            self._signing_keys[cache_key] = key
        return key


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _parse_amz_date(value: str) -> float | None:
    if not _AMZ_DATE.fullmatch(value):
        return None
    fields = (
        int(value[0:4]),
        int(value[4:6]),
        int(value[6:8]),
        int(value[9:11]),
        int(value[11:13]),
        int(value[13:15]),
    )
    year, month, day, hour, minute, second = fields
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    if hour > 23 or minute > 59 or second > 60:  # 60: a leap second
        return None
    return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))


def _parse_expires(value: str) -> int:
    if not value.isascii() or not value.lstrip("-").isdigit():
        raise IncompleteSignatureException("X-Amz-Expires should be a number")
    expires = int(value)
    if expires < 0:
        raise IncompleteSignatureException("X-Amz-Expires must be non-negative")
    if expires > MAX_PRESIGN_EXPIRES:
        raise IncompleteSignatureException(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given "
            f"X-Amz-Expires must be less than {MAX_PRESIGN_EXPIRES} seconds"
        )
    return expires

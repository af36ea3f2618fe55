"""AWS Signature Version 4, checked against the local access keys: the ``Authorization`` header
form and presigned URLs (``X-Amz-Signature`` in the query).

R2 accepts any region in the credential scope (``auto`` is the documented one); the service
must be ``s3``. The canonical request follows AWS's SigV4 documentation; S3 signs the path as
sent (no second encoding), which is why the request keeps its raw path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

from wranglerpy.services.asgi import Request
from wranglerpy.services.s3.errors import S3Error, access_denied
from wranglerpy.services.spec import DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED = "UNSIGNED-PAYLOAD"
MAX_SKEW_S = 15 * 60
MAX_PRESIGN_EXPIRES_S = 7 * 24 * 3600
AMZ_DATE = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Credentials:
    """One local access key pair (R2 calls them an API token's Access Key ID / Secret)."""

    access_key_id: str
    secret_access_key: str


DEFAULT_CREDENTIALS = Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY)


@dataclass(frozen=True)
class Signed:
    """What the signature vouches for: the payload hash it names and, for aws-chunked
    bodies, what the chunk signatures chain from."""

    payload: str  # hex sha256, UNSIGNED-PAYLOAD or a STREAMING-* mode
    signing_key: bytes
    amz_date: str
    scope: str
    seed_signature: str
    access_key_id: str


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sign(key: bytes, string_to_sign: str) -> str:
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _encode(text: str) -> str:
    return quote(text, safe="-_.~", errors="surrogateescape")


def canonical_query(raw_query: str, drop: str | None = None) -> str:
    """Every ``name=value`` decoded, re-encoded as RFC 3986 wants, sorted."""
    pairs: list[tuple[str, str]] = []
    for item in raw_query.split("&") if raw_query else []:
        name, _, value = item.partition("=")
        name, value = unquote(name), unquote(value)
        if name != drop:
            pairs.append((_encode(name), _encode(value)))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_request(
    request: Request, raw_query: str, signed_headers: list[str], payload: str, *, presigned: bool
) -> str:
    lines = [request.method, request.raw_path.decode("latin-1") or "/"]
    lines.append(canonical_query(raw_query, "X-Amz-Signature" if presigned else None))
    for name in signed_headers:
        value = request.headers.get(name, "")
        lines.append(f"{name}:{' '.join(value.split())}")
    lines += ["", ";".join(signed_headers), payload]
    return "\n".join(lines)


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def _parse_header(value: str) -> dict[str, str]:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise S3Error(
            400,
            "InvalidArgument",
            "The authorization mechanism you have provided is not supported. "
            "Please use AWS4-HMAC-SHA256.",
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, item = part.strip().partition("=")
        if sep:
            fields[name] = item
    missing = [n for n in ("Credential", "SignedHeaders", "Signature") if n not in fields]
    if missing:
        raise S3Error(
            400,
            "AuthorizationHeaderMalformed",
            f"The authorization header is malformed; missing {', '.join(missing)}.",
        )
    return fields


class Verifier:
    """Checks a request's SigV4 signature against the local keys. ``clock``: epoch seconds."""

    def __init__(
        self, credentials: Mapping[str, str], clock: Callable[[], float] = time.time
    ) -> None:
        self._secrets = dict(credentials)
        self._clock = clock

    def verify(self, request: Request) -> Signed:
        raw_query = request.raw_query
        if request.arg("X-Amz-Signature") is not None or request.arg("X-Amz-Algorithm"):
            return self._presigned(request, raw_query)
        header = request.headers.get("authorization")
        if header is None:
            if request.arg("AWSAccessKeyId") is not None:
                raise S3Error(
                    400,
                    "InvalidArgument",
                    "Only presigned URLs signed with AWS4-HMAC-SHA256 are supported.",
                )
            raise access_denied()
        fields = _parse_header(header)
        amz_date = request.headers.get("x-amz-date", "")
        when = self._date(amz_date)
        if abs(self._clock() - when.timestamp()) > MAX_SKEW_S:
            raise S3Error(
                403,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
            )
        payload = request.headers.get("x-amz-content-sha256")
        if payload is None:
            raise S3Error(
                400,
                "InvalidRequest",
                "Missing required header for this request: x-amz-content-sha256",
            )
        signed_headers = fields["SignedHeaders"].split(";")
        return self._check(
            request, raw_query, fields["Credential"], amz_date, signed_headers,
            payload, fields["Signature"], presigned=False,
        )  # fmt: skip

    def _presigned(self, request: Request, raw_query: str) -> Signed:
        if request.arg("X-Amz-Algorithm") != ALGORITHM:
            raise S3Error(
                400,
                "AuthorizationQueryParametersError",
                'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
            )
        needed = ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
        values = {name: request.arg(name) for name in (*needed, "X-Amz-Expires")}
        missing = [name for name in needed if not values[name]]
        if missing:
            raise S3Error(
                400,
                "AuthorizationQueryParametersError",
                f"Query-string authentication version 4 requires {', '.join(missing)}.",
            )
        amz_date = values["X-Amz-Date"] or ""
        when = self._date(amz_date)
        try:
            expires = int(values["X-Amz-Expires"] or "604800")
        except ValueError:
            expires = -1
        if not 1 <= expires <= MAX_PRESIGN_EXPIRES_S:
            raise S3Error(
                400,
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be between 1 and 604800 seconds.",
            )
        now = self._clock()
        if now > when.timestamp() + expires:
            raise access_denied("Request has expired")
        if when.timestamp() - now > MAX_SKEW_S:
            raise access_denied("Request is not valid yet")
        signed_headers = (values["X-Amz-SignedHeaders"] or "").split(";")
        return self._check(
            request, raw_query, values["X-Amz-Credential"] or "", amz_date, signed_headers,
            UNSIGNED, values["X-Amz-Signature"] or "", presigned=True,
        )  # fmt: skip

    @staticmethod
    def _date(amz_date: str) -> dt.datetime:
        try:
            return dt.datetime.strptime(amz_date, AMZ_DATE).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            raise access_denied(
                "AWS authentication requires a valid Date or x-amz-date header"
            ) from None

    def _check(
        self,
        request: Request,
        raw_query: str,
        credential: str,
        amz_date: str,
        signed_headers: list[str],
        payload: str,
        signature: str,
        *,
        presigned: bool,
    ) -> Signed:
        parts = credential.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request":
            raise S3Error(
                400,
                "AuthorizationHeaderMalformed",
                f"The Credential {credential!r} is not of the form KEY/DATE/REGION/s3/aws4_request.",
            )
        key_id, date, region, service, _ = parts
        secret = self._secrets.get(key_id)
        if secret is None:
            raise S3Error(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                AWSAccessKeyId=key_id,
            )
        if service != "s3" or date != amz_date[:8]:
            raise S3Error(
                400,
                "AuthorizationHeaderMalformed",
                f"The authorization header is malformed; the credential scope {credential!r} "
                "does not match the request date or the s3 service.",
            )
        if "host" not in signed_headers:
            raise access_denied("The host header must be signed.")
        scope = f"{date}/{region}/{service}/aws4_request"
        canonical = canonical_request(
            request, raw_query, signed_headers, payload, presigned=presigned
        )
        to_sign = string_to_sign(amz_date, scope, canonical)
        key = signing_key(secret, date, region, service)
        expected = sign(key, to_sign)
        if not hmac.compare_digest(expected, signature.lower()):
            raise S3Error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
                AWSAccessKeyId=key_id,
                StringToSign=to_sign,
                SignatureProvided=signature,
                CanonicalRequest=canonical,
            )
        return Signed(payload, key, amz_date, scope, signature.lower(), key_id)

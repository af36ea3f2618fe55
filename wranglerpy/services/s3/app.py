"""The S3 API as an ASGI app: authenticate, route by method + path + sub-resource, answer
errors as S3's XML. Path-style addressing (``http://127.0.0.1:<port>/<bucket>/<key>``), which
is what boto3, the AWS CLI and rclone use for an IP endpoint."""

from __future__ import annotations

import logging
import secrets

from wranglerpy.services.asgi import (
    BodyTooLarge,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    send_response,
)
from wranglerpy.services.s3 import listing, multipart, objects, xml
from wranglerpy.services.s3.auth import Signed, Verifier
from wranglerpy.services.s3.buckets import Bucket, Buckets
from wranglerpy.services.s3.errors import S3Error, not_implemented
from wranglerpy.services.s3.payload import checked_body

log = logging.getLogger("wranglerpy.services.s3")

# Bucket sub-resources S3 has and this local API does not (answered NotImplemented).
_BUCKET_CONFIG = (
    "acl", "cors", "encryption", "lifecycle", "policy", "tagging", "versioning",
    "website", "logging", "notification", "replication", "object-lock", "versions",
)  # fmt: skip
MAX_CREATE_BODY = 64 * 1024


class S3App:
    def __init__(self, buckets: Buckets, verifier: Verifier, elsewhere: str | None = None) -> None:
        self.buckets = buckets
        self.verifier = verifier
        # With an R2 backend (--r2-backend) the buckets live on that S3 server, not here.
        self.elsewhere = elsewhere

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request.from_scope(scope, receive)
        request_id = secrets.token_hex(8).upper()
        try:
            signed = self.verifier.verify(request)
            if self.elsewhere is not None:
                raise S3Error(
                    501,
                    "NotImplemented",
                    f"The R2 buckets are on the S3 server {self.elsewhere} (--r2-backend): "
                    "use it directly.",
                )
            response = await self.route(request, signed)
        except S3Error as error:
            response = _error_response(error, request.path, request_id)
        except BodyTooLarge:
            too_big = S3Error(400, "MaxMessageLengthExceeded", "Your request was too big.")
            response = _error_response(too_big, request.path, request_id)
        except ConnectionError:
            return  # the client left mid-body; the store discarded the partial write
        except Exception:  # noqa: BLE001 - one failed request must not take the server down
            log.exception("S3 %s %s failed", request.method, request.path)
            internal = S3Error(
                500, "InternalError", "We encountered an internal error. Please try again."
            )
            response = _error_response(internal, request.path, request_id)
        response.headers.append(("x-amz-request-id", request_id))
        await send_response(send, response, head=request.method == "HEAD")

    async def route(self, request: Request, signed: Signed) -> Response:
        bucket_name, _, key = request.path.lstrip("/").partition("/")
        method = request.method
        if not bucket_name:
            if method in ("GET", "HEAD"):
                return listing.list_buckets(self.buckets)
            raise S3Error(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            )
        if not key:
            return await self._bucket(bucket_name, request, signed)
        bucket = self.buckets.get(bucket_name)
        return await self._object(bucket, key, request, signed)

    async def _bucket(self, name: str, request: Request, signed: Signed) -> Response:
        method = request.method
        if method == "PUT" and not request.query:
            size = 0
            async for chunk in checked_body(request, signed):  # CreateBucketConfiguration
                size += len(chunk)
                if size > MAX_CREATE_BODY:
                    raise BodyTooLarge("CreateBucket body")
            self.buckets.create(name)
            return Response(200, [("Location", f"/{name}")])
        for config in _BUCKET_CONFIG:
            if request.has_arg(config):
                raise not_implemented(f"The bucket's {config} configuration")
        bucket = self.buckets.get(name)
        if method == "HEAD":
            return Response(200, [("x-amz-bucket-region", "auto")])
        if method == "GET":
            if request.has_arg("location"):
                body = xml.render("LocationConstraint", [])
                return Response(200, [("Content-Type", xml.CONTENT_TYPE)], body)
            if request.has_arg("uploads"):
                return await multipart.list_uploads(bucket, request)
            if request.arg("list-type") == "2":
                return await listing.list_objects_v2(bucket, request)
            return await listing.list_objects_v1(bucket, request)
        if method == "DELETE" and not request.query:
            await self.buckets.delete(name)
            return Response(204)
        if method == "POST" and request.has_arg("delete"):
            return await objects.delete_objects(bucket, request, signed)
        raise S3Error(
            405, "MethodNotAllowed", "The specified method is not allowed against this resource."
        )

    async def _object(self, bucket: Bucket, key: str, request: Request, signed: Signed) -> Response:
        method = request.method
        upload = request.has_arg("uploadId")
        if request.has_arg("tagging") or request.has_arg("acl") or request.has_arg("retention"):
            raise not_implemented("Object tagging, ACLs and retention")
        if method in ("GET", "HEAD"):
            if upload and method == "GET":
                return await multipart.list_parts(bucket, key, request)
            return await objects.get_object(bucket, key, request)
        if method == "PUT":
            if upload or request.has_arg("partNumber"):
                return await multipart.upload_part(bucket, key, request, signed)
            if "x-amz-copy-source" in request.headers:
                return await objects.copy_object(self.buckets, bucket, key, request)
            return await objects.put_object(bucket, key, request, signed)
        if method == "POST":
            if request.has_arg("uploads"):
                return await multipart.create(bucket, key, request)
            if upload:
                return await multipart.complete(bucket, key, request, signed)
        if method == "DELETE":
            if upload:
                return await multipart.abort(bucket, key, request)
            return await objects.delete_object(bucket, key)
        raise S3Error(
            405, "MethodNotAllowed", "The specified method is not allowed against this resource."
        )


def _error_response(error: S3Error, resource: str, request_id: str) -> Response:
    headers = [("Content-Type", xml.CONTENT_TYPE), *error.headers]
    return Response(error.status, headers, xml.render_error(error, resource, request_id))

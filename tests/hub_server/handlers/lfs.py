"""Git LFS endpoints: batch, the upload URLs it hands out, verify. TEST ONLY.

Mirrors:
  POST   /{prefix}{repo}.git/info/lfs/objects/batch    basic and multipart transfer; objects already in
                                                       the repo get no actions (resumed uploads)
  PUT    /__lfs/{upload}[/{part}], POST /__lfs/{upload} the "presigned" upload URLs the batch hands out
                                                       (one PUT, or parts then a completion)
  POST   /{prefix}{repo}.git/info/lfs/objects/verify   the batch answer's verify action
The batch API is Git LFS's (https://github.com/git-lfs/git-lfs/blob/main/docs/api/batch.md); the
multipart transfer is the Hub's, defined by huggingface_hub's ``lfs.py`` (``post_lfs_batch_info``,
``_upload_multi_part``). Every object is checked against its sha256 and size on upload.
"""

from __future__ import annotations

import hashlib
import math
import secrets

from ..core import HubCore
from ..protocol import HubError, Request, Response
from ..state import REPO_TYPES, SHA256_PATTERN, URL_PREFIXES, PendingUpload


class LfsEndpoints(HubCore):
    """Hand out LFS upload URLs, accept (and check) the uploaded objects, verify them."""

    def handle_lfs_batch(self, request: Request, ns: str, name: str, prefix: str | None = None) -> Response:
        body = request.json()
        if body.get("operation") != "upload":
            raise HubError(400, "Only the LFS 'upload' operation is implemented by the test Hub")
        if body.get("hash_algo", "sha256") != "sha256":
            raise HubError(400, f"Unsupported hash_algo {body.get('hash_algo')!r}")
        key = (REPO_TYPES[prefix] if prefix else "model", f"{ns}/{name}")
        git_url = f"{request.base_url}/{URL_PREFIXES[key[0]]}{key[1]}.git"
        multipart = self.multipart_chunk_size is not None and "multipart" in body.get("transfers", ["basic"])
        answers = []
        with self._lock:
            repo = self._writable(request, key)
            for item in body.get("objects") or []:
                oid, size = item.get("oid"), item.get("size")
                if not isinstance(oid, str) or not SHA256_PATTERN.fullmatch(oid) or not isinstance(size, int):
                    answers.append(
                        {
                            "oid": str(oid),
                            "size": size if isinstance(size, int) else -1,
                            "error": {"code": 422, "message": f"Invalid oid or size: {oid!r}, {size!r}"},
                        }
                    )
                    continue
                if repo.lfs_objects.get(oid) == size:
                    answers.append({"oid": oid, "size": size, "authenticated": True})  # present: nothing to send
                    continue
                upload_id = secrets.token_hex(16)
                upload_url = f"{request.base_url}/__lfs/{upload_id}"
                pending = PendingUpload(key, oid, size)
                header: dict[str, str] = {}
                if multipart and self.multipart_chunk_size and size > self.multipart_chunk_size:
                    pending.part_count = math.ceil(size / self.multipart_chunk_size)
                    header = {"chunk_size": str(self.multipart_chunk_size)}
                    header |= {str(n): f"{upload_url}/{n}" for n in range(1, pending.part_count + 1)}
                self._uploads[upload_id] = pending
                actions = {
                    "upload": {"href": upload_url, "header": header},
                    "verify": {"href": f"{git_url}/info/lfs/objects/verify", "header": {}},
                }
                answers.append({"oid": oid, "size": size, "authenticated": True, "actions": actions})
        return Response(
            200,
            {"transfer": "multipart" if multipart else "basic", "objects": answers, "hash_algo": "sha256"},
            content_type="application/vnd.git-lfs+json",
        )

    def handle_lfs_put(self, request: Request, upload: str, part: str | None = None) -> Response:
        with self._lock:
            pending = self._uploads.get(upload)
        if pending is None:
            raise HubError(404, f"Unknown or already used LFS upload URL {upload}")
        if part is not None:
            if pending.part_count is None or not 1 <= int(part) <= pending.part_count:
                raise HubError(400, f"Part {part} is not one of the {pending.part_count} parts of {pending.oid}")
            with self._lock:
                pending.parts[int(part)] = request.body
            return Response(200, b"", {"ETag": f'"{hashlib.md5(request.body).hexdigest()}"'})
        if pending.part_count is not None:
            raise HubError(400, f"LFS object {pending.oid} must be uploaded in {pending.part_count} parts")
        self._accept_lfs_object(upload, pending, request.body)
        return Response(200, b"", {"ETag": f'"{hashlib.md5(request.body).hexdigest()}"'})

    def handle_lfs_complete(self, request: Request, upload: str) -> Response:
        with self._lock:
            pending = self._uploads.get(upload)
        if pending is None or pending.part_count is None:
            raise HubError(404, f"Unknown multipart LFS upload {upload}")
        body = request.json()
        parts = body.get("parts") or []
        numbers = [part.get("partNumber") for part in parts]
        if body.get("oid") != pending.oid or numbers != list(range(1, pending.part_count + 1)):
            raise HubError(400, f"Completion of {pending.oid} must list parts 1..{pending.part_count} in order")
        for part in parts:
            data = pending.parts.get(part["partNumber"])
            if data is None or part.get("etag") != f'"{hashlib.md5(data).hexdigest()}"':
                raise HubError(400, f"Part {part['partNumber']} of {pending.oid} is missing or its ETag differs")
        self._accept_lfs_object(upload, pending, b"".join(pending.parts[n] for n in numbers))
        return Response(200, {})

    def _accept_lfs_object(self, upload: str, pending: PendingUpload, data: bytes) -> None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != pending.oid or len(data) != pending.size:
            raise HubError(
                400,
                f"LFS upload of {pending.oid} ({pending.size} bytes) received {len(data)} bytes with sha256 {actual}",
            )
        self.objects.put(data)
        with self._lock:
            self._uploads.pop(upload, None)
            if pending.repo_key in self.repos:
                self.repos[pending.repo_key].lfs_objects[pending.oid] = pending.size

    def handle_lfs_verify(self, request: Request, ns: str, name: str, prefix: str | None = None) -> Response:
        body = request.json()
        with self._lock:
            repo = self._writable(request, (REPO_TYPES[prefix] if prefix else "model", f"{ns}/{name}"))
            if repo.lfs_objects.get(body.get("oid")) != body.get("size"):
                raise HubError(404, f"LFS object {body.get('oid')} ({body.get('size')} bytes) is not stored")
        return Response(200, {})

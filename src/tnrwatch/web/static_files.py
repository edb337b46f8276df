"""Static files, gzip-compressed once and kept in memory: the report form's scripts (libsodium is ~1.3 MB, ~400 KB
compressed) must stay light on a slow connection. Only our own public files are served here, so compression cannot
leak a secret (no page with a receipt or a token is compressed)."""

from __future__ import annotations

import gzip
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".txt", ".html")


class CompressedStaticFiles(StaticFiles):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cache: dict[str, tuple[float, bytes]] = {}

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        accepts = "gzip" in Headers(scope=scope).get("accept-encoding", "")
        if response.status_code != 200 or not accepts or not path.endswith(COMPRESSIBLE):
            return response
        full_path, stat = self.lookup_path(path)
        if stat is None:
            return response
        cached = self._cache.get(full_path)
        if cached is None or cached[0] != stat.st_mtime:
            with open(full_path, "rb") as handle:  # noqa: PTH123 (a path string from Starlette's lookup)
                cached = (stat.st_mtime, gzip.compress(handle.read(), compresslevel=9, mtime=0))
            self._cache[full_path] = cached
        headers = {
            "content-encoding": "gzip",
            "vary": "accept-encoding",
            "cache-control": "public, max-age=3600",
            "etag": response.headers.get("etag", ""),
        }
        media_type = response.headers.get("content-type")
        return Response(cached[1], headers=headers, media_type=media_type)

"""Security headers on every response (pages, static files, errors, redirects), and a cap on
request bodies. A pure ASGI middleware, so nothing a handler does can bypass it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ErrorRenderer = Callable[[Scope, Exception], Awaitable[Response]]
BodyLimit = Callable[[str], int | None]  # path -> its limit (None: MAX_BODY_BYTES)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000"
MAX_BODY_BYTES = 1024 * 1024  # forms; an upload path gets its own limit (``body_limit``)


class BodyTooLarge(Exception):
    """A request body grew past its limit while it was being read (no or false length)."""


class SecurityHeaders:
    """``on_error(scope, exc)`` renders the page for an unexpected exception here, inside this
    middleware, so that page carries the headers too (Starlette's own last-resort handler sits
    outside every middleware)."""

    def __init__(
        self,
        app: ASGIApp,
        on_error: ErrorRenderer | None = None,
        body_limit: BodyLimit | None = None,
        on_too_large: Callable[[Scope], Response] | None = None,
    ) -> None:
        self.app = app
        self.on_error = on_error
        self.body_limit = body_limit
        # The submission API answers 413 in its own JSON form (its routes' limit comes from
        # body_limit like every other path's).
        self.on_too_large = on_too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        https = scope.get("scheme") == "https"  # behind a proxy: from X-Forwarded-Proto

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.decode("latin-1").lower() not in _LOWER
                ]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                if https:
                    headers.append((b"strict-transport-security", HSTS.encode()))
                # Pages may show personal data or a one-time password: never stored. Static
                # files are revalidated (ETag) so an upgrade is picked up at once.
                headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                static = path.startswith("/static/")
                headers.append((b"cache-control", b"no-cache" if static else b"no-store"))
                message["headers"] = headers
            await send(message)

        limit = (self.body_limit(path) if self.body_limit else None) or MAX_BODY_BYTES

        async def too_large() -> None:
            if self.on_too_large is not None and path.startswith("/api/"):
                await self.on_too_large(scope)(scope, receive, send_with_headers)
                return
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": b"413 request too large"})

        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await too_large()
            return
        received = 0

        async def counted_receive() -> Message:
            # A chunked body (no length) is counted as it arrives: past the limit, stop reading.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        try:
            await self.app(scope, counted_receive, send_tracking)
        except BodyTooLarge:
            if not started:
                await too_large()
        except Exception as exc:
            if started or self.on_error is None:
                raise
            response = await self.on_error(scope, exc)
            await response(scope, receive, send_with_headers)


_LOWER = {name.lower() for name in SECURITY_HEADERS} | {"strict-transport-security", "server"}

"""Webhook mode: Telegram posts the updates to us; `/healthz` and `/metrics` beside them.

`portail-famille run --webhook` serves one ASGI app (Starlette, under uvicorn) on
LISTEN_ADDRESS:PORT with three routes:

- `POST <path of WEBHOOK_URL>` (`/telegram` when WEBHOOK_URL has no path): an update from
  Telegram. The `X-Telegram-Bot-Api-Secret-Token` header must equal WEBHOOK_SECRET (compared in
  constant time): a wrong or missing one gets 403 and nothing is processed. A good one is
  decoded, put on the application's update queue and answered 200 at once: the handlers run in
  the background, so a slow screen never makes Telegram time out and re-send. An update the
  library cannot decode is logged (kind and place, never content) and answered 200 so that
  Telegram moves on; a body that is not an update at all gets 400. While the process stops it
  answers 503, and Telegram re-sends to whichever worker answers.
- `POST /tg/<slug>`: the same for each other structure the process serves (bot/tenancy.py),
  with that structure's own secret (`portail-famille structure add` makes it): a bot's secret
  opens its own path only.
- `GET /healthz`: the facts of `bot.health` as JSON, 200 when healthy, 503 otherwise.
- `GET /metrics`: Prometheus' text format (`bot.metrics`), the outbox gauges read at scrape time.

Why this and not python-telegram-bot's own `Application.run_webhook`: its built-in server
(tornado) serves the update route only, so `/healthz` and `/metrics` would need a second port
and server; and we want the response in our hands (403 on a bad secret, 503 while stopping,
what an undecodable update gets). This is the library's "custom webhook" pattern: we run the
web server and feed `application.update_queue`; the Application does the rest as in polling.

Entry points: `build_webhook_app(application, runtime)` builds the app for an Application
that the caller starts and stops; `WebhookServer` serves an app with uvicorn in the running
event loop; `WebhookWorker` is one worker's life (start: Application, server, `setWebhook`;
stop: server, the updates taken, Application); `serve_webhook` runs a worker until SIGTERM,
which is `run --webhook`. The webhook is never deleted on stop: Telegram keeps the updates
while no worker answers, and another worker, or this one restarted, gets them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
from collections.abc import Iterator, Sequence
from typing import Any, TypeAlias

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from bot import metrics
from bot.deployment import Bot, start_bot, stop_bot, stop_on_signals
from bot.errors import describe_error
from bot.health import age_seconds, check_health, mark_started, outbox_backlog
from bot.runtime import Runtime
from bot.updates_request import tolerate_undecodable

logger = logging.getLogger("portail_famille.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024
"""An update is a few kilobytes; anything this big is not from Telegram."""
AnyApplication: TypeAlias = "Application[Any, Any, Any, Any, Any, Any]"


def build_webhook_app(
    application: AnyApplication,
    runtime: Runtime,
    *,
    path: str | None = None,
    secret: str | None = None,
    others: Sequence[tuple[AnyApplication, Runtime]] = (),
) -> Starlette:
    """The ASGI app of the webhook, `/healthz` and `/metrics` (see the module's docstring).

    `path` and `secret` default to the settings' (WEBHOOK_URL's path, WEBHOOK_SECRET). `others`
    are the bots of the process's other structures, each on its own settings' path and secret.
    The applications must be initialised and started by the caller.
    """
    routes = [update_route(application, runtime, path=path, secret=secret)]
    routes += [update_route(app, its_runtime) for app, its_runtime in others]
    paths = [route.path for route in routes]
    if len(set(paths)) != len(paths):
        raise ValueError(f"two bots would share one webhook path: {sorted(paths)}")
    return Starlette(routes=[*routes, *operations_routes(runtime)], max_body_size=MAX_BODY_BYTES)


def update_route(
    application: AnyApplication,
    runtime: Runtime,
    *,
    path: str | None = None,
    secret: str | None = None,
) -> Route:
    """`POST <path>`: one bot's updates, checked against its secret."""
    route = path or runtime.settings.webhook_path
    expected = (runtime.settings.webhook_secret if secret is None else secret).encode()
    if not expected:
        raise ValueError("WEBHOOK_SECRET is not set: the webhook would accept anyone's updates")

    async def receive_update(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        if not hmac.compare_digest(given, expected):
            logger.warning("webhook: a request without the right secret token refused (403)")
            return PlainTextResponse("Forbidden", status_code=403)
        if not application.running:
            return PlainTextResponse("Stopping", status_code=503)
        try:
            data = await request.json()
        except ValueError:
            return PlainTextResponse("Not JSON", status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return PlainTextResponse("Not an update", status_code=400)
        (checked,) = tolerate_undecodable([data])
        update = Update.de_json(checked, application.bot)
        await application.update_queue.put(update)
        return Response(status_code=200)

    return Route(route, receive_update, methods=["POST"])


def operations_routes(runtime: Runtime) -> list[Route]:
    """`GET /healthz` and `GET /metrics`."""
    return [
        Route("/healthz", _healthz_of(runtime), methods=["GET"]),
        Route("/metrics", _metrics_of(runtime), methods=["GET"]),
    ]


def _healthz_of(runtime: Runtime) -> Any:
    async def healthz(request: Request) -> Response:
        health = await check_health(runtime)
        return JSONResponse(health.as_json(), status_code=200 if health.healthy else 503)

    return healthz


def _metrics_of(runtime: Runtime) -> Any:
    async def metrics_page(request: Request) -> Response:
        await refresh_outbox_gauges(runtime)
        body, content_type = metrics.render_latest()
        return Response(body, media_type=content_type)

    return metrics_page


async def refresh_outbox_gauges(runtime: Runtime) -> None:
    """Read the outbox backlog into its gauges (left as they were when the database fails)."""
    try:
        backlog = await outbox_backlog(runtime)
    except Exception as exc:
        logger.warning("metrics: outbox backlog not read: %s", describe_error(exc))
        return
    metrics.OUTBOX_BACKLOG.set(backlog.pending)
    metrics.OUTBOX_OLDEST_AGE.set(age_seconds(runtime, backlog.oldest) or 0.0)


class ListenError(OSError):
    """The address or port cannot be bound (taken, or not this machine's)."""


class _Uvicorn(uvicorn.Server):
    """uvicorn without its signal handlers: `serve_webhook` stops the bot in order, and
    uvicorn would re-raise the signal (and end the process) as soon as it stopped serving."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebhookServer:
    """uvicorn serving an ASGI app on `host:port` in the running event loop.

    Port 0 takes a free port; `port` tells which once started.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self._server: _Uvicorn | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """`http://host:port` once started."""
        if self.port is None:
            raise RuntimeError("the server is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind (`ListenError` says why it cannot) and serve until `stop`."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.requested_port))
        except OSError as exc:
            sock.close()
            raise ListenError(f"cannot listen on {self.host}:{self.requested_port}: {exc}") from exc
        sock.set_inheritable(True)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,  # a request line per update says nothing the metrics do not
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=10,
        )
        server = self._server = _Uvicorn(config)
        task = self._task = asyncio.create_task(server.serve(sockets=[sock]), name="webhook")

        async def started() -> None:
            while not server.started and not task.done():
                await asyncio.sleep(0.01)

        await asyncio.wait_for(started(), timeout=30)
        if task.done():
            task.result()  # raises what stopped uvicorn
            raise RuntimeError("the web server stopped at once")

    async def stop(self) -> None:
        """Stop accepting, finish the requests in progress, close."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = self._task = None


class WebhookWorker:
    """One worker of webhook mode: the Application started, served, and registered.

    `start()`: initialise and start the Application (its `post_init`: commands, outbox
    sender), serve on `host:port` (LISTEN_ADDRESS:PORT by default), then tell Telegram where to
    post (`setWebhook` with the secret, the update types the bot handles, and the pending
    updates kept). `stop()`: no new request (uvicorn finishes those in progress), the updates
    already taken are handled, then the Application stops as in polling. The webhook is left
    set: Telegram keeps the updates for whichever worker answers next.
    """

    def __init__(
        self,
        application: AnyApplication,
        runtime: Runtime,
        *,
        allowed_updates: Sequence[str],
        host: str | None = None,
        port: int | None = None,
        others: Sequence[tuple[AnyApplication, Runtime]] = (),
    ) -> None:
        self.application = application
        self.runtime = runtime
        self.others = list(others)
        self.allowed_updates = list(allowed_updates)
        settings = runtime.settings
        self.server = WebhookServer(
            build_webhook_app(application, runtime, others=self.others),
            settings.listen_address if host is None else host,
            settings.port if port is None else port,
        )
        self._initialized = False

    @property
    def bots(self) -> list[Bot]:
        """Every bot this worker serves, the first one's settings giving host and port."""
        return [Bot(self.application, self.runtime), *(Bot(a, r) for a, r in self.others)]

    async def start(self) -> None:
        """Start the Applications, serve, and call `setWebhook` for each bot (see the class
        docstring)."""
        self._initialized = True
        for bot in self.bots:
            await start_bot(bot)
        await self.server.start()
        for bot in self.bots:
            settings = bot.runtime.settings
            await bot.application.bot.set_webhook(
                url=settings.webhook_address,
                secret_token=settings.webhook_secret,
                allowed_updates=self.allowed_updates,
                drop_pending_updates=False,
            )
        logger.info(
            "webhook: serving %s, /healthz and /metrics on %s:%s",
            ", ".join(bot.runtime.settings.webhook_path for bot in self.bots),
            self.server.host,
            self.server.port,
        )

    async def stop(self) -> None:
        """Stop serving, handle the updates taken, stop the Applications (safe to call twice)."""
        await self.server.stop()
        if self._initialized:
            self._initialized = False
            for bot in self.bots:
                await stop_bot(bot)


async def serve_webhook(
    application: AnyApplication,
    runtime: Runtime,
    *,
    allowed_updates: Sequence[str],
    stop: asyncio.Event | None = None,
    others: Sequence[tuple[AnyApplication, Runtime]] = (),
) -> None:
    """The life of `portail-famille run --webhook`: a `WebhookWorker` from start until SIGTERM
    or SIGINT (or until `stop` is set), then stopped in order."""
    stop = stop_on_signals(stop)
    worker = WebhookWorker(application, runtime, allowed_updates=allowed_updates, others=others)
    try:
        await worker.start()
        await stop.wait()
        logger.info("webhook: stopping")
    finally:
        await worker.stop()


def serve_operations_beside_polling(application: AnyApplication, runtime: Runtime) -> None:
    """In polling mode, also serve `/healthz` and `/metrics` on LISTEN_ADDRESS:PORT, from the
    Application's start to its stop (chained to its `post_init` and `post_stop`)."""
    settings = runtime.settings
    server = WebhookServer(
        Starlette(routes=operations_routes(runtime)), settings.listen_address, settings.port
    )
    post_init, post_stop = application.post_init, application.post_stop

    async def start(app: AnyApplication) -> None:
        if post_init is not None:
            await post_init(app)
        mark_started(runtime)
        await server.start()
        logger.info("serving /healthz and /metrics on %s:%s", settings.listen_address, server.port)

    async def stop(app: AnyApplication) -> None:
        await server.stop()
        if post_stop is not None:
            await post_stop(app)

    application.post_init = start
    application.post_stop = stop

"""HTTP Events API: a Starlette app served by uvicorn, with health and readiness probes.

    POST /slack/events   signed Slack requests (events, interactivity); acked once the question is queued
    GET  /healthz        the process is up
    GET  /readyz         the index is loaded, Chroma and the state store answer (503 otherwise)

Bolt's `dispatch` is synchronous and, with `process_before_response`, runs the listener before it
returns the ack: verify, claim the event id, record the question as a job (a few milliseconds of
database work). It runs in Starlette's thread pool so that database round trips (and the Web API
calls a few listeners make, e.g. the assistant greeting) never block the event loop.

After the response is built, the event's claim is marked done (a later Slack retry is a duplicate)
or, if handling failed (5xx), released so that Slack's retry, on any replica, handles it again.

`serve_http` drains on SIGTERM: uvicorn stops accepting and finishes open requests, then the workers
stop claiming, finish the answers in hand for up to `SLACK_DRAIN_TIMEOUT_S`, and give back the rest.
"""

from __future__ import annotations

import logging

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.slack.app import build_app
from bot.slack.dedupe import CLAIMED
from bot.slack.runtime import AnswerBackend, Runtime
from gcot.settings import Settings

log = logging.getLogger(__name__)


def dispatch(bolt: App, runtime: Runtime, request: BoltRequest) -> BoltResponse:
    """Bolt's dispatch, then settle the event claim this request made (if any)."""
    response = bolt.dispatch(request)
    event_id = request.context.get(CLAIMED)
    if event_id:
        try:
            if response.status < 500:
                runtime.dedupe.finish(event_id)
            else:
                runtime.dedupe.release(event_id)
        except Exception:  # noqa: BLE001 - an unsettled claim only goes stale; the response stands
            log.warning("slack.event_settle_failed", exc_info=True, extra={"event_id": event_id})
    return response


def build_http_app(settings: Settings, service: AnswerBackend, *, runtime: Runtime | None = None) -> Starlette:
    """The ASGI app for `uvicorn`. Pass `runtime` to share one (tests inspect its stores).

    Example:
        >>> # uvicorn.run(build_http_app(Settings(), AnswerService.from_settings()), port=3000)
    """
    runtime = runtime or Runtime.create(settings, service)
    bolt = build_app(runtime, http=True)

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_response = await run_in_threadpool(dispatch, bolt, runtime, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"ok": True})

    async def readyz(_: Request) -> Response:
        try:
            checks = await run_in_threadpool(service.ready)
        except Exception as exc:  # noqa: BLE001 - a probe reports, it does not raise
            log.warning("slack.readyz_failed", extra={"error_type": type(exc).__name__})
            checks = {"index_loaded": False, "chroma": False}
        checks = {**checks, "state_store": await run_in_threadpool(runtime.store.ping)}
        ok = all(checks.values()) and not runtime.workers.draining
        return JSONResponse({"ok": ok, **checks}, status_code=200 if ok else 503)

    app = Starlette(routes=[
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ])
    app.state.bolt = bolt
    app.state.runtime = runtime
    return app


def serve_http(settings: Settings, service: AnswerBackend, *, host: str, port: int) -> None:
    """Run the Events API server until SIGTERM/SIGINT, then drain the answering workers."""
    import uvicorn

    app = build_http_app(settings, service)
    log.info("slack.http_starting", extra={"host": host, "port": port})
    try:
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, server_header=False)
    finally:
        app.state.runtime.drain()
        app.state.runtime.store.close()

"""Benchmark the Slack app over loopback: ack latency and event-to-first-reply, for one replica on
SQLite, one on PostgreSQL and two on one PostgreSQL, in the same run.

Starts the stand-in Slack Web API (tests/slack/slack_standin.py) in this process and the real app as
subprocesses (`gcot slack --http`, the production path: uvicorn, Bolt, the durable answer queue and
its workers, the real AnswerService over a copy of the index in GCOT_DATA_DIR per replica), then sends
N Slack-signed `app_mention` events at a fixed rate, each in its own thread, cycling through a set of
questions and, with two replicas, alternating between them as a load balancer would. Each PostgreSQL
setup gets a fresh database on the server at --pg-url (dropped afterwards).

    ack latency      send -> HTTP 200 from /slack/events            (Slack's limit: 3 s)
    first reply      send -> the stand-in receives chat.postMessage for that thread
    answer time      AnswerService.ask's own total_ms (from the app's `slack.answered` log lines)
    slack overhead   first reply - answer time: queueing, lookups and Web API calls

The machine's load average is reported too: on a shared machine the answer time, and so the first
reply, depends mostly on what else is running.

Usage:
    GCOT_DATA_DIR=.data gcot bench slack --events 100 --rate 1
    GCOT_DATA_DIR=.data .venv/bin/python evals/bench_slack.py --events 100 --rate 1 --setup sqlite-1
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import tempfile
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "slack"))

from slack_events import SIGNING_SECRET, event_envelope, mention, post_event  # noqa: E402
from slack_standin import APP_TOKEN, BOT_TOKEN, BOT_USER, INTERNAL_CHANNEL, STAFF_USER, SlackStandIn  # noqa: E402

QUESTIONS = [
    "When was the GCOT joint statement of intent published?",
    "How often does the GCOT steering group meet?",
    "What are the collaboration areas GCOT partners said they would work on?",
    "What does the UK Telecommunications (Security) Act 2021 do?",
    "What is Open RAN?",
    "What is the NICE framework?",
    "What are the 6G principles?",
    "Which countries are in the coalition?",
    "What is the best sourdough recipe?",
    "What telecoms skills frameworks exist?",
]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


SETUPS = {"sqlite-1": (1, False), "postgresql-1": (1, True), "postgresql-2": (2, True)}
"""name -> (replicas, on PostgreSQL)."""
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def start_app(standin: SlackStandIn, port: int, data_dir: str, database_url: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "GCOT_DATA_DIR": data_dir, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN,
           "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": standin.api_url,
           "SLACK_USER_RATE_PER_MINUTE": "100000", "SLACK_CHANNEL_RATE_PER_MINUTE": "100000",
           "GCOT_LOG_LEVEL": "INFO", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "SLACK_STREAMING": "false"}  # replies are timed as chat.postMessage (mentions stream by default)
    env.pop("GCOT_DATABASE_URL", None)
    if database_url:
        env["GCOT_DATABASE_URL"] = database_url
    gcot = str(Path(sys.executable).parent / "gcot")
    return subprocess.Popen([gcot, "slack", "--http", "--port", str(port)], env=env, cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)


def create_database(admin_url: str) -> tuple[str, object]:
    """A fresh database on the server; returns its URL and a function that drops it."""
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"gcot_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


def collect_answered(proc: subprocess.Popen, into: dict[str, float]) -> None:
    """event_id -> answer total_ms from the app's JSON log lines (read on a thread so the pipe never fills)."""
    for line in proc.stderr:  # type: ignore[union-attr]
        if '"slack.answered"' in line:
            record = json.loads(line)
            into[record["event_id"]] = float(record.get("answer_ms") or 0)


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 95), 1),
            "p99": round(percentile(values, 99), 1), "max": round(max(values), 1)}


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"app exited with {proc.returncode}")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("app not ready in time")


def run_setup(standin: SlackStandIn, *, replicas: int, database_url: str | None, events: int, rate: float,
              port: int, data_dir: str) -> dict:
    """Start `replicas` apps (own copies of the index), send the events round-robin, measure."""
    workdir = Path(tempfile.mkdtemp(prefix="gcot-bench-slack-"))
    procs, bases = [], []
    answered: dict[str, float] = {}
    try:
        for i in range(replicas):
            copy = workdir / f"replica-{i}"
            shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("slack.sqlite3*"))
            procs.append(start_app(standin, port + i, str(copy), database_url))
            bases.append(f"http://127.0.0.1:{port + i}")
            threading.Thread(target=collect_answered, args=(procs[-1], answered), daemon=True).start()
        for base, proc in zip(bases, procs):
            wait_ready(base, proc)
        return measure(standin, bases, answered, events=events, rate=rate)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def measure(standin: SlackStandIn, bases: list[str], answered: dict[str, float], *, events: int,
            rate: float) -> dict:
    client = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=32))
    sent: dict[str, float] = {}
    event_of: dict[str, str] = {}
    acks: list[float] = []

    def send(i: int) -> None:
        question = QUESTIONS[i % len(QUESTIONS)]
        ts = standin.add_user_message(INTERNAL_CHANNEL, STAFF_USER, f"<@{BOT_USER}> {question}")
        payload = event_envelope(mention(INTERNAL_CHANNEL, STAFF_USER, question, ts))
        start = time.monotonic()
        sent[ts] = start
        event_of[ts] = payload["event_id"]
        response = post_event(client, bases[i % len(bases)] + "/slack/events", payload)
        acks.append((time.monotonic() - start) * 1000)
        assert response.status_code == 200, response.status_code

    for i in range(len(bases)):  # one warm-up event per replica outside the measurement
        send(i)
    standin.wait_for("chat.postMessage", count=len(bases), timeout=60)
    standin.reset()
    sent.clear()
    acks.clear()

    load_before = os.getloadavg()
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for i in range(events):
            delay = began + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, i)
    replies = standin.wait_for("chat.postMessage", count=events, timeout=120 + events / rate)
    apologies = sum(1 for call in replies if str(call.params.get("text", "")).startswith("Sorry"))
    first: dict[str, float] = {}
    for call in replies:
        thread = call.params.get("thread_ts")
        if thread in sent and thread not in first:
            first[thread] = (call.at - sent[thread]) * 1000
    reply_ms = list(first.values())
    time.sleep(0.5)  # the last log lines
    answer_ms = [answered[event_of[ts]] for ts in first if event_of[ts] in answered]
    overhead = [first[ts] - answered[event_of[ts]] for ts in first if event_of[ts] in answered]
    client.close()
    return {
        "replicas": len(bases), "events": events, "rate_per_s": rate, "replies": len(first), "apologies": apologies,
        "workers_per_replica": os.environ.get("SLACK_WORKERS", "4"),
        "loadavg_before": [round(x, 1) for x in load_before], "loadavg_after": [round(x, 1) for x in os.getloadavg()],
        "ack_ms": summary(acks), "first_reply_ms": summary(reply_ms),
        "answer_ms": summary(answer_ms), "slack_overhead_ms": summary(overhead),
        "goals": {"ack_p99_ms<=50": percentile(acks, 99) <= 50,
                  "first_reply_p95_ms<=1000": percentile(reply_ms, 95) <= 1000},
    }


def run(events: int, rate: float, port: int, data_dir: str, *, setups: list[str] | None = None,
        pg_url: str = PG_ADMIN_URL) -> dict:
    """Every setup in `setups` (default: all of SETUPS) in one run, one after the other."""
    standin = SlackStandIn().start()
    results: dict[str, dict] = {}
    load_before = os.getloadavg()
    try:
        for name in setups or list(SETUPS):
            replicas, on_pg = SETUPS[name]
            database_url, drop = create_database(pg_url) if on_pg else (None, None)
            try:
                results[name] = run_setup(standin, replicas=replicas, database_url=database_url, events=events,
                                          rate=rate, port=port, data_dir=data_dir)
            finally:
                if drop:
                    drop()
            standin.reset()
    finally:
        standin.stop()
    return {"cpus": os.cpu_count(), "loadavg_before": [round(x, 1) for x in load_before],
            "loadavg_after": [round(x, 1) for x in os.getloadavg()], "setups": results}


def format_report(result: dict) -> str:
    """One line per setup: ack p50/p99, first reply p50/p95, answer time p50, load average."""
    lines = [f"cpus {result['cpus']}, load average before {result['loadavg_before']} after {result['loadavg_after']}",
             f"{'setup':<14} {'ack p50':>8} {'ack p99':>8} {'reply p50':>10} {'reply p95':>10} {'answer p50':>11}  load"]
    for name, r in result["setups"].items():
        lines.append(f"{name:<14} {r['ack_ms']['p50']:>8} {r['ack_ms']['p99']:>8} {r['first_reply_ms']['p50']:>10}"
                     f" {r['first_reply_ms']['p95']:>10} {r['answer_ms']['p50']:>11}  {r['loadavg_before'][0]}"
                     f"->{r['loadavg_after'][0]}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--rate", type=float, default=1.0, help="events per second (open loop). Defaults to 1.")
    parser.add_argument("--port", type=int, default=3917)
    parser.add_argument("--data-dir", default=os.environ.get("GCOT_DATA_DIR", ".data"))
    parser.add_argument("--setup", action="append", choices=list(SETUPS), help="Repeat for several. Default: all.")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="PostgreSQL where fresh databases are created.")
    args = parser.parse_args()
    print(json.dumps(run(args.events, args.rate, args.port, args.data_dir, setups=args.setup, pg_url=args.pg_url),
                     indent=2))


if __name__ == "__main__":
    main()

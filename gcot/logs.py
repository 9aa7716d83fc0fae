"""Structured logging: one JSON object per line on stderr, one line per event; quiet by default.

Commands print their output on stdout and a one-line error on failure; logs are for operators. The
default level is WARNING (`GCOT_LOG_LEVEL`, or `gcot --verbose` for INFO). Message bodies from users
or documents are never logged at INFO; callers pass ids, counts and timings as `extra` fields.

Libraries are kept quiet as well: their records below WARNING are dropped unless the level is DEBUG
(bm25s, for one, sets its own logger to DEBUG on import), and model loading shows no progress bars
(transformers' "Loading weights", Hugging Face Hub downloads).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
OUR_LOGGERS = ("gcot", "bot", "ingest", "store", "encoder", "evals", "__main__")
"""Loggers of this project; everything else is a library, shown from WARNING unless the level is DEBUG."""
DEFAULT_LEVEL = "WARNING"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        payload.update({key: value for key, value in vars(record).items() if key not in _RESERVED})
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class _LibraryFilter(logging.Filter):
    """Drops library records below WARNING (ours pass at the configured level)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return record.name.split(".", 1)[0] in OUR_LOGGERS


def parse_level(level: str | int) -> int:
    """`"info"`, `"WARNING"`, `"20"` or 20 -> a logging level number.

    Raises:
        ValueError: for anything else, naming the accepted values.
    """
    if isinstance(level, int) or str(level).strip().isdigit():
        return int(level)
    number = logging.getLevelName(str(level).strip().upper())
    if not isinstance(number, int):
        msg = f"GCOT_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {level!r}"
        raise ValueError(msg)
    return number


def quiet_progress_bars() -> None:
    """No tqdm bars from model loading: set the Hub's switch before transformers reads it, or tell it."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if "transformers" in sys.modules:  # already imported: its flag was read at import time
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


def configure_logging(level: str | int = DEFAULT_LEVEL) -> None:
    """JSON lines on stderr at `level` (WARNING by default); library chatter below WARNING dropped
    unless `level` is DEBUG; no model-loading progress bars below DEBUG.

    Raises:
        ValueError: if `level` is not a logging level name or number.
    """
    number = parse_level(level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(number)  # also catches libraries that set their own loggers lower (bm25s: DEBUG)
    if number > logging.DEBUG:
        handler.addFilter(_LibraryFilter())
        quiet_progress_bars()
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(number)
    logging.captureWarnings(True)  # library warnings become one JSON line, not a multi-line print

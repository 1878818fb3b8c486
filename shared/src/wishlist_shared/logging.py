"""JSON log lines that carry the correlation id and the service's name."""

from __future__ import annotations

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

from wishlist_shared import correlation

# A WebSocket ticket and a share link's token each open something on their own:
# whoever reads the logs must not be able to use them. uvicorn writes the path
# with its query string into its request lines (the access log, and the
# "WebSocket /ws?ticket=..." line of its error logger); every line is redacted,
# whoever wrote it.
_BEARER_PARTS = re.compile(r"(?P<keep>[?&](?:ticket|token)=|/shared/)[^&/?#\s\"]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with every ticket and share-link token in a URL replaced."""
    return _BEARER_PARTS.sub(lambda m: m["keep"] + REDACTED, text)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.correlation_id = correlation.correlation_id.get()
        # uvicorn attaches an ANSI-coloured copy of each message; noise in JSON.
        record.__dict__.pop("color_message", None)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # the handler reports a malformed call as logging always does
        record.msg, record.args = redact(message), None
        return True


def configure(service: str, level: str = "INFO", json: bool = True) -> None:
    """Route every logger (uvicorn's and FastStream's included) to one stdout handler."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_ContextFilter(service))
    if json:
        handler.setFormatter(
            JsonFormatter(
                "%(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    names = ["uvicorn", "uvicorn.error", "faststream"]
    # uvicorn --no-access-log (UVICORN_ACCESS_LOG=false) leaves its access logger
    # without handlers and not propagating, and logs no request line while it
    # stays so: keep it off then, rather than turn it on through the root.
    access = logging.getLogger("uvicorn.access")
    if access.handlers or access.propagate:
        names.append("uvicorn.access")
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # httpx writes a line for every request it sends (the gateway's forward to a
    # service, the URL and its tokens included) at INFO: the access logs already
    # say it, and a line per request costs the gateway's hot path.
    logging.getLogger("httpx").setLevel(logging.WARNING)

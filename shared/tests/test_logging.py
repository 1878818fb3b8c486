"""Every line goes out as JSON through one handler; uvicorn's access log only when it is on."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import redirect_stdout

import pytest

from wishlist_shared import logging as service_logging

ACCESS = "uvicorn.access"


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    root, access = logging.getLogger(), logging.getLogger(ACCESS)
    saved = (root.handlers[:], root.level, access.handlers[:], access.propagate)
    yield
    root.handlers[:], level, access.handlers[:], access.propagate = saved
    root.setLevel(level)


def test_uvicorns_access_log_becomes_json_when_uvicorn_has_it_on() -> None:
    access = logging.getLogger(ACCESS)
    # What uvicorn's default logging configuration leaves: its own handler.
    access.handlers[:] = [logging.StreamHandler()]
    access.propagate = False
    out = io.StringIO()
    with redirect_stdout(out):
        service_logging.configure("things")
        assert access.hasHandlers()
        access.info('127.0.0.1:1 - "GET / HTTP/1.1" 200')
    line = json.loads(out.getvalue())
    assert line["logger"] == ACCESS
    assert line["service"] == "things"


def test_no_access_log_stays_off() -> None:
    access = logging.getLogger(ACCESS)
    # What `uvicorn --no-access-log` leaves: no handler, no propagation.
    access.handlers[:] = []
    access.propagate = False
    service_logging.configure("things")
    # uvicorn's protocols log request lines only when this is true.
    assert not access.hasHandlers()

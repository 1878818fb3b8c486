"""The suite on several pytest-xdist workers (``make test``): which tests stay together,
and the summaries that workers hand to the terminal.

Tests that share an expensive resource held across tests (a platform started
for a session, a package or a module; the web app's build; the fault suite's
own servers) are kept on one worker with an ``xdist_group`` mark, so that the
resource starts once rather than once per worker; ``--dist loadgroup`` hands
out every other test one by one. Which tests share what is read from their
fixtures, so a new shared fixture is grouped without anyone listing it.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from _pytest.nodeid import NodeId

PER_WORKER = frozenset({"servers", "database_factory"})
"""Session fixtures each worker sets up for itself: finding the servers, and
migrating one template database per set of services (seconds). Grouping every
test that uses them would put the whole suite on one worker."""

_BREADTH = {"session": 0, "package": 1, "module": 2, "class": 3}

SUMMARIES = pytest.StashKey[list[tuple[str, str]]]()
_WORKER_OUTPUT = "wishlist_summaries"


def add_summary(config: pytest.Config, title: str, text: str) -> None:
    """Prints ``text`` under ``title`` at the end of the run, with or without workers.

    Call it at the latest from ``pytest_sessionfinish``. A worker's own
    ``pytest_terminal_summary`` writes to a terminal nobody reads; this one
    reaches the controller's.
    """
    config.stash.setdefault(SUMMARIES, []).append((title, text))


def _holds_a_resource(fixturedef: pytest.FixtureDef[Any]) -> bool:
    """A fixture that yields keeps something running or open until its scope ends;
    one that returns hands out a value (or a factory) that is cheap to make again."""
    func = fixturedef.func
    return inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func)


def _ours(fixturedef: pytest.FixtureDef[Any], root: Path) -> bool:
    """Defined in this repository (a conftest, a test module, the fixture layer),
    not by pytest or an installed plugin (pytest-asyncio's event loops are per worker)."""
    try:
        path = Path(inspect.getfile(fixturedef.func)).resolve()
    except TypeError:
        return False
    return path.is_relative_to(root) and "site-packages" not in path.parts


def shared_setup(item: pytest.Item) -> str | None:
    """The group of tests ``item`` must run with: those sharing its broadest
    expensive fixture (``None`` when it shares none)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    root = item.config.rootpath.resolve()
    found: list[tuple[int, str]] = []
    for name in info.names_closure:
        definitions = info.name2fixturedefs.get(name)
        if not definitions:
            continue
        fixturedef = definitions[-1]
        if (
            fixturedef.scope not in _BREADTH
            or name in PER_WORKER
            or not _holds_a_resource(fixturedef)
            or not _ours(fixturedef, root)
        ):
            continue
        if fixturedef.scope in ("session", "package"):
            # One instance per definition (a package fixture: per its conftest's folder).
            key = f"{fixturedef.baseid or 'root'}::{name}"
        elif fixturedef.scope == "module":
            key = item.nodeid.split("::", 1)[0]
        else:
            key = item.nodeid.rsplit("::", 1)[0]
        found.append((_BREADTH[fixturedef.scope], key))
    return min(found)[1] if found else None


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Generator[None, None, None]:
    groups: dict[int, str] = {}
    for item in items:
        # A test's own xdist_group marks win; xdist joins several with "_".
        marked = {
            str(m.args[0] if m.args else m.kwargs.get("name", "default"))
            for m in item.iter_markers("xdist_group")
        }
        group = "_".join(sorted(marked)) if marked else shared_setup(item)
        if group is not None:
            if not marked:
                item.add_marker(pytest.mark.xdist_group(group))
            groups[id(item)] = group
    # Every other implementation, xdist's among them, sees the marks.
    yield
    if getattr(config, "workerinput", None) is not None and config.getvalue("loadgroup"):
        _name_groups(items, groups)


def _name_groups(items: list[pytest.Item], groups: dict[int, str]) -> None:
    """Does what xdist 3.8 means to do on a worker and on pytest 9.2 no longer can
    (pytest-xdist issue 1386): append ``@group`` to each grouped test's id, which
    is all its controller sees of the group. Its own attempt sets a field pytest
    stopped reading; once a release fixes it, the ids already end in ``@``."""
    for item in items:
        group = groups.get(id(item))
        if group is not None and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{group}")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # Last: after the conftests that add summaries at the session's end.
    worker_output: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if worker_output is not None:
        worker_output[_WORKER_OUTPUT] = session.config.stash.get(SUMMARIES, [])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the controller: a worker's summaries, as it finished."""
    output: dict[str, Any] = getattr(node, "workeroutput", None) or {}
    for title, text in output.get(_WORKER_OUTPUT, []):
        add_summary(node.config, title, text)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for title, text in terminalreporter.config.stash.get(SUMMARIES, []):
        terminalreporter.write_sep("=", title)
        terminalreporter.write_line(text)

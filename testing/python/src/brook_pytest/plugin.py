"""The pytest plugin: fixtures `brook` (function scope) and `brook_session` (session scope).

`brook` hands each test the session's broker after a reset (no topics, groups, offsets, fault rules
or request log left by earlier tests). A test marked `@pytest.mark.brook(fresh=True)` (or given
`overrides={...}`, which need a broker of their own), or every test under `--brook-fresh`, gets a
new broker that is stopped after it.
"""

from __future__ import annotations

from typing import Iterator, Optional

import pytest

from brook_pytest.server import Brook


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("brook", "Brook broker for tests")
    group.addoption("--brook-server", action="store", default=None,
                    help="path of brook-server (default: $BROOK_SERVER, then PATH)")
    group.addoption("--brook-fresh", action="store_true", default=False,
                    help="start a new broker for every test instead of resetting the session's")
    parser.addini("brook_server", "path of brook-server (default: $BROOK_SERVER, then PATH)", default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "brook(fresh=False, overrides=None): fresh=True gives the test a broker of its own; "
                   "overrides (a dict of broker configs) imply it")


def _server_path(config: pytest.Config) -> Optional[str]:
    return config.getoption("--brook-server") or config.getini("brook_server") or None


@pytest.fixture(scope="session")
def brook_session(pytestconfig: pytest.Config) -> Iterator[Brook]:
    """The broker shared by the session's tests (started on first use)."""
    broker = Brook(_server_path(pytestconfig)).start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def brook(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> Iterator[Brook]:
    """A broker with nothing in it: the session's, reset, or a fresh one (see the module doc)."""
    marker = request.node.get_closest_marker("brook")
    options = dict(marker.kwargs) if marker else {}
    overrides = options.get("overrides")
    if options.get("fresh") or overrides or pytestconfig.getoption("--brook-fresh"):
        broker = Brook(_server_path(pytestconfig), overrides).start()
        try:
            yield broker
        finally:
            broker.stop()
        return
    shared: Brook = request.getfixturevalue("brook_session")
    shared.reset()
    yield shared

"""Fault tests start real processes (gunicorn, the scheduler, a PostgreSQL cluster) and kill
them; they are marked slow (CI runs them: `pytest -m slow` alone runs just these)."""

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.slow)

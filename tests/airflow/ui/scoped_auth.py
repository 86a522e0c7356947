"""An auth manager for the UI tests: Airflow's SimpleAuthManager, where some users may read only
the DAGs listed for them, so that per-DAG authorisation can be seen at work.

Configured as ``[core] auth_manager = scoped_auth.ScopedSimpleAuthManager`` with the scopes in
``LODESTAR_TEST_DAG_SCOPES`` (JSON: user -> list of DAG ids).
"""

from __future__ import annotations

import json
import os
from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager


def _scopes() -> dict[str, list[str]]:
    return dict(json.loads(os.environ.get("LODESTAR_TEST_DAG_SCOPES", "{}")))


class ScopedSimpleAuthManager(SimpleAuthManager):
    """SimpleAuthManager with per-user DAG scopes for reading and writing DAGs."""

    def is_authorized_dag(self, *, method: Any, user: Any, **kwargs: Any) -> bool:
        scope = _scopes().get(user.get_name())
        details = kwargs.get("details")
        dag_id = getattr(details, "id", None)
        if scope is not None and (dag_id is None or dag_id not in scope):
            return False
        return bool(super().is_authorized_dag(method=method, user=user, **kwargs))

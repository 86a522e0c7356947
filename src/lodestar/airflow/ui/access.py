"""Who the caller is and what they may read, decided by Airflow's own auth manager.

The user comes from the api-server's ``get_user`` dependency (JWT bearer header or the UI's
session cookie); a product is readable when the auth manager lets the user read its DAG.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.api_fastapi.auth.managers.models.base_user import BaseUser


def readable_dag_ids(user: BaseUser, dag_ids: set[str]) -> set[str]:
    """The DAG ids among ``dag_ids`` that ``user`` may read (method GET)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.configuration import conf

    manager = get_auth_manager()
    if not conf.getboolean("core", "multi_team"):
        return set(manager.filter_authorized_dag_ids(dag_ids=dag_ids, user=user, method="GET"))

    from airflow.models.dag import DagModel

    by_team: dict[str | None, set[str]] = defaultdict(set)
    for dag_id, team in DagModel.get_dag_id_to_team_name_mapping(sorted(dag_ids)).items():
        by_team[team].add(dag_id)
    by_team[None].update(dag_ids - {d for ids in by_team.values() for d in ids})
    readable: set[str] = set()
    for team, ids in by_team.items():
        readable |= manager.filter_authorized_dag_ids(
            dag_ids=ids, user=user, method="GET", team_name=team
        )
    return readable


def login_url(next_url: str) -> str:
    """The auth manager's login page, coming back to ``next_url``."""
    from airflow.api_fastapi.app import get_auth_manager

    return str(get_auth_manager().get_url_login(next_url=next_url))

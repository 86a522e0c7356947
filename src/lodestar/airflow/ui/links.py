"""Where the page links to: Airflow's own DAG, run and task views, this app, and Marquez."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from lodestar.airflow.ui.redaction import without_userinfo
from lodestar.naming import DatasetName


def _part(text: str) -> str:
    return quote(text, safe="")


@dataclass(frozen=True)
class Links:
    """URL builder for one request: ``airflow`` and ``app`` are path prefixes ending in ``/``."""

    airflow: str
    app: str
    marquez: str | None = None

    @classmethod
    def create(cls, airflow_root: str, app_root: str, marquez: str | None) -> Links:
        base = without_userinfo(marquez).rstrip("/") if marquez else None
        return cls(airflow_root.rstrip("/") + "/", app_root.rstrip("/") + "/", base)

    def dag(self, dag_id: str) -> str:
        return f"{self.airflow}dags/{_part(dag_id)}"

    def run(self, dag_id: str, run_id: str) -> str:
        return f"{self.dag(dag_id)}/runs/{_part(run_id)}"

    def task(self, dag_id: str, run_id: str, task_id: str) -> str:
        return f"{self.run(dag_id, run_id)}/tasks/{_part(task_id)}"

    def page(self, product: str) -> str:
        return f"{self.app}products/{_part(product)}"

    def home(self) -> str:
        return self.app

    def static(self, name: str) -> str:
        return f"{self.app}static/{name}"

    def marquez_dataset(self, dataset: DatasetName) -> str | None:
        """Marquez web's lineage view of a dataset: ``/lineage/dataset/<namespace>/<name>``.

        Credentials in a namespace (``s3://user:secret@bucket``) are left out of the link.
        """
        if self.marquez is None:
            return None
        namespace = without_userinfo(dataset.namespace)
        return f"{self.marquez}/lineage/dataset/{_part(namespace)}/{_part(dataset.name)}"

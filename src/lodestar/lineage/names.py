"""Names in lineage events: job names, and the checks that Marquez will accept every name.

Marquez rejects an event (HTTP 400) whose namespace has characters outside letters, digits and
``_ - : ; = / .`` or whose job or dataset name is blank; newer versions also allow ``@`` and
``+``, which we do not rely on. Checking here turns that remote rejection into a clear local
error naming the product, the dataset and the setting behind the name.
"""

from __future__ import annotations

import re

from lodestar.errors import LodestarError

#: namespace characters every Marquez version accepts (its NamespaceName pattern)
MARQUEZ_NAMESPACE = re.compile(r"^[a-zA-Z0-9:;=/_\-.]{1,1024}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class LineageError(LodestarError):
    """Lineage cannot be built or checked: what is wrong, where, and how to fix it."""


def job_name(product: str, task: str) -> str:
    """The job of one task of a product's DAG, as the Airflow provider names it (dag.task)."""
    return f"{product}.{task}"


def namespace_problem(namespace: str) -> str | None:
    """Why Marquez would reject ``namespace``, or None when it is fine."""
    if not namespace:
        return "the namespace is empty"
    if MARQUEZ_NAMESPACE.match(namespace):
        return None
    bad = sorted({c for c in namespace if not MARQUEZ_NAMESPACE.match(c)})
    if len(namespace) > 1024:
        return f"the namespace is {len(namespace)} characters long (Marquez allows 1024)"
    shown = ", ".join(repr(c) for c in bad)
    return (
        f"the namespace has characters Marquez rejects ({shown}); allowed: letters, digits, _-:;=/."
    )


def name_problem(namespace: str, name: str) -> str | None:
    """Why Marquez (or the OpenLineage naming spec) would reject a job or dataset name."""
    if not name or not name.strip():
        return "the name is empty"
    if _CONTROL.search(name):
        return "the name has control characters"
    if namespace == "file" and not name.startswith("/"):
        return "a dataset in namespace 'file' needs an absolute path as its name"
    return None


def check_dataset(namespace: str, name: str, what: str) -> None:
    """Raise :class:`LineageError` when Marquez would reject this dataset identity."""
    problem = namespace_problem(namespace) or name_problem(namespace, name)
    if problem:
        raise LineageError(
            f"{what}: dataset {namespace!r} / {name!r}: {problem} "
            "(hint: the name comes from lodestar.naming and the settings lake_root / warehouse; "
            "use paths without spaces or special characters)"
        )


def check_job(namespace: str, name: str) -> None:
    """Raise :class:`LineageError` when Marquez would reject this job identity."""
    problem = namespace_problem(namespace)
    if problem:
        raise LineageError(
            f"job namespace {namespace!r}: {problem} (hint: set OPENLINEAGE_NAMESPACE or the "
            "lineage_namespace setting)"
        )
    problem = name_problem(namespace, name)
    if problem:
        raise LineageError(f"job {namespace!r} / {name!r}: {problem}")

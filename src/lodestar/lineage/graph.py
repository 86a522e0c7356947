"""The lineage graph of events: jobs and datasets joined by input and output edges.

Built from emitted events (the JSONL file, or what a backend received) or from a plan's step
lineage, it answers what Marquez's graph view shows: which job writes and reads each dataset,
and whether the NSM dataset reaches the source files by walking edges backwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openlineage.client.serde import Serde

from lodestar.lineage.facets import BUSINESS, DATA_PRODUCT
from lodestar.lineage.names import job_name

Key = tuple[str, str]  # (namespace, name)


@dataclass
class DatasetNode:
    key: Key
    business: dict[str, Any] = field(default_factory=dict)
    writers: set[Key] = field(default_factory=set)
    readers: set[Key] = field(default_factory=set)

    @property
    def label(self) -> str:
        ns, name = self.key
        return f"file://{name}" if ns == "file" else f"{ns.rstrip('/')}/{name}"


@dataclass
class JobNode:
    key: Key
    product: dict[str, Any] = field(default_factory=dict)
    inputs: set[Key] = field(default_factory=set)
    outputs: set[Key] = field(default_factory=set)

    @property
    def step(self) -> dict[str, Any]:
        return dict(self.product.get("step") or {})


@dataclass
class LineageGraph:
    jobs: dict[Key, JobNode] = field(default_factory=dict)
    datasets: dict[Key, DatasetNode] = field(default_factory=dict)

    def _dataset(self, item: Mapping[str, Any]) -> DatasetNode:
        key = (str(item.get("namespace", "")), str(item.get("name", "")))
        node = self.datasets.setdefault(key, DatasetNode(key))
        business = (item.get("facets") or {}).get(BUSINESS)
        if isinstance(business, Mapping):
            node.business = dict(business)
        return node

    def add_event(self, event: Mapping[str, Any]) -> None:
        job = event.get("job")
        if not isinstance(job, Mapping):
            return
        key = (str(job.get("namespace", "")), str(job.get("name", "")))
        node = self.jobs.setdefault(key, JobNode(key))
        product = (job.get("facets") or {}).get(DATA_PRODUCT)
        if isinstance(product, Mapping):
            node.product = dict(product)
        for item in event.get("inputs") or []:
            dataset = self._dataset(item)
            node.inputs.add(dataset.key)
            dataset.readers.add(key)
        for item in event.get("outputs") or []:
            dataset = self._dataset(item)
            node.outputs.add(dataset.key)
            dataset.writers.add(key)

    @classmethod
    def from_events(cls, events: Iterable[Mapping[str, Any]]) -> LineageGraph:
        graph = cls()
        for event in events:
            graph.add_event(event)
        return graph

    @classmethod
    def from_lineage(cls, namespace: str, product: str, lineages: Iterable[Any]) -> LineageGraph:
        """From :class:`~lodestar.lineage.steps.StepLineage` objects, without emitting."""
        graph = cls()
        for lineage in lineages:
            graph.add_event(
                {
                    "job": {
                        "namespace": namespace,
                        "name": job_name(product, lineage.task),
                        "facets": {k: Serde.to_dict(v) for k, v in lineage.job_facets.items()},
                    },
                    "inputs": [Serde.to_dict(d) for d in lineage.inputs],
                    "outputs": [Serde.to_dict(d) for d in lineage.outputs],
                }
            )
        return graph

    def merge(self, other: LineageGraph) -> None:
        """Add another graph's jobs, datasets and edges (same keys are the same node)."""
        for key, job in other.jobs.items():
            mine = self.jobs.setdefault(key, JobNode(key))
            mine.product = mine.product or job.product
            mine.inputs |= job.inputs
            mine.outputs |= job.outputs
        for key, dataset in other.datasets.items():
            node = self.datasets.setdefault(key, DatasetNode(key))
            node.business = node.business or dataset.business
            node.writers |= dataset.writers
            node.readers |= dataset.readers

    # --- queries ----------------------------------------------------------------------------

    def find(self, *, product: str, output: str) -> DatasetNode | None:
        """The dataset a product's output is, by its business facet."""
        return next(
            (
                d
                for d in self.datasets.values()
                if d.business.get("product") == product and d.business.get("output") == output
            ),
            None,
        )

    def upstream(self, start: Key) -> list[Key]:
        """Datasets reachable backwards from ``start`` (dataset <- job <- dataset ...)."""
        seen = {start}
        order: list[Key] = []
        frontier = [start]
        while frontier:
            current = frontier.pop(0)
            for writer in sorted(self.datasets[current].writers):
                for source in sorted(self.jobs[writer].inputs):
                    if source not in seen:
                        seen.add(source)
                        order.append(source)
                        frontier.append(source)
        return order

    def path(self, start: Key, goal: Key) -> list[Key] | None:
        """A backward path start <- job <- ... <- goal, alternating datasets and jobs."""
        previous: dict[Key, Key] = {}
        frontier = [start]
        seen = {start}
        while frontier:
            current = frontier.pop(0)
            if current == goal:
                chain = [goal]
                while chain[-1] != start:
                    chain.append(previous[chain[-1]])
                return list(reversed(chain))
            for writer in sorted(self.datasets[current].writers):
                for source in sorted(self.jobs[writer].inputs):
                    if source not in seen:
                        seen.add(source)
                        previous[source] = writer
                        previous.setdefault(writer, current)
                        frontier.append(source)
        return None

    def longest_path(self, start: Key, goal: Key) -> list[Key] | None:
        """The backward path start <- job <- ... <- goal through the most jobs: the chain that
        shows every step a value went through, where :meth:`path` shows the shortest."""
        best: dict[Key, list[Key] | None] = {}

        def walk(current: Key, on_path: frozenset[Key]) -> list[Key] | None:
            if current == goal:
                return [goal]
            if current in best:
                return best[current]
            found: list[Key] | None = None
            for writer in sorted(self.datasets[current].writers):
                for source in sorted(self.jobs[writer].inputs):
                    if source in on_path:
                        continue  # NOTE: a cycle would be a broken graph; never loop on it
                    rest = walk(source, on_path | {source})
                    if rest is not None and (found is None or len(rest) + 2 > len(found)):
                        found = [current, writer, *rest]
            best[current] = found
            return found

        return walk(start, frozenset({start}))

    def orphans(self) -> list[Key]:
        """Jobs with neither inputs nor outputs (a product-level parent run is not one)."""
        return sorted(k for k, j in self.jobs.items() if not j.inputs and not j.outputs and j.step)

    def product_jobs(self, product: str) -> list[JobNode]:
        """A product's jobs in dependency order; ties keep the order jobs were first seen."""
        remaining = [j for j in self.jobs.values() if j.product.get("name") == product and j.step]
        placed: list[JobNode] = []
        while remaining:
            keys = {j.key for j in remaining}
            ready = next(
                (
                    j
                    for j in remaining
                    if not any(
                        w in keys and w != j.key for d in j.inputs for w in self.datasets[d].writers
                    )
                ),
                remaining[0],  # NOTE: a cycle is shown in first-seen order, not hidden
            )
            placed.append(ready)
            remaining.remove(ready)
        return placed

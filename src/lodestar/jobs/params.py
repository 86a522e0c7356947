"""The JSON parameters of the Spark jobs, parsed into frozen dataclasses.

The Airflow layer writes one JSON file per run (see :func:`lodestar.plan.spark_params`); the
jobs read it here. Every problem is reported as a :class:`ParamsError` naming the file and the
key path (``source.columns.quantity``), what is wrong and what would fix it. Unknown keys are
errors too, with a "did you mean" when one is close. This module imports no pyspark.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

from lodestar.errors import JobError

SOURCE_FORMATS = ("parquet", "csv", "baskets")
QUANTITY_MODES = ("column", "line_per_unit")
OVERSIZE_POLICIES = ("exclude", "keep", "fail")
PERIODS = ("month",)
#: the fields a source column mapping may name; the first two are always required
MAPPED_FIELDS = (
    "order_id",
    "product_id",
    "description",
    "quantity",
    "ordered_at",
    "unit_price",
    "customer_id",
    "country",
)
INGEST_OUTPUTS = ("order_lines", "orders", "products", "quarantine")
AFFINITY_OUTPUTS = ("item_support", "pair_rules", "period_rules", "order_attach")

SourceFormat = Literal["parquet", "csv", "baskets"]
QuantityMode = Literal["column", "line_per_unit"]
OversizePolicy = Literal["exclude", "keep", "fail"]


class ParamsError(JobError):
    """The parameter file of a job is missing, unreadable or invalid."""


# -- the parameters ------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A half-open interval [start, end) of naive local times, aligned to whole periods."""

    start: datetime
    end: datetime

    def periods(self) -> tuple[str, ...]:
        """The ``YYYY-MM`` periods the interval covers."""
        found: list[str] = []
        month = self.start
        while month < self.end:
            found.append(month.strftime("%Y-%m"))
            month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        return tuple(found)

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class CsvOptions:
    """How a CSV (or basket) file is split into records and fields."""

    header: bool = True
    delimiter: str = ","
    quote: str = '"'
    #: NOTE: defaults to the quote character (RFC 4180 doubles quotes inside quoted fields)
    escape: str | None = None
    line_separator: str | None = None
    encoding: str = "UTF-8"


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column holds each field; ``None`` when the source has no such column."""

    order_id: str
    product_id: str
    description: str | None = None
    quantity: str | None = None
    ordered_at: str | None = None
    unit_price: str | None = None
    customer_id: str | None = None
    country: str | None = None

    def mapped(self) -> dict[str, str]:
        """Field name -> source column, for the fields that are mapped."""
        return {
            name: column for name in MAPPED_FIELDS if (column := getattr(self, name)) is not None
        }


@dataclass(frozen=True)
class Source:
    path: str
    format: SourceFormat
    timestamp_format: str | None
    csv: CsvOptions
    columns: ColumnMapping | None
    quantity_mode: QuantityMode


@dataclass(frozen=True)
class Rules:
    cancellation_pattern: str | None = None
    adjustment_pattern: str | None = None
    non_product_codes: tuple[str, ...] = ()
    non_product_pattern: str | None = None
    max_rejected_share: float = 0.1


@dataclass(frozen=True)
class IngestParams:
    product: str
    source: Source
    rules: Rules
    interval: Interval | None
    outputs: Mapping[str, str]
    stats_path: Path


@dataclass(frozen=True)
class Thresholds:
    """Which pairs become rules. Both support thresholds may be given: the stricter wins."""

    min_support: float | None = None
    min_support_count: int | None = None
    min_confidence: float = 0.0
    min_lift: float = 0.0

    def min_count(self, total_baskets: int) -> int:
        """The smallest pair count that passes, for ``total_baskets`` baskets (at least 1).

        ``support >= min_support`` is ``count >= min_support * total``; the product is taken in
        decimal arithmetic so that 0.006 * 9835 = 59.01 gives 60 and 0.001 * 20000 gives 20.
        """
        from decimal import Decimal
        from math import ceil

        needed = 1
        if self.min_support is not None:
            needed = max(needed, ceil(Decimal(repr(self.min_support)) * total_baskets))
        if self.min_support_count is not None:
            needed = max(needed, self.min_support_count)
        return needed


@dataclass(frozen=True)
class AffinityParams:
    product: str
    order_lines: str
    thresholds: Thresholds
    max_basket_size: int | None
    oversize_policy: OversizePolicy
    period: str
    trailing_periods: int
    interval: Interval | None
    outputs: Mapping[str, str]
    stats_path: Path


# -- reading -------------------------------------------------------------------------------


class _Obj:
    """One JSON object being read: remembers its key path and which keys were used."""

    def __init__(self, value: Any, path: str, origin: str) -> None:
        if not isinstance(value, dict):
            raise ParamsError(
                f"{origin}: {path or 'the top level'}: expected an object, got {_kind(value)}"
            )
        self.value: dict[str, Any] = value
        self.path = path
        self.origin = origin
        self.used: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> ParamsError:
        return ParamsError(f"{self.origin}: {self.where(key)}: {problem}")

    def raw(self, key: str, required: bool) -> Any:
        self.used.add(key)
        if key not in self.value or self.value[key] is None:
            if required:
                raise self.fail(key, "is required")
            return None
        return self.value[key]

    def text(self, key: str, required: bool = True, default: str | None = None) -> str | None:
        value = self.raw(key, required)
        if value is None:
            return default
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"expected a non-empty string, got {_kind(value)}")
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str | None = None) -> str:
        value = self.text(key, required=default is None, default=default)
        assert value is not None
        if value not in options:
            raise self.fail(
                key, f"{value!r} is not one of {', '.join(options)}{_close(value, options)}"
            )
        return value

    def number(
        self,
        key: str,
        default: float | None = None,
        *,
        low: float | None = None,
        high: float | None = None,
        integer: bool = False,
    ) -> float | None:
        value = self.raw(key, required=False)
        if value is None:
            return default
        wanted = "an integer" if integer else "a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"expected {wanted}, got {_kind(value)}")
        if integer and not float(value).is_integer():
            raise self.fail(key, f"expected {wanted}, got {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise self.fail(key, f"{value!r} must be {bounds}")
        return int(value) if integer else float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key, required=False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {_kind(value)}")
        return value

    def child(self, key: str, required: bool = True) -> _Obj | None:
        value = self.raw(key, required)
        if value is None:
            return None
        return _Obj(value, self.where(key), self.origin)

    def pattern(self, key: str) -> str | None:
        value = self.text(key, required=False)
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise self.fail(key, f"{value!r} is not a regular expression: {exc}") from exc
        return value

    def done(self) -> None:
        """Unknown keys are mistakes (a misspelt threshold must not be silently ignored)."""
        for key in sorted(set(self.value) - self.used):
            raise self.fail(key, f"unknown key{_close(key, sorted(self.used))}")


def _kind(value: Any) -> str:
    return "null" if value is None else f"{type(value).__name__} {value!r}"


def _close(word: str, options: Any) -> str:
    match = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _timestamp(obj: _Obj, key: str) -> datetime:
    text = obj.text(key)
    assert text is not None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise obj.fail(key, f"{text!r} is not an ISO date or date-time") from exc
    if value.tzinfo is not None:
        if value.utcoffset() != timedelta(0):
            raise obj.fail(
                key,
                f"{text!r} has a time-zone offset; order times are naive local times, "
                "so give the local date-time without an offset",
            )
        value = value.replace(tzinfo=None)
    if (value.day, value.hour, value.minute, value.second, value.microsecond) != (1, 0, 0, 0, 0):
        raise obj.fail(
            key,
            f"{text!r} is not the start of a month: an interval rewrites whole period "
            "partitions, so it must start and end at midnight on the first of a month",
        )
    return value


def _interval(obj: _Obj) -> Interval | None:
    child = obj.child("interval", required=False)
    if child is None:
        return None
    interval = Interval(_timestamp(child, "start"), _timestamp(child, "end"))
    child.done()
    if interval.end <= interval.start:
        raise child.fail("end", "must be after start")
    return interval


def _outputs(obj: _Obj, names: tuple[str, ...]) -> dict[str, str]:
    child = obj.child("outputs")
    assert child is not None
    outputs = {name: cast(str, child.text(name)) for name in names}
    child.done()
    return outputs


def _stats_path(obj: _Obj) -> Path:
    text = cast(str, obj.text("stats_path"))
    if "://" in text and not text.startswith("file://"):
        raise obj.fail("stats_path", f"{text!r} must be a local path on the driver")
    return Path(text.removeprefix("file://"))


def _csv(obj: _Obj, format_: str) -> CsvOptions:
    child = obj.child("csv", required=False)
    if child is None:
        return CsvOptions(header=format_ != "baskets")
    header = child.flag("header", default=format_ != "baskets")
    chars = {}
    for key, default in (("delimiter", ","), ("quote", '"'), ("escape", None)):
        value = child.text(key, required=False, default=default)
        if value is not None and len(value) != 1:
            raise child.fail(key, f"expected one character, got {value!r}")
        chars[key] = value
    separator = child.text("line_separator", required=False)
    if separator is not None and separator not in ("\n", "\r", "\r\n"):
        raise child.fail("line_separator", f"{separator!r} is not one of '\\n', '\\r', '\\r\\n'")
    encoding = cast(str, child.text("encoding", required=False, default="UTF-8"))
    child.done()
    return CsvOptions(
        header=header,
        delimiter=cast(str, chars["delimiter"]),
        quote=cast(str, chars["quote"]),
        escape=chars["escape"],
        line_separator=separator,
        encoding=encoding,
    )


def _columns(obj: _Obj, format_: str, quantity_mode: str) -> ColumnMapping | None:
    child = obj.child("columns", required=format_ != "baskets")
    if child is None:
        return None
    if format_ == "baskets":
        # NOTE: basket files have no columns; a mapping given anyway is ignored, as documented
        child.used.update(child.value)
        return None
    values = {
        name: child.text(name, required=name in ("order_id", "product_id"))
        for name in MAPPED_FIELDS
    }
    child.done()
    if quantity_mode == "column" and values["quantity"] is None:
        raise child.fail(
            "quantity",
            "is required when quantity_mode is 'column' (or set quantity_mode to "
            "'line_per_unit' when each line sells one unit)",
        )
    return ColumnMapping(**values)  # type: ignore[arg-type]


def _source(obj: _Obj) -> Source:
    child = obj.child("source")
    assert child is not None
    path = cast(str, child.text("path"))
    format_ = child.choice("format", SOURCE_FORMATS)
    quantity_mode = child.choice("quantity_mode", QUANTITY_MODES, default="column")
    csv = _csv(child, format_)
    columns = _columns(child, format_, quantity_mode)
    timestamp_format = child.text("timestamp_format", required=False)
    if columns is not None and columns.ordered_at is not None and timestamp_format is None:
        raise child.fail(
            "timestamp_format",
            f"is required because columns.ordered_at names {columns.ordered_at!r}; give a "
            "Spark datetime pattern such as 'yyyy-MM-dd HH:mm:ss' or 'M/d/yy H:mm'",
        )
    if format_ == "baskets" and csv.encoding.upper().replace("-", "") not in ("UTF8", "ASCII"):
        raise child.fail("csv.encoding", "basket files are read as UTF-8 (or ASCII) only")
    child.done()
    return Source(
        path=path,
        format=cast(SourceFormat, format_),
        timestamp_format=timestamp_format,
        csv=csv,
        columns=columns,
        quantity_mode=cast(QuantityMode, quantity_mode),
    )


def _rules(obj: _Obj) -> Rules:
    child = obj.child("rules", required=False)
    if child is None:
        return Rules()
    codes = child.raw("non_product_codes", required=False) or []
    if not isinstance(codes, list) or not all(isinstance(c, str) and c for c in codes):
        raise child.fail("non_product_codes", "expected a list of non-empty strings")
    rules = Rules(
        cancellation_pattern=child.pattern("cancellation_pattern"),
        adjustment_pattern=child.pattern("adjustment_pattern"),
        non_product_codes=tuple(codes),
        non_product_pattern=child.pattern("non_product_pattern"),
        max_rejected_share=cast(float, child.number("max_rejected_share", 0.1, low=0.0, high=1.0)),
    )
    child.done()
    return rules


def _thresholds(obj: _Obj) -> Thresholds:
    child = obj.child("thresholds")
    assert child is not None
    support = child.number("min_support", low=0.0, high=1.0)
    if support is not None and support <= 0:
        raise child.fail("min_support", "must be above 0 (or null to use min_support_count)")
    count = child.number("min_support_count", low=1, integer=True)
    thresholds = Thresholds(
        min_support=support,
        min_support_count=None if count is None else int(count),
        min_confidence=cast(float, child.number("min_confidence", 0.0, low=0.0, high=1.0)),
        min_lift=cast(float, child.number("min_lift", 0.0, low=0.0)),
    )
    child.done()
    return thresholds


def _load(path: Path) -> _Obj:
    origin = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParamsError(f"{origin}: cannot read the parameter file: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParamsError(f"{origin}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    return _Obj(data, "", origin)


def parse_ingest(data: Mapping[str, Any], origin: str = "<params>") -> IngestParams:
    """Ingest parameters from decoded JSON; ``origin`` names the file in error messages."""
    obj = _Obj(dict(data), "", origin)
    params = IngestParams(
        product=cast(str, obj.text("product")),
        source=_source(obj),
        rules=_rules(obj),
        interval=_interval(obj),
        outputs=_outputs(obj, INGEST_OUTPUTS),
        stats_path=_stats_path(obj),
    )
    if params.interval is not None and (
        params.source.columns is None or params.source.columns.ordered_at is None
    ):
        raise obj.fail("interval", "needs a source with a time column (columns.ordered_at)")
    obj.done()
    return params


def parse_affinity(data: Mapping[str, Any], origin: str = "<params>") -> AffinityParams:
    """Affinity parameters from decoded JSON; ``origin`` names the file in error messages."""
    obj = _Obj(dict(data), "", origin)
    inputs = obj.child("inputs")
    assert inputs is not None
    order_lines = cast(str, inputs.text("order_lines"))
    inputs.done()
    size = obj.number("max_basket_size", low=2, integer=True)
    params = AffinityParams(
        product=cast(str, obj.text("product")),
        order_lines=order_lines,
        thresholds=_thresholds(obj),
        max_basket_size=None if size is None else int(size),
        oversize_policy=cast(
            OversizePolicy, obj.choice("oversize_policy", OVERSIZE_POLICIES, default="exclude")
        ),
        period=obj.choice("period", PERIODS, default="month"),
        trailing_periods=int(
            cast(float, obj.number("trailing_periods", 3, low=1, high=120, integer=True))
        ),
        interval=_interval(obj),
        outputs=_outputs(obj, AFFINITY_OUTPUTS),
        stats_path=_stats_path(obj),
    )
    obj.done()
    return params


def load_ingest(path: Path) -> IngestParams:
    obj = _load(path)
    return parse_ingest(obj.value, obj.origin)


def load_affinity(path: Path) -> AffinityParams:
    obj = _load(path)
    return parse_affinity(obj.value, obj.origin)

"""Counters, gauges and histograms rendered in the Prometheus text format (``GET /metrics``).

Why our own ~150 lines rather than ``prometheus_client``: the project needs three metric types and one
exposition format; a small registry keeps the core dependency-free and lets a test or a second app in
the same process render without a global collector registry complaining about duplicates. Domains
(``ami``, ``cascade``) declare their metrics at module level with `counter` / `histogram` on the
process's `REGISTRY` and only ever increment them; values computed from state at scrape time (lake files,
job queue, stream clients) are fresh `Gauge` objects passed to `Registry.render` as ``extra``.

Every metric is thread-safe (one lock each): ingestion runs in worker threads, requests in the event loop.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Request-latency buckets (seconds): a map page is tens of ms, a Monte Carlo start or backfill seconds.
LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

LabelKey = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _fmt(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(float(value))


class Metric:
    """Common part: a name, help text, label names and one value slot per label combination."""

    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.labelnames: LabelKey = tuple(labels)
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> LabelKey:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {tuple(labels)}")
        return tuple(str(labels[n]) for n in self.labelnames)

    def _labels(self, key: LabelKey, extra: str = "") -> str:
        parts = [f'{n}="{_escape(v)}"' for n, v in zip(self.labelnames, key, strict=True)]
        if extra:
            parts.append(extra)
        return "{" + ",".join(parts) + "}" if parts else ""

    def samples(self) -> list[str]:
        raise NotImplementedError

    def render(self) -> str:
        head = f"# HELP {self.name} {_escape(self.help)}\n# TYPE {self.name} {self.kind}\n"
        return head + "".join(line + "\n" for line in self.samples())


class Counter(Metric):
    """A monotonically increasing total (rows ingested, errors seen); ``rate()`` gives per-second."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[LabelKey, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{self._labels(k)} {_fmt(v)}" for k, v in items]


class Gauge(Metric):
    """A value that goes up and down; usually built fresh at scrape time from the current state."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[LabelKey, float] = {}

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = float(value)

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{self._labels(k)} {_fmt(v)}" for k, v in items]


class Histogram(Metric):
    """Observations counted into cumulative ``le`` buckets, with their sum and count."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: Sequence[str] = (),
        buckets: Iterable[float] = LATENCY_BUCKETS,
    ) -> None:
        super().__init__(name, help_text, labels)
        self.buckets = tuple(sorted(float(b) for b in buckets if not math.isinf(b)))
        self._counts: dict[LabelKey, list[int]] = {}
        self._sums: dict[LabelKey, float] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            counts = self._counts.setdefault(key, [0] * (len(self.buckets) + 1))
            i = next((j for j, b in enumerate(self.buckets) if value <= b), len(self.buckets))
            counts[i] += 1
            self._sums[key] = self._sums.get(key, 0.0) + value

    def count(self, **labels: str) -> int:
        with self._lock:
            return sum(self._counts.get(self._key(labels), ()))

    def samples(self) -> list[str]:
        with self._lock:
            items = [(k, list(c), self._sums[k]) for k, c in sorted(self._counts.items())]
        out: list[str] = []
        for key, counts, total in items:
            running = 0
            for bound, n in zip((*self.buckets, math.inf), counts, strict=True):
                running += n
                le = 'le="' + _fmt(bound) + '"'
                out.append(f"{self.name}_bucket{self._labels(key, le)} {running}")
            out.append(f"{self.name}_sum{self._labels(key)} {_fmt(total)}")
            out.append(f"{self.name}_count{self._labels(key)} {running}")
        return out


class Registry:
    """Named metrics of one process; registering a name twice returns the first (module reloads)."""

    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}
        self._lock = threading.Lock()

    def register(self, metric: Metric) -> Metric:
        with self._lock:
            existing = self._metrics.get(metric.name)
            if existing is not None:
                if type(existing) is not type(metric) or existing.labelnames != metric.labelnames:
                    raise ValueError(f"metric {metric.name} is already registered differently")
                return existing
            self._metrics[metric.name] = metric
            return metric

    def render(self, extra: Iterable[Metric] = ()) -> str:
        """The exposition text: registered metrics, then ``extra`` (scrape-time gauges)."""
        with self._lock:
            metrics = sorted(self._metrics.values(), key=lambda m: m.name)
        return "".join(m.render() for m in [*metrics, *extra])


REGISTRY = Registry()


def counter(name: str, help_text: str, labels: Sequence[str] = ()) -> Counter:
    m = REGISTRY.register(Counter(name, help_text, labels))
    assert isinstance(m, Counter)
    return m


def histogram(
    name: str, help_text: str, labels: Sequence[str] = (), buckets: Iterable[float] = LATENCY_BUCKETS
) -> Histogram:
    m = REGISTRY.register(Histogram(name, help_text, labels, buckets))
    assert isinstance(m, Histogram)
    return m

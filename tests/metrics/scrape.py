"""Reads an agent's /metrics the way Prometheus does: HTTP GET, the text format parsed."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Samples:
    """Every sample of one scrape."""

    values: dict[tuple[str, frozenset[tuple[str, str]]], float]
    types: dict[str, str]  # family name -> counter, gauge, histogram

    def get(self, name: str, **labels: str) -> float | None:
        """The sample ``name`` with exactly ``labels``, or None when there is none."""
        return self.values.get((name, frozenset(labels.items())))

    def matching(self, name: str, **labels: str) -> dict[frozenset[tuple[str, str]], float]:
        """Every sample ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return {key: v for (n, key), v in self.values.items() if n == name and wanted <= key}


def scrape(url: str) -> Samples:
    """GET ``url`` and parse it (raises for anything but 200 and the text format)."""
    with urllib.request.urlopen(url, timeout=20) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return parse(response.read().decode("utf-8"))


def parse(text: str) -> Samples:
    """The samples of a scrape in the text format."""
    values: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Samples(values, types)

"""Prometheus metrics of the agent.

The layers below the northbounds see only :mod:`agent.metrics.sink` (small protocols and
the no-op sink); :mod:`agent.metrics.registry` implements them on prometheus_client,
:mod:`agent.metrics.collectors` reads gauges when Prometheus scrapes, and
:mod:`agent.metrics.listener` serves ``/metrics``. Only agent.app wires them.
"""

"""A sample is built and encoded once for every subscriber that watches the same data
with the same view; subscribers with other views never get it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from agent.gnmi.paths import to_gnmi_path
from agent.gnmi.pb import gnmi_pb2
from agent.northbound.subscribe import ResponseEncoder, SubscribeHandler
from agent.schema.engine import SchemaEngine
from agent.schema.path import DataPath
from agent.telemetry.model import Batch, Shared, Update
from agent.telemetry.service import TelemetryService
from agent.telemetry.session import Session, ViewOf
from tests.telemetry.harness import Site, run, serving, within

COUNTERS = "/ports/port/state/counters"
SLICES = "/slices/slice/state"
PROTO, JSON_IETF = 2, 4


def request(path: str, encoding: int = PROTO) -> Any:
    subscription = gnmi_pb2.Subscription(path=to_gnmi_path(DataPath.parse(path)), mode=2)
    listing = gnmi_pb2.SubscriptionList(encoding=encoding, subscription=[subscription])
    return gnmi_pb2.SubscribeRequest(subscribe=listing)


async def subscriber(
    service: TelemetryService,
    handler: SubscribeHandler,
    path: str,
    encoding: int = PROTO,
    view_of: ViewOf | None = None,
) -> tuple[Session, ResponseEncoder]:
    spec, encoder = handler.plan(request(path, encoding))
    session = await service.open(spec, f"client-{id(encoder)}", view_of=view_of)
    await within(session.next())  # the initial values and sync
    return session, encoder


class SliceView:
    """Sees the named slices only; ``signature`` None: no signature at all."""

    def __init__(self, slices: frozenset[str], signature: bool = True) -> None:
        self.slices = slices
        if signature:
            self.signature = ("slices", slices)

    def visible(self, path: DataPath) -> bool:
        elems = path.elems
        if not elems or elems[0].name != "slices" or len(elems) < 2:
            return True
        return dict(elems[1].keys).get("name") in self.slices


def view_of(slices: set[str], signature: bool = True) -> ViewOf:
    def view(_tree: Mapping[str, Any]) -> SliceView:
        return SliceView(frozenset(slices), signature)

    return view


def shared_of(batch: Batch) -> list[Shared]:
    return [entry for entry in batch.entries if isinstance(entry, Shared)]


def slices_in(batch: Batch) -> set[str]:
    return {
        dict(item.path.elems[1].keys)["name"]
        for item in batch.items
        if isinstance(item, Update) and item.path.elems[0].name == "slices"
    }


@contextlib.asynccontextmanager
async def started(
    engine: SchemaEngine, state_dir: Path, tree: dict[str, Any]
) -> AsyncIterator[tuple[Site, SubscribeHandler]]:
    """A started site and a Subscribe handler for it (no gRPC), stopped afterwards."""
    agent = await Site(engine, state_dir, tree).start()
    try:
        yield agent, SubscribeHandler(agent.service, agent.clock, modules=engine.modules)
    finally:
        await agent.stop()


async def sampled(site: Site, *subscribers: tuple[Session, ResponseEncoder]) -> list[Batch]:
    """The next batch of each subscriber after one more second of sampling."""
    await site.advance(1)
    return [await within(session.next()) for session, _ in subscribers]


def test_subscribers_of_the_same_data_share_one_sample_and_its_bytes(
    engine: SchemaEngine, tmp_path: Path, site: dict[str, Any]
) -> None:
    async def main() -> None:
        async with started(engine, tmp_path / "state", site) as (agent, handler):
            first = await subscriber(agent.service, handler, COUNTERS)
            second = await subscriber(agent.service, handler, COUNTERS)
            other = await subscriber(agent.service, handler, COUNTERS, JSON_IETF)
            batches = await sampled(agent, first, second, other)
            samples = [shared_of(batch) for batch in batches]
            assert len(samples[0]) == 1 and samples[0] == samples[1] == samples[2]
            sample = samples[0][0]
            ports = site["edge-ports:ports"]["port"]
            assert len(sample.items) == len(ports)  # every port's counters, built once
            pairs = zip((first, second), batches[:2], strict=True)
            proto = [list(encoder.responses(batch)) for (_, encoder), batch in pairs]
            assert proto[0] == proto[1] and all(isinstance(m, bytes) for m in proto[0])
            assert proto[0][0] is proto[1][0]  # the same bytes, encoded once
            ietf = list(other[1].responses(batches[2]))
            assert len(sample.encoded) == 2  # one encoding per encoder kind, not per session
            decoded = gnmi_pb2.SubscribeResponse.FromString(ietf[0]).update.update[0]
            assert decoded.val.WhichOneof("value") == "json_ietf_val"

    run(main())


def test_views_with_other_signatures_or_none_never_share(
    engine: SchemaEngine, tmp_path: Path, site: dict[str, Any]
) -> None:
    async def main() -> None:
        async with started(engine, tmp_path / "state", site) as (agent, handler):
            service = agent.service
            embb = await subscriber(service, handler, SLICES, view_of=view_of({"embb"}))
            embb_too = await subscriber(service, handler, SLICES, view_of=view_of({"embb"}))
            miot = await subscriber(service, handler, SLICES, view_of=view_of({"miot"}))
            unsigned = await subscriber(
                service, handler, SLICES, view_of=view_of({"embb"}, signature=False)
            )
            batches = await sampled(agent, embb, embb_too, miot, unsigned)
            samples = [shared_of(batch)[0] for batch in batches]
            assert samples[0] is samples[1]
            assert samples[2] is not samples[0] and samples[3] is not samples[0]
            assert [slices_in(b) for b in batches] == [{"embb"}, {"embb"}, {"miot"}, {"embb"}]

    run(main())


def test_two_streams_receive_the_same_bytes_over_grpc(
    engine: SchemaEngine, tmp_path: Path, site: dict[str, Any]
) -> None:
    async def main() -> None:
        async with serving(engine, tmp_path / "state", site) as (agent, server):
            streams = [server.open(request(COUNTERS)) for _ in range(2)]
            for stream in streams:
                await stream.until_sync()
            await agent.advance(1)
            got = [await stream.read() for stream in streams]
            for stream in streams:
                stream.cancel()
        assert got[0].update.update and got[0].SerializeToString() == got[1].SerializeToString()

    run(main())

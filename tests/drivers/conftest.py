"""The contract suite's parametrisation: a DriverContract subclass runs once per chipset
its backend is registered for."""

from __future__ import annotations

import pytest

from agent.drivers.registry import DriverRegistry
from agent.drivers.registry import Target as Registered

from .targets import Target, TargetFactory

pytest.register_assert_rewrite("drivers.contract", "tests.drivers.contract")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "contract_target" not in metafunc.fixturenames:
        return
    backend = getattr(metafunc.cls, "backend", None)
    assert backend is not None, "a DriverContract subclass names its backend"
    targets = [t for t in DriverRegistry.discover().targets() if t.backend == backend]
    metafunc.parametrize(
        "contract_target", targets, ids=[t.chipset for t in targets], scope="class"
    )


@pytest.fixture(scope="class")
def target(contract_target: Registered, target_factory: TargetFactory) -> Target:
    """The contract's Target: a registered chipset on its backend, built by the backend
    test module's ``target_factory``."""
    family = DriverRegistry.discover().family_for(contract_target.chipset)
    return Target(
        contract_target.family,
        contract_target.chipset,
        contract_target.backend,
        family.profiles[contract_target.chipset],
        target_factory,
    )

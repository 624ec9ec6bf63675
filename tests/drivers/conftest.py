import pytest

pytest.register_assert_rewrite("drivers.contract", "tests.drivers.contract")

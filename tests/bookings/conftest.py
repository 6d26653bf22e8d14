"""A clinic ready to book on Monday 23 March 2026, 08:00 London time (frozen)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import (
    MONDAY,
    crystal_with_room,
    local,
    open_clinic_business_hours,
    working_week,
)

FROZEN_AT = local(MONDAY, 8)


@pytest.fixture
def frozen(time_machine: Any) -> Any:
    time_machine.move_to(FROZEN_AT, tick=False)
    return FROZEN_AT


@pytest.fixture
def crystal(db: Any) -> Any:
    return crystal_with_room()


@pytest.fixture
def bookable(frozen: Any, crystal: Any, practitioner: Any, second_practitioner: Any) -> Any:
    """Open clinic, two practitioners working Monday-Friday, one room for crystal."""
    open_clinic_business_hours()
    working_week(practitioner)
    working_week(second_practitioner)
    return crystal

"""`make test-year-ahead`: with TEST_CLOCK_AHEAD=<days>d, every Python process of the test run
(pytest, and through PYTHONPATH the gunicorn, `flask run` and CLI processes it starts) sees the
wall clock that many days ahead, ticking; the monotonic clock stays real, so timeouts and
sleeps behave. Nothing in the suite may expire by itself (README, "Green on any day").

Not libfaketime: it moves the monotonic clock too, and Python's timed waits (sem_clockwait,
which it does not intercept) then wait for the whole offset, e.g. the mail loop for a year."""

import os
from datetime import UTC, datetime, timedelta

_ahead = os.environ.get("TEST_CLOCK_AHEAD")
if _ahead:
    import time_machine

    _days = int(_ahead.removesuffix("d"))
    time_machine.travel(datetime.now(UTC) + timedelta(days=_days), tick=True).start()

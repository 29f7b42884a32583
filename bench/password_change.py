"""How long one login password change takes on the server (not a test).

    .venv/bin/python bench/password_change.py [ROUNDS]

A password change hashes at most 4 times with argon2id (see blueprints/credentials/changes.py):
verify the current password, compare the new one with the two older history hashes, hash it.
This prints the median of ROUNDS runs of (1) those 4 argon2 operations alone and (2) the whole
[更新] POST through the app (rules, database on a temporary SQLite file, session cleanup, mail
to the outbox, the response). Each run is a real change, cycling through 4 passwords so the
history rule never refuses one (the 4th-oldest may be used again).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from hashing import hash_secret, hasher, verify_secret  # noqa: E402
from tests.conftest import log_in, token_in  # noqa: E402

PASSWORDS = ["Webbill#2024", "Bench#pass1", "Bench#pass2", "Bench#pass3"]


def hashing_only(rounds: int) -> list[float]:
    current, older = hash_secret("Current#1"), [hash_secret("Older#111"), hash_secret("Older#222")]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        verify_secret(current, "Current#1")
        for old in older:
            verify_secret(old, "Brand-new#1")
        hash_secret("Brand-new#1")
        times.append(time.perf_counter() - start)
    return times


def whole_request(rounds: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{Path(tmp, 'bench.sqlite3')}",
                "SESSION_COOKIE_SECURE": False,
            }
        )
        assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
        client = app.test_client()
        assert log_in(client).status_code == 303
        token = token_in(client.get("/account").get_data(as_text=True))
        times = []
        # The first two changes fill the history (then every change hashes 4 times): untimed.
        for i in range(rounds + 2):
            old, new = PASSWORDS[i % 4], PASSWORDS[(i + 1) % 4]
            data = {
                "csrf_token": token,
                "target": "password",
                "current_password": old,
                "new_password": new,
                "new_password_confirm": new,
            }
            start = time.perf_counter()
            response = client.post("/account/credentials", data=data)
            assert response.status_code == 303, response.get_data(as_text=True)
            if i >= 2:
                times.append(time.perf_counter() - start)
        return times


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    params = f"argon2id t={hasher.time_cost} m={hasher.memory_cost} KiB p={hasher.parallelism}"
    for name, times in (
        ("4 argon2 operations", hashing_only(rounds)),
        ("whole [更新] POST", whole_request(rounds)),
    ):
        ms = [t * 1000 for t in times]
        print(
            f"{name:20} median {statistics.median(ms):6.1f} ms  "
            f"(min {min(ms):.1f}, max {max(ms):.1f}, {rounds} runs; {params})"
        )


if __name__ == "__main__":
    main()

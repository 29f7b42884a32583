"""Requests/s and latency of GET /account (logged in) and the phone-change confirm POST, each as
a ratio to a bare Flask hello-world served the same way, in the same run: by gunicorn alone
(the setup before nginx), then with nginx in front over HTTPS (the production setup).

    .venv/bin/python bench/throughput.py [seconds]

Each line also gives the CPU time the server processes (gunicorn, and nginx in front) spent per
request: on a machine shared with other work req/s swing with the load, CPU per request much
less.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.live import Browser, running  # noqa: E402

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
CONNECTIONS = 16
LUA = """
wrk.method = "{method}"
wrk.body = "{body}"
wrk.headers["Cookie"] = "{cookie}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
{extra}
done = function(summary, latency, requests)
  io.write(string.format("RESULT %f %f %f %d %d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status,
    summary.requests))
end
"""


def server_cpu() -> float:
    """Seconds of CPU used so far by the processes this script started and still runs: the
    servers (wrk is not running when this is read)."""
    seconds, pending = 0.0, [os.getpid()]
    while pending:
        pid = pending.pop()
        for task in Path(f"/proc/{pid}/task").iterdir():
            pending += [int(child) for child in (task / "children").read_text().split()]
        if pid != os.getpid():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def wrk(url: str, method="GET", body="", cookie="", htmx=False) -> dict:
    extra = 'wrk.headers["HX-Request"] = "true"' if htmx else ""
    cpu = server_cpu()
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(LUA.format(method=method, body=body, cookie=cookie, extra=extra))
        script.flush()
        out = subprocess.run(
            ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "-s", script.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    cpu = server_cpu() - cpu
    rps, p50, p99, bad, total = re.search(r"RESULT (\S+) (\S+) (\S+) (\d+) (\d+)", out).groups()
    return {
        "rps": float(rps),
        "p50": float(p50),
        "p99": float(p99),
        "non2xx": int(bad),
        "requests": int(total),
        "cpu_ms": cpu * 1000 / int(total),
    }


def line(name: str, result: dict, hello: dict | None = None) -> None:
    ratio = f"{result['rps'] / hello['rps']:6.1%} of hello" if hello else ""
    print(
        f"{name:<34} {result['rps']:8.0f} req/s  p50 {result['p50']:6.2f} ms  "
        f"p99 {result['p99']:6.2f} ms  (p99/p50 {result['p99'] / result['p50']:.2f})  "
        f"CPU {result['cpu_ms']:.2f} ms/req  errors {result['non2xx']}  {ratio}"
    )


def measure(nginx: bool) -> None:
    with running("bench.hello:create_app()", seed=False, nginx=nginx) as hello_url:
        wrk(hello_url + "/")  # warm up
        hello = wrk(hello_url + "/")
    with running(nginx=nginx) as base:
        member = Browser(base)
        member.log_in()
        cookie, token = member.cookie, member.token
        wrk(base + "/account", cookie=cookie)  # warm up
        account = wrk(base + "/account", cookie=cookie)
        body = urllib.parse.urlencode({"csrf_token": token, "new_phone": "090-1234-5678"})
        confirm = wrk(base + "/account/phone/confirm", "POST", body, cookie, htmx=True)
    front = "nginx (HTTPS) in front of " if nginx else ""
    print(f"{front}gunicorn sync workers, {CONNECTIONS} connections, {SECONDS} s each, loopback")
    line("hello-world GET /", hello)
    line("GET /account (logged in)", account, hello)
    line("POST /account/phone/confirm (htmx)", confirm, hello)


def main() -> None:
    measure(nginx=False)
    measure(nginx=True)


if __name__ == "__main__":
    main()

"""Debian's chromium as the browser tests and the benchmarks launch it, on a phone's screen."""

# No sandbox (root), and no background traffic to hosts this closed network cannot reach.
CHROMIUM = {
    "executable_path": "/usr/bin/chromium",
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ],
}
# A low-end phone's screen.
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "ja-JP",
}

"""`flask --app app dev …`: the QA page's actions from the command line, for scripted QA and
the browser tests. Development mode only (FLASK_DEBUG=1); in production they refuse to run."""

from __future__ import annotations

import re
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from clock import dev_offset, format_jst, utcnow
from extensions import db

from .changes import advance_clock, reset_clock, reset_demo
from .scenarios import SCENARIOS, run_scenario

_AMOUNT = re.compile(r"\+?(\d+(?:\.\d+)?)([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


SCENARIO_LIST = "\b\nScenarios:\n" + "\n".join(
    f"  {s.name:<14} {s.title}（{s.login}）" for s in SCENARIOS.values()
)


@click.group("dev", help=f"QA tools (development mode only: FLASK_DEBUG=1).\n\n{SCENARIO_LIST}")
@with_appcontext
def dev() -> None:
    if not current_app.debug:
        raise click.ClickException(
            "dev コマンドは開発モード（FLASK_DEBUG=1）でのみ使えます。本番では実行できません。"
        )


@dev.command("reset")
def reset() -> None:
    """Everything back to the demo data (members, passwords, settings, lines, registry); no
    sessions, pending requests or mail remain."""
    seconds = reset_demo()
    click.echo(f"デモデータを初期化しました（{seconds:.2f}秒）。")


@dev.command(
    "scenario",
    help="Reset the demo data, then put a demo member into scenario NAME's state.\n\n"
    + SCENARIO_LIST,
)
@click.argument("name", type=click.Choice(list(SCENARIOS)), metavar="NAME")
@click.option(
    "--base",
    metavar="URL",
    help="Where links in its mail point (default: EXTERNAL_BASE_URL), e.g. http://127.0.0.1:8000",
)
def scenario(name: str, base: str | None) -> None:
    app = current_app._get_current_object()
    # A mailed link takes the address of the request that causes it (development): here, --base.
    with (
        app.test_request_context(base_url=base or app.config["EXTERNAL_BASE_URL"]),
        db.database.connection_context(),
    ):
        chosen, notes = run_scenario(name)
    click.echo(f"シナリオ「{chosen.title}」を用意しました。")
    click.echo(f"ログイン：{chosen.login}")
    click.echo(f"確認する画面：{chosen.screen}")
    for note in notes:
        click.echo(note)


@dev.command("clock")
@click.argument("amount", required=False, metavar="[+25h|+31m|+2d|reset]")
def clock(amount: str | None) -> None:
    """Move the app's clock ahead (+25h, +31m, +2d, added to where it is) or back to real
    time (reset), for every process; with no argument, show it."""
    if amount == "reset":
        reset_clock()
    elif amount is not None:
        match = _AMOUNT.fullmatch(amount)
        if match is None:
            raise click.BadParameter("+25h、+31m、+2d または reset で指定してください。")
        advance_clock(timedelta(**{_UNITS[match[2]]: float(match[1])}))
    offset = dev_offset()
    hours = offset.total_seconds() / 3600
    click.echo(f"アプリの時刻：{format_jst(utcnow())}（実際の時刻より +{hours:g}時間）")

"""`flask market …` commands: demo data, accounts, the scheduler and its tick."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .extensions import db
from .models import Market, Organization, Role
from .services import accounts, audit
from .services.demo import load_demo
from .services.errors import DomainError

market_cli = AppGroup("market", help="Run the tidal market: demo data, users.")


@market_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has no organization yet.")
def demo_command(if_empty):
    """Load the demo community (金汇社区); running it again changes nothing."""
    if if_empty and db.session.scalar(select(Organization.id).limit(1)) is not None:
        click.echo("database not empty: demo data not loaded")
        return
    changed = load_demo(activity=True)
    db.session.commit()
    click.echo("demo data loaded" if changed else "demo data already present")


@market_cli.command("create-user")
@click.option("--phone", required=True, help="Mainland mobile number (11 digits).")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(Role.ALL), default=Role.ADMIN, show_default=True)
@click.option("--organization", "org_name", required=True, help="Created if it does not exist.")
@click.option("--market", "market_slug", help="Market slug, for a guide.")
@click.password_option(help="Prompted for when not given.")
def create_user_command(phone, name, role, org_name, market_slug, password):
    """Create a user with a role, e.g. the first admin of an organization."""
    try:
        org = db.session.scalar(select(Organization).where(Organization.name == org_name))
        if org is None:
            org = Organization(name=org_name, short_name=org_name[:40])
            db.session.add(org)
        market = None
        if role == Role.GUIDE:
            market = db.session.scalar(
                select(Market).where(Market.slug == (market_slug or ""), Market.organization == org)
            )
            if market is None:
                raise click.UsageError("a guide needs --market with the slug of one of its markets")
        user = accounts.user_by_phone(accounts.normalise_phone(phone))
        if user is None:
            user = accounts.create_user(phone, name, password)
        accounts.grant_role(user, org, role, market=market)
        db.session.flush()
        audit.record("user.created_by_cli", user, organization_id=org.id, role=role)
        db.session.commit()
    except DomainError as e:
        db.session.rollback()
        raise click.ClickException(str(e.message)) from None
    click.echo(f"user {user.phone} is {role} of {org.name}")


@market_cli.command("tick")
@click.option("--now", "now_text", help="ISO-8601 instant, e.g. 2026-11-23T18:05+08:00.")
@click.option("--tz", "tz_name", help="Zone of a --now without offset [MARKET_TIMEZONE].")
def tick_command(now_text, tz_name):
    """One scheduler pass at that instant (default: now): generate sessions ahead, open and
    close what the clock says. Idempotent: running it again changes nothing."""
    from .services import clock, sessions

    zone = tz_name or current_app.config["MARKET_TIMEZONE"]
    try:
        now = clock.parse_instant(now_text or clock.now().isoformat(), zone)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--now / --tz") from None
    report = sessions.reconcile(now)
    db.session.commit()
    click.echo("\n".join(report.lines()))
    if report.errors:
        raise SystemExit(1)


@market_cli.command("scheduler")
def scheduler_command():
    """Run the scheduler in this process until stopped (gunicorn's master runs one already;
    use this where the web servers run with SCHEDULER=off)."""
    from .scheduler import run_forever

    if not current_app.config["SCHEDULER"]:
        raise click.ClickException("SCHEDULER=off: this process may not run the scheduler")
    run_forever(current_app._get_current_object())


@market_cli.command("rush")
@click.option("--stalls", default=300, show_default=True)
@click.option("--vendors", default=300, show_default=True)
def rush_command(stalls, vendors):
    """Scale the demo for load tests: stalls, approved vendors 13700000001… (password
    demo1234) and a session open now. Demo data only."""
    from .services import rush

    result = rush.prepare(stalls, vendors)
    db.session.commit()
    click.echo(f"market {result['market_id']}: session {result['session_id']} open")


@market_cli.command("year-data")
@click.option("--days", default=365, show_default=True, help="How many days of trade.")
@click.option("--stalls", default=300, show_default=True)
@click.option("--occupancy", default=0.8, show_default=True, help="Share of stalls taken.")
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day [before the first session]."
)
def year_data_command(days, stalls, occupancy, until):
    """A year of trade for the demo market (benchmarks): two sessions a day, check-ins,
    charges, payments and a valid hash-chained ledger, written in bulk."""
    from .services import yeardata

    market = yeardata.demo_market()
    if market is None:
        raise click.ClickException("load the demo first: flask market demo")
    stall_rows, vendor_rows = yeardata.prepare(market, stalls, stalls)
    db.session.commit()
    year = yeardata.Year(market, stall_rows, vendor_rows, occupancy)
    plan = [
        (day, *session)
        for day in yeardata.year_days(market, days, until.date() if until else None)
        for session in yeardata.SESSIONS
    ]
    with click.progressbar(plan, label="sessions", show_pos=True) as bar:
        for n, item in enumerate(bar, 1):
            year.session(*item)
            if n % 20 == 0:
                year.flush()
    year.flush()
    year.finish()
    click.echo(
        f"{len(plan)} sessions, {year.counts['checkins']} check-ins, "
        f"{year.counts['payments']} payments, {year.counts['entries']} ledger entries"
    )


ledger_cli = AppGroup("ledger", help="The community income ledger.")


@ledger_cli.command("verify")
@click.option("--organization", "organization_id", type=int, help="Only this organization id.")
def verify_command(organization_id):
    """Recompute every hash chain and balance: exit 0 when intact, 1 naming the first bad
    entry."""
    from .services import ledger

    result = ledger.verify(organization_id)
    if result.ok:
        click.echo(
            f"ledger intact: {result.entries_checked} entries in "
            f"{result.organizations} organization(s)"
        )
        for org_id in sorted(db.session.scalars(select(Organization.id).order_by(Organization.id))):
            head = ledger.chain_head(org_id)
            if head is not None and organization_id in (None, org_id):
                click.echo(f"organization {org_id}: head seq {head.seq} {head.entry_hash}")
        return
    click.echo(f"LEDGER BROKEN: {result.message}", err=True)
    raise SystemExit(1)


@market_cli.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def backup_command(path):
    """Copy the whole database to PATH [instance/backups/market-<UTC time>.*]: SQLite's online
    backup API, or pg_dump --format=custom for PostgreSQL. Safe while the app runs."""
    from .services import backup

    try:
        written = backup.backup(path or backup.default_path(current_app.instance_path))
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"backup written to {written}")


@market_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
def restore_command(path):
    """Load a backup made by `market backup` into this EMPTY database (refused otherwise)."""
    from .services import backup

    try:
        backup.restore(path)
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"restored from {path}")


def init_app(app):
    app.cli.add_command(market_cli)
    app.cli.add_command(ledger_cli)

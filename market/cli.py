"""`flask market …` commands: demo data, accounts, the scheduler and its tick."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .demo.load import load_demo
from .extensions import db
from .models import Market, Organization, Role
from .services.areas import membership
from .services.auth import accounts
from .services.common import audit
from .services.common.errors import DomainError

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
@click.option(
    "--role",
    type=click.Choice([*Role.ALL, Role.SUPERVISOR]),
    default=Role.ADMIN,
    show_default=True,
)
@click.option("--organization", "org_name", help="Created if it does not exist.")
@click.option("--market", "market_slug", help="Market slug, for a guide.")
@click.option("--area", "area_name", help="Area (街道) name, for a supervisor.")
@click.password_option(help="Prompted for when not given.")
def create_user_command(phone, name, role, org_name, market_slug, area_name, password):
    """Create a user with a role, e.g. the first admin of an organization or a supervisor."""
    if (role == Role.SUPERVISOR) != bool(area_name) or (role == Role.SUPERVISOR) == bool(org_name):
        raise click.UsageError(
            "a supervisor needs --area (and no --organization); other roles --organization"
        )
    try:
        user = accounts.user_by_phone(accounts.normalise_phone(phone))
        if user is None:
            user = accounts.create_user(phone, name, password)
        if role == Role.SUPERVISOR:
            place = _grant_supervisor(user, area_name)
        else:
            place = _grant_org_role(user, org_name, role, market_slug)
        db.session.commit()
    except DomainError as e:
        db.session.rollback()
        raise click.ClickException(str(e.message)) from None
    click.echo(f"user {user.phone} is {role} of {place}")


def _grant_org_role(user, org_name, role, market_slug) -> str:
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
    accounts.grant_role(user, org, role, market=market)
    db.session.flush()
    audit.record("user.created_by_cli", user, organization_id=org.id, role=role)
    return org.name


def _grant_supervisor(user, area_name) -> str:
    area = membership.area_by_name(area_name)
    if area is None:
        raise click.UsageError(f"no area named {area_name!r}: flask market create-area first")
    membership.grant_supervisor(user, area)
    db.session.flush()
    audit.record("user.created_by_cli", user, role=Role.SUPERVISOR, area_id=area.id)
    return area.name


@market_cli.command("create-area")
@click.argument("name")
def create_area_command(name):
    """Create a street office (街道) or district that supervises communities."""
    try:
        area = membership.create_area(name)
        db.session.commit()
    except DomainError as e:
        db.session.rollback()
        raise click.ClickException(str(e.message)) from None
    click.echo(f"area {area.name} (id {area.id})")


@market_cli.command("attach-org")
@click.option("--area", "area_name", required=True)
@click.option("--organization", "org_name", required=True)
def attach_org_command(area_name, org_name):
    """Put an organization under an area (it belongs to at most one)."""
    try:
        area = membership.area_by_name(area_name)
        if area is None:
            raise click.UsageError(f"no area named {area_name!r}")
        org = membership.organization_by_name(org_name)
        membership.attach(area, org)
        db.session.commit()
    except DomainError as e:
        db.session.rollback()
        raise click.ClickException(str(e.message)) from None
    click.echo(f"{org.name} is in {area.name}")


@market_cli.command("tick")
@click.option("--now", "now_text", help="ISO-8601 instant, e.g. 2026-11-23T18:05+08:00.")
@click.option("--tz", "tz_name", help="Zone of a --now without offset [MARKET_TIMEZONE].")
@click.option(
    "--force",
    is_flag=True,
    help="Act even at a --now more than a day from the real time, or with a clock ahead "
    "of the database's.",
)
def tick_command(now_text, tz_name, force):
    """One scheduler pass at that instant (default: now): generate sessions ahead, open and
    close what the clock says. Idempotent: running it again changes nothing."""
    from .services.common import clock, ticks
    from .services.sessions import clockguard
    from .services.sessions import tide as sessions

    zone = tz_name or current_app.config["MARKET_TIMEZONE"]
    real = clock.now()
    try:
        now = clock.parse_instant(now_text or real.isoformat(), zone)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--now / --tz") from None
    # A typo in --now (the 9th for the 6th) would close tonight's session and the next ones.
    if not force and abs(now - real) > clockguard.EXPLICIT_LIMIT:
        raise click.ClickException(
            f"--now {now.isoformat()} is more than a day from the real time "
            f"{real.isoformat()}: nothing done. Ticking at it would open and close sessions "
            "as if it were that time; add --force if that is really meant."
        )
    # The host's own clock is checked against the database's (PostgreSQL) like the
    # scheduler's; an explicit --now is the operator's choice, judged above.
    refusal = None if force or now_text else clockguard.check(now)
    if refusal is not None:
        clockguard.record(refusal)
        db.session.commit()
        raise click.ClickException(f"{refusal.message()}. Fix the clock, or add --force.")
    report = sessions.reconcile(now)
    other = ticks.run(now)  # votes to close, draws to reveal …
    db.session.commit()
    click.echo("\n".join(report.lines() + other))
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
@click.option("--new-session", is_flag=True, help="Close the open session and open another.")
def rush_command(stalls, vendors, new_session):
    """Scale the demo for load tests: stalls, approved vendors 13700000001… (password
    demo1234) and a session open now. Demo data only."""
    from bench.data import rush

    result = rush.prepare(stalls, vendors, new_session)
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
    from bench.data import yeardata

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
@click.option(
    "--operations",
    is_flag=True,
    help="Also check the books against the operations (charges, payments, sessions, "
    "hand-overs, month closes), naming every mismatch.",
)
def verify_command(organization_id, operations):
    """Recompute every hash chain and balance: exit 0 when intact, 1 naming the first bad
    entry. With --operations, also check the books against the operations: exit 1 when
    either check fails. Each run leaves its result per organization (run it nightly: the
    street office's dashboard then re-checks only what was posted after it)."""
    from .services.ledger import checkpoints
    from .services.ledger import entries as ledger

    # Each organization's checkpoint: pages check only the entries after it (see checkpoints).
    result = checkpoints.verify_and_record(organization_id)
    db.session.commit()
    if result.ok:
        click.echo(
            f"ledger intact: {result.entries_checked} entries in "
            f"{result.organizations} organization(s)"
        )
        for org_id in sorted(db.session.scalars(select(Organization.id).order_by(Organization.id))):
            head = ledger.chain_head(org_id)
            if head is not None and organization_id in (None, org_id):
                click.echo(f"organization {org_id}: head seq {head.seq} {head.entry_hash}")
    else:
        click.echo(f"LEDGER BROKEN: {result.message}", err=True)
    books_ok = _verify_operations(organization_id) if operations else True
    if not (result.ok and books_ok):
        raise SystemExit(1)


def _verify_operations(organization_id) -> bool:
    from .services.ledger import checkpoints
    from .services.ledger import operations as ledger_operations

    books = ledger_operations.verify_operations(organization_id)
    checkpoints.record_operations(books, organization_id)
    db.session.commit()
    if books.ok:
        click.echo(books.message)
        return True
    click.echo(f"BOOKS DO NOT MATCH THE OPERATIONS: {books.message}", err=True)
    for mismatch in books.mismatches:
        click.echo(f"MISMATCH {mismatch}", err=True)
    return False


@market_cli.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def backup_command(path):
    """Copy the whole database to PATH [instance/backups/market-<UTC time>.*]: SQLite's online
    backup API, or pg_dump --format=custom for PostgreSQL. Safe while the app runs."""
    from .services.admin import backup

    try:
        written = backup.backup(path or backup.default_path(current_app.instance_path))
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"backup written to {written}")


@market_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
def restore_command(path):
    """Load a backup made by `market backup` into this EMPTY database (refused otherwise)."""
    from .services.admin import backup

    try:
        backup.restore(path)
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"restored from {path}")


def init_app(app):
    app.cli.add_command(market_cli)
    app.cli.add_command(ledger_cli)

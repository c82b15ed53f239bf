"""``matneo``: generate, load, inspect and serve. A thin layer over the domain packages."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from matneo.cli import context
from matneo.cli.harm import harm_app
from matneo.config import Settings, get_settings
from matneo.reviews.cli import reviews_app

if TYPE_CHECKING:
    import polars as pl

    from matneo.config import Settings

app = typer.Typer(help="MatNeo: maternity and neonatal safety surveillance.", no_args_is_help=True)
reference_app = typer.Typer(help="Organisation reference data.", no_args_is_help=True)
app.add_typer(reference_app, name="reference")
users_app = typer.Typer(help="Users and the audit log.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(harm_app, name="harm")
app.add_typer(reviews_app, name="reviews")
db_app = typer.Typer(help="The app database: upgrade its schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console, errors = context.console, context.errors


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


DEMO_STRUGGLING = ["R0A:2023-01:2.0"]  # synthetic demonstration only: the factor is made up


class FileFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"
    fhir = "fhir"
    msds = "msds"


def parse_years(spec: str) -> list[int]:
    """'2010-2024' → [2010, …, 2024]; '2019' → [2019]."""
    try:
        if "-" in spec:
            first, last = (int(part) for part in spec.split("-", 1))
        else:
            first = last = int(spec)
    except ValueError:
        raise typer.BadParameter(f"{spec!r} is not a year or a range like 2010-2024") from None
    if not 2000 <= first <= last <= 2100:
        raise typer.BadParameter(f"{spec!r} must be years between 2000 and 2100, first ≤ last")
    return list(range(first, last + 1))


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="Directory to write one file per year into.")],
    years: Annotated[str, typer.Option(help="Year or range, e.g. 2010-2024.")] = "2010-2024",
    scale: Annotated[float, typer.Option(min=0.0001, max=5.0, help="1.0 ≈ England's births per year.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed → byte-identical files.")] = 7,
    struggling: Annotated[
        list[str] | None, typer.Option(help="TRUST:YYYY-MM:FACTOR — raise one trust's risk from a month on.")
    ] = None,
    file_format: Annotated[
        FileFormat,
        typer.Option("--format", help="File format; msds writes each year as MSDS v2.0 tables in msds_YYYY/."),
    ] = FileFormat.parquet,
) -> None:
    """Generate a synthetic national birth-record dataset."""
    from matneo.synth import parse_struggling, write_dataset

    year_list = parse_years(years)
    try:
        plans = [parse_struggling(spec) for spec in struggling or []]
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--struggling") from None
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task("Generating", total=len(year_list))
        try:
            paths = write_dataset(
                out,
                year_list,
                scale=scale,
                seed=seed,
                struggling=plans,
                fmt=file_format.value,
                hierarchy=context.hierarchy(get_settings()),
                progress=lambda year: progress.advance(task),
            )
        except ValueError as error:
            errors.print(f"[red]Error:[/red] {error}")
            raise typer.Exit(2) from None
    console.print(f"Wrote {len(paths)} files to {out} in {time.perf_counter() - started:.1f} s")


class LoadMode(StrEnum):
    resubmit = "resubmit"
    upsert = "upsert"


class LoadFormat(StrEnum):
    """``matneo load --format``: what is printed (table, json) and what is read (csv, msds, fhir)."""

    table = "table"
    json = "json"
    csv = "csv"
    msds = "msds"
    fhir = "fhir"


#: Input format → the loader's reader (``matneo.records.load.INPUT_FORMATS``): csv means the
#: birth-record layout, as CSV or Parquet.
LOAD_READERS = {LoadFormat.csv: "csv", LoadFormat.msds: "msds", LoadFormat.fhir: "fhir"}


@app.command()
def load(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="CSV or Parquet files, or directories of them (MSDS: directories of tables; FHIR: Bundle .json files)."
        ),
    ],
    mode: Annotated[
        LoadMode,
        typer.Option(
            help="resubmit: each file is the full resubmission of every trust-month it holds, whose earlier rows "
            "it replaces (the default: what a monthly extract is). upsert: add or correct records by record id; "
            "the other rows of the month stay."
        ),
    ] = LoadMode.resubmit,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what the load would change; change nothing.")] = (
        False
    ),
    allow_shrink: Annotated[
        bool,
        typer.Option(
            "--allow-shrink",
            help="Accept a full resubmission that leaves a trust-month with fewer than half its records.",
        ),
    ] = False,
    formats: Annotated[
        list[LoadFormat] | None,
        typer.Option(
            "--format",
            help="Input format (csv: birth-record CSV or Parquet, the default; msds: MSDS v2.0 table files, a "
            "directory per extract; fhir: FHIR Bundles) and/or output format (table, json, as --output). Repeat "
            "to give both, e.g. --format msds --format json. What each input must hold is in its guide, served "
            "by `matneo serve` at /guides/birth-record, /guides/msds and /guides/fhir.",
        ),
    ] = None,
    output: Annotated[OutputFormat | None, typer.Option("--output", help="Output format.")] = None,
) -> None:
    """Validate and load birth records. Bad rows go to a rejection report; nothing is lost."""
    from matneo.records.load import PlanRefused, UnreadableInput, load_files, record_failure

    chosen = formats or []
    readers = {LOAD_READERS[f] for f in chosen if f in LOAD_READERS}
    if len(readers) > 1:
        raise typer.BadParameter("give one input format", param_hint="--format")
    printed = [f for f in chosen if f not in LOAD_READERS]  # `--format json` meant the output before inputs had formats
    output = output or (OutputFormat(printed[-1].value) if printed else OutputFormat.table)
    settings = _prepared()
    with _progress(quiet=output is OutputFormat.json) as progress:
        task = progress.add_task("Checking files", total=None)

        def report(stage: str, done: int, total: int) -> None:
            progress.update(task, description=stage.capitalize(), completed=done, total=total)

        try:
            result = load_files(
                paths,
                settings,
                progress=report,
                mode=mode.value,
                dry_run=dry_run,
                allow_shrink=allow_shrink,
                input_format=next(iter(readers), "csv"),
            )
        except UnreadableInput as error:
            if not dry_run:
                record_failure(settings, error.path, error.problem)
            errors.print(f"[red]Cannot load:[/red] {error}. Nothing was changed.")
            raise typer.Exit(1) from None
        except PlanRefused as refusal:
            errors.print(f"[red]Refused:[/red] {refusal} If it does, run again with --allow-shrink.")
            raise typer.Exit(1) from None
    if output is OutputFormat.json:
        plan = result.plan()
        if not dry_run:
            plan |= {"load_ids": result.ledger_ids, "store_version": result.store_version}
        sys.stdout.write(json.dumps(plan, indent=1) + "\n")
        return
    _print_changes(result)
    if dry_run:
        console.print("Dry run: nothing was changed.")
        return
    table = Table(title=f"Load {result.batch_id} ({result.mode})")
    table.add_column("file", overflow="fold")
    table.add_column("status")
    for column in ("read", "loaded", "rejected", "added", "replaced", "removed"):
        table.add_column(column, justify="right")
    for item in result.files:
        status = "skipped" if item.status == "duplicate" else item.status
        counts = (item.rows_read, item.rows_loaded, item.rows_rejected, item.rows_added, item.rows_replaced)
        table.add_row(item.path.name, status, *(f"{n:,}" for n in (*counts, item.rows_removed)))
    show_table(table)
    for item in result.files:
        if item.status == "duplicate":
            earlier = f" (load {item.duplicate_of})" if item.duplicate_of else " (earlier in this batch)"
            console.print(f"{item.path.name} was already loaded{earlier}; skipped, nothing added.")
        if item.rejection_file:
            console.print(f"[yellow]{item.rows_rejected:,} rows rejected[/yellow] from {item.path.name}:")
            for reason, n in item.top_reasons:
                console.print(f"  {n:>8,}  {reason}")
            console.print(f"  Full report: {item.rejection_file}")
        if item.ignored_columns:
            console.print(f"Ignored columns not in the birth record: {', '.join(item.ignored_columns)}")
        if item.absent_columns:
            console.print(
                f"{item.path.name} has no column {', '.join(item.absent_columns)}: "
                "optional, so those fields are empty for its records."
            )
        for notice in item.notices:
            console.print(f"{item.path.name}: {notice}.")
    if result.store_version:
        console.print(f"Records store is now at version {result.store_version}.")


def _print_changes(result: Any, shown: int = 20) -> None:
    """The plan (or outcome) in words: rows per trust-month before and after, records moved."""
    changes = result.changes()
    for change in changes[:shown]:
        console.print(change.describe())
    if len(changes) > shown:
        console.print(f"… and {len(changes) - shown:,} more trust-months (see --format json).")
    if result.moved_records:
        console.print(f"{result.moved_records:,} records move here from other months.")
    for change in result.shrinking():
        console.print(f"[yellow]Partial month?[/yellow] {change.describe()}")


loads_app = typer.Typer(help="Loads of birth records: list them, revert one.", no_args_is_help=True)
app.add_typer(loads_app, name="loads")


@loads_app.command("list")
def loads_list(
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
    limit: Annotated[int, typer.Option(min=1, help="How many loads, newest first.")] = 50,
) -> None:
    """Loads newest first: files, mode, rows added, replaced and removed."""
    from matneo.db.ledger import list_loads
    from matneo.records.status import load_summary

    settings = _prepared()
    rows = [load_summary(entry, months) for entry, months in list_loads(settings.database_url, limit)]
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return
    if not rows:
        console.print("No loads yet.")
        return
    table = Table(title="Loads, newest first")
    for column in ("id", "files", "mode", "status", "added", "replaced", "removed", "rejected", "finished"):
        table.add_column(column, justify="right" if column in ("added", "replaced", "removed", "rejected") else "left")
    for row in rows:
        counts = (row["rows_added"], row["rows_replaced"], row["rows_removed"], row["rows_rejected"])
        status = row["status"] + (f" (load {row['reverts_load_id']})" if row["reverts_load_id"] else "")
        cells = [str(row["id"]), ", ".join(row["files"]), row["mode"] or "", status]
        table.add_row(*cells, *map("{:,}".format, counts), row["finished"] or "")
    show_table(table)


@loads_app.command("revert")
def loads_revert(
    load_id: Annotated[int, typer.Argument(metavar="ID", help="The load to revert (see `matneo loads list`).")],
    actor: Annotated[str, typer.Option(help="Who is reverting (for the audit log).")] = "cli",
) -> None:
    """Put the trust-months a load changed back as they were before it (atomic, audited)."""
    from matneo.records.revert import RevertRefused, revert_load

    try:
        result = revert_load(_prepared(), load_id, actor)
    except RevertRefused as refusal:
        errors.print(f"[red]Not reverted:[/red] {refusal} Nothing was changed.")
        raise typer.Exit(1) from None
    for change in result.months:
        console.print(f"{change.trust_code} {change.month}: {change.existing_rows:,} → {change.new_rows:,} records")
    console.print(f"Load {load_id} reverted (recorded as load {result.load_id}).")


@app.command()
def orgs(
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
    level: Annotated[str | None, typer.Option(help="Only this level: trust, lmns, region or england.")] = None,
) -> None:
    """List the organisation hierarchy: code, name, level and parent."""
    from matneo.reference.organisations import LEVELS, ReferenceDataError, load_hierarchy

    if level is not None and level not in LEVELS:
        raise typer.BadParameter(f"level must be one of {', '.join(LEVELS)}", param_hint="--level")
    try:
        hierarchy = load_hierarchy(settings=get_settings())
    except ReferenceDataError as error:
        errors.print(f"[red]Reference data problem:[/red] {error}")
        raise typer.Exit(1) from None
    rows = [
        {"code": o.code, "name": o.name, "level": o.level, "parent": o.parent_code}
        for lvl in reversed(LEVELS)
        if level in (None, lvl)
        for o in hierarchy.at_level(lvl)
    ]
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return
    table = Table(title=f"Organisations (reference version {hierarchy.version})")
    for column in ("code", "name", "level", "parent"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["code"], row["name"], row["level"], row["parent"] or "")
    show_table(table)


@app.command()
def status(
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
) -> None:
    """What is loaded: trusts, months, rows, the last loads and rejections."""
    from matneo.records.status import store_status

    settings = _prepared()
    summary = store_status(settings)
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(summary.to_dict(), indent=1) + "\n")
        return
    console.print(f"Data directory: {summary.home}")
    console.print(f"Records: {summary.describe()} Store version {summary.store_version}.")
    console.print(f"Rejected rows: {summary.rows_rejected:,} (in {summary.rejection_reports} rejection reports)")
    if summary.last_loads:
        table = Table(title="Last loads")
        for column in ("id", "file", "status", "loaded", "rejected", "finished"):
            table.add_column(column)
        for item in summary.last_loads:
            table.add_row(
                str(item.id),
                Path(item.file_name).name,
                item.status if not item.error else f"{item.status}: {item.error}",
                f"{item.rows_loaded:,}",
                f"{item.rows_rejected:,}",
                item.finished or "",  # London time; the JSON has UTC
            )
        show_table(table)


class TableFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def parse_month(spec: str | None, *, end: bool = False) -> dt.date | None:
    """'2019-06' → 1 June 2019 (or 30 June 2019 for the end of a range)."""
    if spec is None:
        return None
    try:
        year, month = (int(part) for part in spec.split("-"))
        first = dt.date(year, month, 1)
    except ValueError:
        raise typer.BadParameter(f"{spec!r} is not a month like 2019-06") from None
    if not end:
        return first
    from matneo.dates import month_end

    return month_end(first)


ROLLING_PERIODS = ("rolling_12m", "rolling_3y")


def show_table(table: Table) -> None:
    """Print a table: fitted to a terminal; piped into a file, ``less`` or ``grep``, one line per row.

    Piped, Rich would fit the table to 80 columns and wrap (or cut) long cells into fragments on
    several lines, which no program or person can read back; there, the table is as wide as it needs.
    """
    if console.is_terminal:
        show_table(table)
        return
    wide = Console(file=console.file, width=100_000, no_color=True, highlight=False)
    wide.print(table, crop=False)


_A_LEVEL = {"trust": "a trust", "lmns": "an LMNS", "region": "a region", "england": "England"}


def level_of_orgs(codes: list[str] | None, level: str | None) -> tuple[str, list[str] | None]:
    """The level to compute at: ``--level``, else the level of the ``--org`` codes, else England.

    ``--org R0A`` alone means "this trust"; a ``--level`` that does not match the codes is an error
    naming both, as are codes at different levels or unknown codes.
    """
    if not codes:
        return level or "england", None
    hierarchy = context.hierarchy(get_settings())
    codes = [code.strip().upper() for code in codes]
    levels = {}
    for code in codes:
        try:
            levels[code] = hierarchy.get(code).level
        except KeyError:
            raise typer.BadParameter(f"there is no organisation with code {code}", param_hint="--org") from None
    found = sorted(set(levels.values()))
    if level is None and len(found) > 1:
        raise typer.BadParameter(
            f"the codes are at different levels ({', '.join(found)}): give codes at one level", param_hint="--org"
        )
    wanted = level or found[0]
    wrong = [f"{code} is {_A_LEVEL.get(lvl, lvl)}" for code, lvl in levels.items() if lvl != wanted]
    if wrong:
        raise typer.BadParameter(f"{'; '.join(wrong)}, not {_A_LEVEL.get(wanted, wanted)}", param_hint="--org")
    return wanted, codes


def _with_caveats(settings: Settings, result: pl.DataFrame, level: str, period: str, publish: bool) -> pl.DataFrame:
    """Each row with its data-quality caveats (docs/data-quality.md): a ``caveats`` list; for
    publication, none resting on fewer records than the suppression threshold."""
    import polars as pl

    from matneo.measures.compute import org_lookup
    from matneo.measures.disclosure import SUPPRESSION_THRESHOLD
    from matneo.quality import quality_cube
    from matneo.quality.caveat import table_caveats
    from matneo.quality.rules import rules_from

    empty = pl.lit([], dtype=pl.List(pl.String))
    if result.is_empty():
        return result.with_columns(empty.alias("caveats"))
    cube, rules = quality_cube(settings), rules_from(settings)
    lookup = org_lookup(context.hierarchy(settings), level)
    least = SUPPRESSION_THRESHOLD if publish else 0
    found = pl.concat(
        [
            table_caveats(cube, m, lookup, period, rules, least).with_columns(measure=pl.lit(m))
            for m in result["measure"].unique().to_list()
        ]
    )
    joined = result.join(found, on=["measure", "org_code", "period_start"], how="left")
    return joined.with_columns(pl.col("caveats").fill_null(empty))


def _as_published(settings: Settings, result: pl.DataFrame, period: str, by: str | None) -> pl.DataFrame:
    """``result``'s rows as the web shows them to anyone outside their organisations.

    One publish path for the CLI and the web: every measure at every level of the period is
    suppressed together (:meth:`matneo.measures.results.ResultCache.published`, ADR 0005 and
    0007) and the rows asked for are taken from that. Suppressing only the rows asked for
    would let two commands (trusts, then their LMNS) be differenced into a hidden count, and
    would miss the links between measures.
    """
    import polars as pl

    from matneo.measures.results import ResultCache
    from matneo.reference.organisations import load_hierarchy

    if result.is_empty():
        return result
    cache = ResultCache(settings, load_hierarchy())
    tables = [cache.published(m, period, by) for m in result.get_column("measure").unique(maintain_order=True)]
    published = pl.concat(tables, how="vertical_relaxed").select(result.columns)
    keys = ["measure", "level", "org_code", "period_start", "period_end", *([by] if by else [])]
    wanted = result.select(keys).with_row_index("__row")
    return wanted.join(published, on=keys, how="inner").sort("__row").select(result.columns)


@app.command()
def measures(
    measure: Annotated[list[str] | None, typer.Option("--measure", "-m", help="Measure id (repeatable).")] = None,
    level: Annotated[
        str | None, typer.Option(help="trust, lmns, region or england (default: the level of --org, else england).")
    ] = None,
    period: Annotated[
        str, typer.Option(help="month, quarter, year, financial_year, rolling_12m or rolling_3y.")
    ] = "year",
    org: Annotated[
        list[str] | None, typer.Option(help="Organisation code (repeatable); its level is used unless --level.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--from", help="First month, YYYY-MM (rolling periods: the first month a period ends in)."),
    ] = None,
    until: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM (periods ending by then).")] = None,
    by: Annotated[str | None, typer.Option(help="Break down by ethnic_group or imd_quintile.")] = None,
    output: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = TableFormat.table,
    list_measures: Annotated[bool, typer.Option("--list", help="List the registered measures and stop.")] = False,
    publish: Annotated[
        bool, typer.Option("--publish", help="Suppress small numbers (with secondary suppression) for publication.")
    ] = False,
) -> None:
    """Compute measures with 95% and 99.8% confidence intervals."""
    import polars as pl

    from matneo.dates import month_end
    from matneo.measures.compute import compute
    from matneo.measures.definitions import MEASURES, UNIT_LABELS
    from matneo.measures.inequalities import add_ratios

    if list_measures:
        table = Table(title="Registered measures")
        for column in ("id", "title", "unit", "better", "target"):
            table.add_column(column)
        for m in MEASURES:
            better = "lower" if m.direction == "lower_is_better" else "higher"
            target = f"{m.target:g}" if m.target is not None else ""
            table.add_row(m.id, m.title, UNIT_LABELS[m.unit], better, target)
        show_table(table)
        return
    level, org = level_of_orgs(org, level)
    start, end = parse_month(since), parse_month(until, end=True)
    if start is not None and end is not None and start > end:
        raise typer.BadParameter(f"--from {since} is after --to {until}", param_hint="--from")
    # A rolling period is named by the month it ends in: --from/--to pick those months, whatever the
    # window's length (a 12-month window ending in 2020-03 starts in 2019-04, before --from 2020-01).
    rolling = period in ROLLING_PERIODS
    settings = _prepared()
    try:
        result = compute(
            measure,
            level=level,  # type: ignore[arg-type]
            period=period,  # type: ignore[arg-type]
            start=None if rolling else start,
            end=end,
            orgs=org,
            by=by,  # type: ignore[arg-type]
            settings=settings,
        )
        if rolling and start is not None:
            result = result.filter(pl.col("period_end") >= month_end(start))
        if by:
            result = add_ratios(result, by)
        if publish:
            result = _as_published(settings, result, period, by)
    except ValueError as error:
        errors.print(f"[red]Error:[/red] {error}")
        raise typer.Exit(2) from None
    result = _with_caveats(settings, result, level, period, publish)
    if output is TableFormat.csv:
        from matneo.csvsafe import frame_csv

        sys.stdout.write(frame_csv(result.with_columns(pl.col("caveats").list.join("; "))))
        return
    if output is TableFormat.json:
        sys.stdout.write(json.dumps(result.with_columns(pl_dates_as_text(result)).to_dicts(), indent=1) + "\n")
        return
    if result.is_empty():
        console.print("No results: nothing is loaded for that selection (see `matneo status`).")
        return
    columns = ["measure", "org_code", "period", *([by] if by else []), "numerator", "denominator", "value"]
    table = Table(title=f"Measures by {level} and {period}")
    if by:
        columns.append("ratio")
    for column in [*columns, "95% CI", "99.8% CI"]:
        table.add_column(column, justify="left" if column in ("measure", "org_code", "period", by) else "right")
    for row in result.iter_rows(named=True):
        value = "suppressed" if row["suppressed"] else "n/a" if row["value"] is None else f"{row['value']:.2f}"
        intervals = [
            "" if row[f"lower{c}"] is None else f"{row[f'lower{c}']:.2f}–{row[f'upper{c}']:.2f}" for c in ("95", "998")
        ]
        cells = [
            "" if row[c] is None else f"{row[c]:,}" if c in ("numerator", "denominator") else str(row[c])
            for c in columns
            if c not in ("value", "ratio")
        ]
        ratio = [] if not by else ["n/a" if row["ratio"] is None else f"{row['ratio']:.2f}"]
        table.add_row(*cells, value, *ratio, *intervals)
    show_table(table)
    for row in (
        result.filter(pl.col("caveats").list.len() > 0).unique(["measure", "org_code", "period"]).iter_rows(named=True)
    ):
        for text in row["caveats"]:
            console.print(f"Caveat: {row['measure']} {row['org_code']} {row['period']}: {text}", soft_wrap=True)


@app.command()
def ambition(
    org: Annotated[str | None, typer.Option(help="Organisation code (default: England).")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
) -> None:
    """Progress against the National Maternity Safety Ambition: baseline, targets, latest, status."""
    from matneo.measures.ambition import ambition_report
    from matneo.measures.definitions import UNIT_LABELS

    settings = _prepared()
    try:
        report = ambition_report(org, settings=settings)
    except KeyError as error:
        errors.print(f"[red]Error:[/red] {error.args[0]}")
        raise typer.Exit(2) from None
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps([item.to_dict() for item in report], indent=1) + "\n")
        return
    table = Table(title=f"National Maternity Safety Ambition: {org or 'England'}")
    for column in (
        "measure",
        "unit",
        "baseline",
        "2020 target",
        "2025 target",
        "latest (95% CI)",
        "expected",
        "status",
    ):
        table.add_column(column)
    for item in report:
        progress = item.progress
        if progress is None:
            table.add_row(item.title, UNIT_LABELS[item.unit], "", "", "", "", "", item.problem or "")
            continue
        targets = {t.year: f"{t.rounded:g}" for t in progress.targets}
        latest = progress.latest
        shown = (
            f"{item.period_name(latest.year)}: {latest.value:.2f} ({latest.lower:.2f} to {latest.upper:.2f})"
            if latest
            else "no data"
        )
        expected = f"{progress.expected_at_latest:.2f}" if progress.expected_at_latest is not None else ""
        table.add_row(
            item.title,
            UNIT_LABELS[item.unit],
            f"{item.period_name(progress.baseline.year)}: {progress.baseline.value:.2f}",
            targets.get(2020, ""),
            targets.get(2025, ""),
            shown,
            expected,
            (progress.status or "").replace("_", " "),
        )
    show_table(table)
    console.print(
        "Status: ahead if the whole 95% interval is better than the trajectory for that year, off track if it is "
        "all worse, otherwise on track. Targets are the baseline less 20% (2020) and 50% (2025), rounded half up "
        "(the methods guide, served by `matneo serve` at /methods#trajectories-to-the-ambition)."
    )


@app.command()
def signals(
    org: Annotated[
        str | None, typer.Option(help="Only trusts under this organisation (trust, LMNS or region).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Only signals active since this month, YYYY-MM.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
    refresh: Annotated[bool, typer.Option(help="Run detection on the loaded data first.")] = True,
    include_closed: Annotated[bool, typer.Option("--all", help="Include closed signals.")] = False,
    level: Annotated[
        str, typer.Option(help="Also show each trust's organisation at this level (lmns, region).")
    ] = "trust",
) -> None:
    """Trusts with an active concern: case-mix-adjusted funnel outliers and CUSUM alarms."""
    from matneo.dates import day_text
    from matneo.signals import current
    from matneo.signals.detect import METHOD_LABELS
    from matneo.signals.register import refresh_from_store

    settings = _prepared()
    if refresh:
        summary = refresh_from_store(settings)
        if summary.as_of and output is OutputFormat.table:
            console.print(summary.text())
    try:
        entries = current(settings, org, parse_month(since), include_closed)
    except KeyError as error:
        errors.print(f"[red]Error:[/red] {error.args[0]}")
        raise typer.Exit(2) from None
    if level not in ("trust", "lmns", "region"):
        raise typer.BadParameter("level must be trust, lmns or region", param_hint="--level")
    if level != "trust":
        hierarchy = context.hierarchy(settings)
        for entry in entries:
            entry[f"{level}_code"] = hierarchy.ancestor_at(entry["trust_code"], level).code
        entries.sort(key=lambda e: (e[f"{level}_code"], e["trust_code"]))
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(entries, indent=1) + "\n")
        return
    if not entries:
        console.print("No active signals.")
        return
    table = Table(title="Signals register")
    columns = ("id", *([level] if level != "trust" else []), "trust", "measure", "method", "status", "signalling")
    for column in (*columns, "since", "latest", "evidence"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(
            str(entry["id"]),
            *([entry[f"{level}_code"]] if level != "trust" else []),
            entry["trust_code"],
            entry["measure"],
            METHOD_LABELS.get(entry["method"], entry["method"]),
            entry["status"].capitalize(),
            "Yes" if entry["signalling"] else "Stopped" if entry["status"] != "closed" else "No",
            day_text(dt.date.fromisoformat(entry["since"])),
            day_text(dt.date.fromisoformat(entry["last_signal"])),
            " ".join([entry["summary"], *(f"Data quality: {c}." for c in entry.get("caveats", []))]),
        )
    show_table(table)


@app.command()
def quality(
    org: Annotated[str | None, typer.Option(help="Trust, LMNS or region code (default: England).")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site of the trust (its ODS code).")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
) -> None:
    """Data quality: completeness and validity of every field a measure uses, rejections, late and
    missing months, records sent again; and which figures carry a caveat (the data quality guide, served by
    `matneo serve` at /guides/data-quality)."""
    from matneo.quality import report_for

    settings = _prepared()
    hierarchy = context.hierarchy(settings)
    code = (org or "ENG").strip().upper()
    if code not in hierarchy.organisations:
        errors.print(f"[red]Error:[/red] no organisation with code {code}")
        raise typer.Exit(2)
    if site is not None and hierarchy.get(code).level != "trust":
        errors.print("[red]Error:[/red] --site needs --org to be a trust")
        raise typer.Exit(2)
    report = report_for(settings, hierarchy, code, detail=True, site=site.strip().upper() if site else None)
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=1, default=str) + "\n")
        return
    console.print(f"Data quality: {report.name} ({report.code}), {report.period or 'no records loaded'}")
    if report.births is not None:
        console.print(f"Birth records: {report.births:,}")
    table = Table(title="Completeness of the fields the measures use")
    for column in ("field", "recorded", "of", "percent", "threshold", "used by"):
        table.add_column(column, overflow="fold")
    for row in report.fields:
        table.add_row(
            row.label,
            f"{row.known:,}" if row.known is not None else "",
            f"{row.population:,}" if row.population is not None else "",
            ("[red]" + (row.percent_text or "") + "[/red]") if row.below_threshold else (row.percent_text or "–"),
            f"{row.threshold:g}%",
            "; ".join(row.measures),
        )
    show_table(table)
    for text in report.caveats:
        console.print(f"Caveat: {text}")
    weight = report.birth_weight
    if weight["judged"]:
        console.print(
            f"Birth weight implausible for gestation: {weight['implausible']:,} of {weight['judged']:,} "
            f"({weight['implausible_percent']}%)"
        )
    rejected = report.rejections
    if rejected["rows_read"]:
        console.print(
            f"Rejected rows: {rejected['rows_rejected']:,} of {rejected['rows_read']:,} read "
            f"({rejected['rejected_percent']}%) in {rejected['loads']} loads"
        )
    gaps = Table(title="Coverage")
    for column in ("trust", "from", "missing months", "late months", "records sent again"):
        gaps.add_column(column, overflow="fold")
    for c in report.coverage:
        gaps.add_row(
            c.trust_code,
            c.first_month or "no records",
            ", ".join(c.missing_months) or str(c.missing),
            ", ".join(c.late_months) or str(c.late),
            str(c.resent_records),
        )
    show_table(gaps)
    if report.units:
        units = Table(title=report.units_title)
        for column in ("code", "name", "births", "below threshold"):
            units.add_column(column, overflow="fold")
        for u in report.units:
            units.add_row(u.code or "–", u.name, f"{u.births:,}", "; ".join(u.below) or "none")
        show_table(units)


@app.command("signal-ack")
def signal_ack(
    signal_id: Annotated[int, typer.Argument(help="Signal id from `matneo signals`.")],
    by: Annotated[str, typer.Option("--by", help="Who is acknowledging (name or e-mail).")],
    comment: Annotated[str, typer.Option(help="What is being done about it.")],
) -> None:
    """Acknowledge a signal with a comment (kept in its history)."""
    from matneo.signals.register import acknowledge

    settings = _prepared()
    try:
        acknowledge(settings.database_url, signal_id, by, comment)
    except (LookupError, ValueError) as error:
        errors.print(f"[red]Not acknowledged:[/red] {error.args[0]}")
        raise typer.Exit(2) from None
    console.print(f"Signal {signal_id} acknowledged.")


@app.command("board-pack")
def board_pack(
    org: Annotated[str, typer.Option(help="Trust, LMNS or region code.")],
    month: Annotated[str, typer.Option(help="The pack's month, YYYY-MM.")],
    out: Annotated[Path | None, typer.Option(help="Write the PDF here (printed by Chromium).")] = None,
    html: Annotated[Path | None, typer.Option(help="Write the HTML pack here.")] = None,
    by: Annotated[str, typer.Option("--by", help="Who is producing it (recorded in the archive).")] = "matneo CLI",
) -> None:
    """Produce the monthly board pack (HTML and/or PDF) for an organisation, and archive it."""
    from matneo.board.render import PdfUnavailable
    from matneo.board.service import produce
    from matneo.measures.results import ResultCache

    if out is None and html is None:
        raise typer.BadParameter("give --out FILE.pdf, --html FILE.html or both", param_hint="--out")
    first = parse_month(month)
    if first is None:  # pragma: no cover - parse_month only returns None for None
        raise typer.BadParameter("give the month as YYYY-MM", param_hint="--month")
    settings = _prepared()
    hierarchy = context.hierarchy(settings)
    code = org.strip().upper()
    try:
        made = produce(
            settings,
            ResultCache(settings, hierarchy),
            hierarchy,
            code,
            first,
            scope=None,
            actor=by,
            pdf=out is not None,
        )
    except KeyError:
        errors.print(f"[red]Error:[/red] no organisation with code {code}")
        raise typer.Exit(2) from None
    except (ValueError, PdfUnavailable) as error:
        errors.print(f"[red]Error:[/red] {error}")
        raise typer.Exit(2) from None
    if html is not None:
        html.write_text(made.html, encoding="utf-8")
    if out is not None and made.pdf is not None:
        out.write_bytes(made.pdf)
    archived = made.archived
    console.print(
        f"Board pack for {made.pack.org_name}, {made.pack.month_label}: "
        + ", ".join(str(p) for p in (out, html) if p is not None)
        + (f" (archived as pack {archived.id})" if archived else "")
    )


@app.command()
def triangulate(
    org: Annotated[str, typer.Option(help="Trust, LMNS, region or ENG (default: England).")] = "ENG",
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
    all_trusts: Annotated[
        bool, typer.Option("--all", help="List every trust, not only those needing a conversation.")
    ] = False,
) -> None:
    """Trusts needing a conversation: the concern rules that fire, with their evidence, and the last decision."""
    from matneo.dates import day_text
    from matneo.measures.results import ResultCache
    from matneo.triangulation.picture import pictures

    settings = _prepared()
    hierarchy = context.hierarchy(settings)
    code = org.strip().upper()
    try:
        hierarchy.get(code)
    except KeyError:
        errors.print(f"[red]Error:[/red] no organisation with code {code}")
        raise typer.Exit(2) from None
    found = pictures(
        settings.database_url,
        ResultCache(settings, hierarchy),
        hierarchy,
        code,
        dt.date.today(),
        settings.concern_rules,
    )
    shown = [p for p in found if all_trusts or p.needs_conversation]
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps([p.to_dict() for p in shown], indent=1) + "\n")
        return
    if not shown:
        console.print("No trust needs a conversation: no concern rule fires.")
        return
    table = Table(title=f"Trusts needing a conversation: {hierarchy.get(code).name}")
    for column in ("trust", "why (rules that fire)", "evidence", "last decision"):
        table.add_column(column)
    for p in shown:
        latest = p.latest_decision
        table.add_row(
            f"{p.trust_name} ({p.trust_code})",
            "\n".join(f.rule.title for f in p.fired) or "–",
            "\n".join(sorted({c.text for f in p.fired for c in f.evidence})) or "–",
            f"{latest.label}, review {day_text(latest.review_on)}" if latest else "none",
        )
    show_table(table)


def pl_dates_as_text(frame):  # type: ignore[no-untyped-def]
    """Date columns as ISO text, for JSON."""
    import polars as pl

    return [pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t == pl.Date]


def _prepared() -> Settings:
    return context.prepared()


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Option(help="The user's e-mail address (their sign-in name).")],
    role: Annotated[
        str, typer.Option(help="national_analyst, regional_lead, lmns_lead, trust_staff or administrator.")
    ],
    org: Annotated[str, typer.Option(help="Code of the organisation the user belongs to.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    actor: Annotated[str, typer.Option(help="Who is adding the user (for the audit log).")] = "cli",
) -> None:
    """Add a user. The password is read from stdin (never from the command line)."""
    from matneo.auth.users import add_user

    if not password_stdin:
        raise typer.BadParameter("give the password on stdin with --password-stdin", param_hint="--password-stdin")
    password = sys.stdin.readline().rstrip("\n")
    settings = _prepared()
    try:
        user = add_user(settings.database_url, email, role, org, password, actor)
    except ValueError as error:
        errors.print(f"[red]Not added:[/red] {error}")
        raise typer.Exit(2) from None
    console.print(f"Added user {user.id}: {user.email} ({user.role}, {user.org_code}).")


@users_app.command("list")
def users_list(
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
) -> None:
    """List users."""
    from dataclasses import asdict

    from matneo.auth.users import list_users

    users = list_users(_prepared().database_url)
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps([asdict(u) for u in users], indent=1) + "\n")
        return
    table = Table(title="Users")
    for column in ("id", "email", "role", "organisation", "active"):
        table.add_column(column)
    for u in users:
        table.add_row(str(u.id), u.email, u.role, u.org_code, "yes" if u.active else "no")
    show_table(table)


class UserChange(StrEnum):
    unlock = "unlock"
    deactivate = "deactivate"
    activate = "activate"


@users_app.command("change")
def users_change(
    action: Annotated[UserChange, typer.Argument(help="unlock (clear the sign-in delay), deactivate or activate.")],
    email: Annotated[str, typer.Option(help="The user's e-mail address.")],
    actor: Annotated[str, typer.Option(help="Who is making the change (for the audit log).")] = "cli",
) -> None:
    """Clear a user's sign-in delay (unlock), or deactivate/activate one (deactivating ends their sessions)."""
    from matneo.auth.users import list_users, set_active, unlock

    url = _prepared().database_url
    found = [u for u in list_users(url) if u.email == email.strip().lower()]
    if not found:
        errors.print(f"[red]No user with e-mail {email}[/red]")
        raise typer.Exit(2)
    if action is UserChange.unlock:
        unlock(url, found[0].id, actor)
    else:
        set_active(url, found[0].id, action is UserChange.activate, actor)
    console.print(f"{action.value.capitalize()}: {found[0].email}.")


@users_app.command("audit")
def users_audit(limit: Annotated[int, typer.Option(help="How many events, newest first.")] = 50) -> None:
    """Print the audit log as JSON (newest first)."""
    from matneo.auth.users import audit_trail

    sys.stdout.write(json.dumps(audit_trail(_prepared().database_url, limit), indent=1) + "\n")


@reference_app.command("install")
def reference_install(
    organisations: Annotated[Path, typer.Argument(help="CSV: code,name,level,parent_code")],
    sites: Annotated[Path | None, typer.Option(help="CSV: code,name,trust_code,neonatal_unit_level")] = None,
) -> None:
    """Replace the packaged organisation hierarchy with your own extract (validated first)."""
    from matneo.reference.organisations import ReferenceDataError, install_user_extract

    settings = get_settings()
    try:
        hierarchy = install_user_extract(organisations, sites, settings.home)
    except ReferenceDataError as error:
        errors.print(f"[red]Not installed:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"Installed: {len(hierarchy.trusts())} trusts, version {hierarchy.version}.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    upgrade: Annotated[
        bool, typer.Option("--upgrade", help="Upgrade the app database first (what `matneo db upgrade` does).")
    ] = False,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            help="Addresses of the reverse proxies (TLS terminators) in front of MatNeo, comma-separated. "
            "Their X-Forwarded-For and X-Forwarded-Proto headers are believed: sign-in limits then apply "
            "to each real client, and https at the proxy makes cookies Secure and adds HSTS. "
            "Default: none (headers are ignored)."
        ),
    ] = "",
) -> None:
    """Serve the web app. Each request and each background job is logged to stderr (no identifiers)."""
    import uvicorn

    from matneo.web.app import create_app, log_to_stderr
    from matneo.web.server import server_config

    if upgrade:
        db_upgrade()
    settings = _prepared()
    log_to_stderr()
    app_ = create_app(settings, warm=True)
    console.print(f"MatNeo is running at http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.Server(server_config(app_, host, port, forwarded_allow_ips)).run()


@app.command()
def demo(
    years: Annotated[str, typer.Option(help="Years of synthetic data to generate if none is loaded.")] = "2010-2024",
    scale: Annotated[float, typer.Option(help="Size of the synthetic dataset (1.0 ≈ England).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed for the synthetic dataset.")] = 7,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Prepare the data, do not start the web app.")] = False,
    struggling: Annotated[
        list[str], typer.Option(help="TRUST:YYYY-MM:FACTOR planted in the synthetic data (repeatable).")
    ] = DEMO_STRUGGLING,
) -> None:
    """Generate and load a synthetic national dataset if nothing is loaded, then serve the web app."""
    from matneo.auth.demo import ensure_demo_users
    from matneo.records.status import store_status
    from matneo.signals.register import refresh_from_store
    from matneo.web.app import DEMO_MARKER

    settings = _prepared()
    if store_status(settings).rows == 0:
        out = settings.home / "synthetic"
        console.print(f"No records loaded: generating synthetic data for {years} into {out}")
        console.print(f"Planting a struggling trust so the signals can be seen working: {', '.join(struggling)}")
        synth(out=out, years=years, scale=scale, seed=seed, struggling=struggling, file_format=FileFormat.parquet)
        load([out])
        console.print("Looking for early signals (case-mix adjusted funnels and CUSUM)…")
        summary = refresh_from_store(settings)
        console.print(f"Signals register: {summary.raised} raised.")
    else:
        console.print("Records already loaded; skipping generation (see `matneo status`).")
    (settings.home / DEMO_MARKER).write_text("Synthetic demonstration data: pages say so.\n")
    trust = struggling[0].split(":")[0] if struggling else "R0A"
    accounts = ensure_demo_users(settings.database_url, settings.home, context.hierarchy(settings), trust)
    from matneo.assurance.demo import (
        seed_demo_assurance,
        seed_demo_evidence,
        seed_demo_local,
        seed_demo_themes,
        seed_demo_voice,
    )
    from matneo.reviews.demo import seed_demo_reviews

    seeded = seed_demo_assurance(settings.database_url, context.hierarchy(settings), trust, dt.date.today())
    if seeded:
        console.print(f"Assurance: {seeded} demonstration statuses recorded for {trust} and two LMNS neighbours.")
    if seed_demo_evidence(settings.database_url, settings.home, trust, dt.date.today()):
        console.print(f"Assurance: a demonstration evidence library for {trust}, items mapped to many requirements.")
    if seed_demo_voice(settings.database_url, trust, dt.date.today()):
        console.print(f"Family and staff voice: a synthetic year of survey figures for {trust}.")
    if seed_demo_themes(settings.database_url, trust, dt.date.today()):
        console.print(f"Family voice: a synthetic year of partnership feedback themes for {trust}.")
    if seed_demo_local(settings.database_url, context.hierarchy(settings), trust, dt.date.today()):
        console.print(f"Assurance: a local requirement of {trust} and one its LMNS asks of every trust.")
    reviews_seeded = seed_demo_reviews(settings, context.hierarchy(settings), trust)
    if reviews_seeded:
        console.print(f"Perinatal mortality reviews: {reviews_seeded} synthetic reviews opened at {trust}.")
    from matneo.qi.demo import ensure_demo_collaborative

    if ensure_demo_collaborative(settings.database_url, context.hierarchy(settings), trust) is not None:
        console.print("Set up a demonstration improvement collaborative: see Improvement (/qi).")
    console.print(f"\nDemo sign-in at http://{host}:{port}/ (passwords kept in {settings.home / 'demo-users.json'}):")
    for account in accounts:
        console.print(
            f"  {account['email']}  password: {account['password']}  ({account['role']}, {account['org_code']})",
            soft_wrap=True,
        )
    if not no_serve:
        serve(host=host, port=port, forwarded_allow_ips="")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the app database to this version's schema and sync its organisations (safe to repeat).

    Run it after installing or upgrading MatNeo, before serving; other commands refuse a database
    that is behind. With several workers, run it once, not from each.
    """
    from matneo.db.session import current_revision, head_revision, upgrade

    settings = context.settings()
    settings.ensure_dirs()
    before = current_revision(settings.database_url)
    upgrade(settings.database_url, context.hierarchy(settings))
    head = head_revision()
    if before == head:
        console.print(f"The app database was already at the newest schema ({head}).")
    else:
        console.print(f"The app database is upgraded from {before or 'empty'} to {head}.")


def _progress(quiet: bool = False) -> Progress:
    """A progress bar; ``quiet`` (machine-readable output) draws it on stderr, out of the way."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=errors if quiet else console,
        transient=quiet,
    )


if __name__ == "__main__":  # pragma: no cover
    app()

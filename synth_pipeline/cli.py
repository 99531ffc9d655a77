"""`synth-pipeline` console script: init a project, run a version end to end, list versions."""

from __future__ import annotations

import os
import shutil
import sys
import traceback
from importlib import resources
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from synth_pipeline.cli_progress import STATUS_STYLE, PhaseBars
from synth_pipeline.errors import SynthPipelineError
from synth_pipeline.offline import use_offline_defaults

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Seeds to versioned, audited, decontaminated synthetic training data.")
# Piped or logged output has no terminal to fit: wide enough that the summary table does not fold.
console = Console(width=None if sys.stdout.isatty() else 140)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 140)

def dagster_home() -> Path:
    """DAGSTER_HOME, defaulting to ./.dagster_home with telemetry off."""
    home = Path(os.environ.get("DAGSTER_HOME") or ".dagster_home").absolute()
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        # Same settings as the repository's dagster.yaml: no telemetry; LLM-calling assets of
        # several versions share the `llm_api` pool instead of stampeding one provider.
        settings.write_text("telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _root_cause(exc: BaseException) -> BaseException:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, SynthPipelineError):
            return exc
        user = getattr(exc, "user_exception", None)
        exc = user or exc.__cause__ or exc.__context__
    return exc


def _fail(exc: BaseException, debug: bool) -> None:
    cause = _root_cause(exc) or exc
    if debug:
        traceback.print_exception(exc)
    message = str(cause).strip() or type(cause).__name__
    if not isinstance(cause, SynthPipelineError):
        message = f"{type(cause).__name__}: {message}"
    hint = "" if debug else " [dim](--debug for the traceback)[/]"
    err_console.print(f"[bold red]error:[/] {escape(message)}{hint}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@app.command()
def init(directory: Path = typer.Argument(..., help="folder to create the example project in"),
         force: bool = typer.Option(False, help="write into an existing non-empty folder")) -> None:
    """Write a runnable example project: pipeline.yaml, taxonomy.yaml and seed tasks."""
    if directory.exists() and any(directory.iterdir()) and not force:
        err_console.print(f"[bold red]error:[/] {directory} is not empty (use --force)")
        raise typer.Exit(1)
    source = resources.files("synth_pipeline") / "templates" / "quickstart"
    with resources.as_file(source) as src:
        shutil.copytree(src, directory, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".synth", "datasets", "__pycache__"))
    console.print(f"Wrote an example project to [bold]{directory}[/]. Run it with:\n"
                  f"  synth-pipeline run --config {directory / 'pipeline.yaml'} --version v1")


@app.command()
def run(config: Path = typer.Option(..., "--config", "-c", help="pipeline.yaml"),
        version: str = typer.Option(..., "--version", "-v", help="dataset version (partition key)"),
        out: Path | None = typer.Option(None, "--out", "-o", help="release folder (default: export.out_dir)"),
        debug: bool = typer.Option(False, help="show tracebacks and Dagster's error records")) -> None:
    """Add the version and materialize every phase for it in-process, then print a summary.

    The summary table is printed whatever happens once a phase has run, then the error if any:
    where the rows went is what tells the user why a run ended with nothing to release.
    """
    use_offline_defaults()
    try:
        from synth_pipeline.config import load_config
        from synth_pipeline.runner import run_version

        load_config(config)  # fail on a bad config before any work
        dagster_home()
        with PhaseBars(console) as bars:
            result = run_version(config, version, out_dir=out, on_progress=bars,
                                 log_level="WARNING" if debug else "CRITICAL")
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clear line
        partial = getattr(exc, "run_result", None)
        if partial is not None:
            _print_summary(partial)
        _fail(exc, debug)
        return
    _print_summary(result)
    if not result.success:
        raise typer.Exit(1)


def _print_summary(result) -> None:
    from synth_pipeline.phases import PHASE_NAMES

    table = Table(title=f"dataset version {result.version}")
    for column in ("phase", "status", "implemented", "in", "kept", "rejected", "top reject rules"):
        table.add_column(column, justify="right" if column in {"in", "kept", "rejected"} else "left",
                         no_wrap=column != "top reject rules")
    summaries = {s["phase"]: s for s in result.summaries}
    for phase in PHASE_NAMES:
        status = result.status.get(phase, "not run")
        shown = STATUS_STYLE.get(status, status)
        summary = summaries.get(phase)
        if summary is None:
            table.add_row(phase, shown, "", "", "", "", "")
            continue
        rules = sorted(summary["rejected_by_rule"].items(), key=lambda kv: -kv[1])[:3]
        table.add_row(phase, shown, "yes" if summary["implemented"] else "[yellow]no[/]",
                      str(summary["rows_in"]), str(summary["kept"]), str(summary["rejected"]),
                      ", ".join(f"{r} ({n})" for r, n in rules))
    console.print(table)
    for check in result.failed_checks:  # blocking gates stopped the run; the others only warn
        label = "[bold red]gate failed:[/]" if "(blocking)" in check else "[yellow]gate warning:[/]"
        console.print(f"{label} {escape(check)}", highlight=False)
    if result.release_dir:
        console.print(f"Release written to [bold]{result.release_dir}[/]")


@app.command()
def versions(debug: bool = typer.Option(False, help="show tracebacks")) -> None:
    """List the dataset versions known to this Dagster instance."""
    use_offline_defaults()
    try:
        import dagster as dg

        from synth_pipeline.defs.partitions import dataset_version

        dagster_home()
        with dg.DagsterInstance.get() as instance:
            keys = instance.get_dynamic_partitions(dataset_version.name)
    except Exception as exc:  # noqa: BLE001
        _fail(exc, debug)
        return
    if not keys:
        console.print("no versions yet")
    for key in keys:
        console.print(key)


# --- review store: `synth-pipeline review add-user`, `synth-pipeline audit verify|export` ---
review_app = typer.Typer(no_args_is_help=True, help="Human review: users and the review store.")
audit_app = typer.Typer(no_args_is_help=True, help="The review audit trail.")
app.add_typer(review_app, name="review")
app.add_typer(audit_app, name="audit")
DB_OPTION = typer.Option(None, "--db", help="review store URL (default: $SYNTH_REVIEW_DB_URL, else from --config)")
STORE_CONFIG_OPTION = typer.Option(None, "--config", "-c", help="pipeline.yaml naming the review store")


@review_app.command("add-user")
def review_add_user(name: str = typer.Argument(..., help="user name"),
                    role: str = typer.Option(..., "--role", help="admin, reviewer, adjudicator, auditor or viewer"),
                    db: str | None = DB_OPTION, config: Path | None = STORE_CONFIG_OPTION,
                    debug: bool = typer.Option(False, help="show tracebacks")) -> None:
    """Create a review user. The password comes from $SYNTH_REVIEW_PASSWORD or a prompt; there is no default."""
    try:
        from synth_pipeline.review import db as store
        from synth_pipeline.review.users import create_user

        password = os.environ.get("SYNTH_REVIEW_PASSWORD") or typer.prompt(
            f"password for {name}", hide_input=True, confirmation_prompt=True)
        url = store.store_url(db, config)
        store.migrate(url)
        engine = store.make_engine(url)
        try:
            with store.session_factory(engine)() as session:
                create_user(session, name, role, password, actor="cli")
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clear line
        _fail(exc, debug)
        return
    console.print(f"created {role} [bold]{escape(name)}[/]")


@audit_app.command("verify")
def audit_verify(db: str | None = DB_OPTION, config: Path | None = STORE_CONFIG_OPTION,
                 debug: bool = typer.Option(False, help="show tracebacks")) -> None:
    """Check the review audit chain; exit 1 naming the first entry that was altered, deleted or reordered."""
    try:
        from synth_pipeline.review import audit
        from synth_pipeline.review import db as store

        engine = store.make_engine(store.store_url(db, config))
        try:
            with store.session_factory(engine)() as session:
                result = audit.verify(session)
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001
        _fail(exc, debug)
        return
    if not result.ok:
        bad = f"entry {result.first_bad_seq}" if result.first_bad_seq is not None else "chain head"
        err_console.print(f"[bold red]audit chain broken at {bad}:[/] {escape(result.reason)} "
                          f"({result.entries} entries verified before it)", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"audit chain ok: {result.entries} entries")


@audit_app.command("export")
def audit_export(fmt: str = typer.Option(..., "--format", help="csv or json"),
                 out: Path = typer.Option(..., "--out", help="file to write"),
                 since: str | None = typer.Option(None, help="from this ISO date or date-time (UTC), inclusive"),
                 until: str | None = typer.Option(None, help="up to this date or date-time (UTC), inclusive"),
                 actor: str | None = typer.Option(None, help="only this user's (or system's) actions"),
                 allow_broken: bool = typer.Option(False, help="export a broken chain, marked unverified (exit 1)"),
                 db: str | None = DB_OPTION, config: Path | None = STORE_CONFIG_OPTION,
                 debug: bool = typer.Option(False, help="show tracebacks")) -> None:
    """Processing records for auditors: who did what to which data, when. Verifies the chain first."""
    try:
        from synth_pipeline.review import audit_export as records
        from synth_pipeline.review import db as store

        where = records.ExportFilter(since=records.parse_bound(since, "--since"),
                                     until=records.parse_bound(until, "--until", upper=True), actor=actor)
        engine = store.make_engine(store.store_url(db, config))
        try:
            with store.session_factory(engine)() as session:
                result = records.export(session, out, fmt.lower(), where, allow_broken=allow_broken)
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clear line
        _fail(exc, debug)
        return
    check = result.verification
    if check.ok:
        console.print(f"audit chain verified: {check.entries} entries, head {result.head_hash}", highlight=False)
    else:
        err_console.print(f"[bold red]audit chain NOT verified:[/] {escape(check.reason)}; the export says so",
                          highlight=False, soft_wrap=True)
    console.print(f"wrote {result.records} processing records to {escape(str(result.path))}", highlight=False)
    if not check.ok:
        raise typer.Exit(1)


@review_app.command("serve")
def review_serve(host: str = typer.Option("127.0.0.1", help="address to listen on"),
                 port: int = typer.Option(8000, help="port to listen on"),
                 db: str | None = DB_OPTION, config: Path | None = STORE_CONFIG_OPTION,
                 show_reviewer_names: bool = typer.Option(False, help="show adjudicators who answered what"),
                 tls_cert: Path | None = typer.Option(None, "--tls-cert", help="PEM certificate (chain): TLS 1.3 only"),
                 tls_key: Path | None = typer.Option(None, "--tls-key", help="PEM private key of --tls-cert"),
                 workers: int = typer.Option(1, min=1, help="uvicorn worker processes"),
                 debug: bool = typer.Option(False, help="show tracebacks")) -> None:
    """Serve the review web app. Needs SYNTH_REVIEW_SECRET_KEY (or _FILE), and on an empty database
    SYNTH_REVIEW_ADMIN_PASSWORD for the first admin: there is no default secret or password.
    With --tls-cert/--tls-key it listens for TLS 1.3 only (no plain HTTP) with Secure cookies."""
    use_offline_defaults()
    try:
        from synth_pipeline.review.app.serve import prepare, serve, settings_for, tls_files

        tls = tls_files(tls_cert, tls_key)
        settings = settings_for(db, config, hide_reviewer_names=not show_reviewer_names)
        created = prepare(settings)
        if created:
            console.print(f"created the first admin [bold]{escape(created)}[/] from SYNTH_REVIEW_ADMIN_PASSWORD")
        serve(settings, host, port, tls, workers)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clear line
        _fail(exc, debug)


@app.command("create-bucket")
def create_bucket(config: Path = typer.Option(..., "--config", "-c", help="pipeline.yaml"),
                  debug: bool = typer.Option(False, help="show tracebacks")) -> None:
    """Create the S3 bucket that `storage.bucket` names, if missing (a deployment's first start)."""
    use_offline_defaults()
    try:
        from synth_pipeline.buckets import ensure_bucket
        from synth_pipeline.config import load_pipeline_config

        storage = load_pipeline_config(config).storage
        created = ensure_bucket(storage)
    except Exception as exc:  # noqa: BLE001
        _fail(exc, debug)
        return
    console.print(f"{'created' if created else 'bucket exists:'} s3://{storage.bucket}")


@app.command()
def validate(config: Path = typer.Option(..., "--config", "-c", help="pipeline.yaml"),
             version: str = typer.Option(..., "--version", "-v", help="released dataset version"),
             out: Path | None = typer.Option(None, "--out", "-o", help="release folder (default: export.out_dir)"),
             debug: bool = typer.Option(False, help="show tracebacks and Dagster's error records")) -> None:
    """Fine-tune a small model on a release and write its evaluation report beside it (the `validation` asset)."""
    use_offline_defaults()
    try:
        import dagster as dg

        from synth_pipeline.config import load_config
        from synth_pipeline.definitions import build_defs, build_resources
        from synth_pipeline.defs.partitions import dataset_version

        load_config(config)
        dagster_home()
        args = (str(config.absolute()), str(out) if out else None)
        defs = build_defs(*args)
        with dg.DagsterInstance.get() as instance:
            if not instance.has_dynamic_partition(dataset_version.name, version):
                instance.add_dynamic_partitions(dataset_version.name, [version])
            result = dg.materialize(list(defs.assets or []), selection=dg.AssetSelection.assets("validation"),
                                    partition_key=version, instance=instance, resources=build_resources(*args),
                                    raise_on_error=True)
        meta = result.asset_materializations_for_node("validation")[0].metadata
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clear line
        _fail(exc, debug)
        return
    table = Table("measure", "value")
    for key in ("heldout_loss_before", "heldout_loss_after", "prompt_gain", "benchmark_change_points", "passed",
                "verdict"):
        table.add_row(key, str(meta[key].value))
    console.print(table)
    console.print(f"report: {meta['summary'].value}", soft_wrap=True)
    if not meta["passed"].value:
        raise typer.Exit(1)


@app.command()
def erase(source_id: str = typer.Option(..., "--source-id", help="seed id, row id or source (file:line) to erase"),
          config: Path = typer.Option(..., "--config", "-c", help="pipeline.yaml"),
          out: Path | None = typer.Option(None, "--out", "-o", help="release folder (default: export.out_dir)"),
          dry_run: bool = typer.Option(False, "--dry-run", help="count what would go, change nothing"),
          actor: str = typer.Option(os.environ.get("USER") or "cli", "--actor", help="who asks (audit trail)"),
          debug: bool = typer.Option(False, help="show tracebacks")) -> None:
    """Right to erasure: remove every row derived from a seed or source, everywhere, and record it."""
    use_offline_defaults()
    try:
        from synth_pipeline.config import load_pipeline_config
        from synth_pipeline.erasure.run import erase as run_erase

        report = run_erase(load_pipeline_config(config), source_id, dry_run=dry_run, actor=actor, out_dir=out)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clear line
        _fail(exc, debug)
        return
    verb = "would remove" if dry_run else "removed"
    table = Table("where", verb)
    table.add_row("rows derived from the source (ids)", str(report.rows))
    for key, n in report.tables.items():
        table.add_row(f"storage {escape(key)}", str(n))
    table.add_row("LLM response cache entries", str(report.llm_cache_entries))
    table.add_row("PII memo entries", str(report.pii_memo_entries))
    table.add_row("spool files", str(len(report.spool_files)))
    for name in ("items", "responses", "revisions", "adjudications", "audit_entries_redacted"):
        table.add_row(f"review {name.replace('_', ' ')}", str(report.review.get(name, 0)))
    console.print(table)
    if not report.tables and not report.review.get("items"):
        console.print(f"[yellow]nothing stored holds or derives from {escape(source_id)}[/] (check the id); "
                      f"it {'would be' if dry_run else 'is still'} added to the erasure list", soft_wrap=True)
    for old, new in report.releases.items():
        console.print(f"release {escape(old)}: " + ("would be superseded" if dry_run else
                                                    f"superseded by {escape(new)}" if new else
                                                    "marked superseded (its rows are no longer stored)"))
    if not dry_run:
        console.print(f"erasure {report.erasure_id} recorded (audit entry {report.review.get('audit_seq')}); "
                      "future runs drop this source at the seeds phase")


def main() -> None:  # pragma: no cover - console entry for `python -m synth_pipeline.cli`
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()

"""The `opendecisions` command. Parses options, runs the Dagster job in-process, prints a summary.

User mistakes (a missing folder, a bad option) end with one clear line and exit code 2, never a
traceback. No pipeline logic lives here.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .resources import PROJECT_ROOT

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opendecisions",
                                     description="Turn council decision documents into published open data.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="ingest raw/, extract, validate and publish a release")
    run.add_argument("--raw", default=os.environ.get("OPENDECISIONS_RAW_DIR", str(PROJECT_ROOT / "raw")),
                     help="folder of raw documents (default: raw/)")
    run.add_argument("--published", default=os.environ.get("OPENDECISIONS_PUBLISHED_DIR",
                                                           str(PROJECT_ROOT / "published")),
                     help="folder that holds releases (default: published/)")
    run.add_argument("--include-contact-details", action="store_true",
                     help="publish work e-mails and phone numbers of named officers (mobiles never)")
    run.add_argument("--verbose", action="store_true", help="show Dagster's own log")
    published_default = os.environ.get("OPENDECISIONS_PUBLISHED_DIR", str(PROJECT_ROOT / "published"))
    query = sub.add_parser("query", help="run a SPARQL query against the latest release")
    query.add_argument("query", help="SPARQL query text, or the path of a .rq file")
    query.add_argument("--format", choices=["table", "csv", "json", "xml", "tsv", "turtle", "jsonld"],
                       default="table", help="output format (default: table)")
    query.add_argument("--published", default=published_default, help="folder that holds releases")
    query.add_argument("--limit", type=int, default=None, help="keep at most this many rows")
    serve = sub.add_parser("serve", help="serve the latest release over the SPARQL 1.1 Protocol")
    serve.add_argument("--port", type=int, default=int(os.environ.get("OPENDECISIONS_SPARQL_PORT", 7878)))
    serve.add_argument("--host", default=os.environ.get("OPENDECISIONS_SPARQL_HOST", "127.0.0.1"))
    serve.add_argument("--published", default=published_default, help="folder that holds releases")
    serve.add_argument("--timeout", type=float, default=float(os.environ.get("OPENDECISIONS_SPARQL_TIMEOUT", 10)),
                       help="seconds a query may run (default 10)")
    serve.add_argument("--max-rows", type=int, default=int(os.environ.get("OPENDECISIONS_SPARQL_MAX_ROWS", 10000)),
                       help="most rows or triples a query returns (default 10000)")
    serve.add_argument("--max-query-chars", type=int, default=20000, help="longest query accepted (default 20000)")
    serve.add_argument("--in-memory", action="store_true",
                       help="load the release into memory: joins ~3x faster, ~3 GB for 100,000 documents")
    load = sub.add_parser("load", help="push the latest release into a SPARQL Graph Store Protocol endpoint")
    load.add_argument("--store", default=os.environ.get("OPENDECISIONS_GRAPH_STORE"),
                      help="Graph Store Protocol URL, e.g. http://localhost:7878/store (or OPENDECISIONS_GRAPH_STORE)")
    load.add_argument("--published", default=published_default, help="folder that holds releases")
    load.add_argument("--base-uri", default=os.environ.get("OPENDECISIONS_BASE_URI", "https://opendecisions.uk/id/"))
    return parser




def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed one line of usage + error
        return int(exc.code or 0)
    try:
        if args.command == "run":
            return run_command(args)
        if args.command == "query":
            return query_command(args)
        if args.command == "serve":
            return serve_command(args)
        if args.command == "load":
            return load_command(args)
    except UserError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    except KeyboardInterrupt:
        err_console.print("interrupted (a release being written is discarded; earlier releases are untouched)")
        return 130
    return 0


def _check_folders(raw: Path, published: Path) -> None:
    if not raw.exists():
        raise UserError(f"raw folder not found: {raw}")
    if not raw.is_dir():
        raise UserError(f"raw folder is not a directory: {raw}")
    if not os.access(raw, os.R_OK | os.X_OK):
        raise UserError(f"raw folder is not readable: {raw}")
    if published.exists() and not published.is_dir():
        raise UserError(f"published folder is not a directory: {published}")
    try:
        published.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create published folder {published}: {exc.strerror}") from exc
    if not os.access(published, os.W_OK):
        raise UserError(f"published folder is not writable: {published}")


def run_command(args) -> int:
    raw, published = Path(args.raw).resolve(), Path(args.published).resolve()
    _check_folders(raw, published)
    os.environ.setdefault("DAGSTER_HOME", tempfile.mkdtemp(prefix="opendecisions-dagster-"))
    import dagster as dg

    from .definitions import MAIN_JOB, build_definitions
    from .metadata import resources
    from .resources import PipelineSettings

    settings = PipelineSettings(raw_dir=str(raw), published_dir=str(published),
                                include_contact_details=args.include_contact_details)
    job = build_definitions(settings, in_memory=True).resolve_job_def(MAIN_JOB)
    started = time.perf_counter()
    run_config = {} if args.verbose else {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    if not args.verbose:  # e.g. the notice that skipped steps emitted no check result
        logging.getLogger("dagster._core.execution.plan.active").setLevel(logging.ERROR)
    with console.status(f"running {MAIN_JOB} on {raw} ..."):
        result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), run_config=run_config,
                                        raise_on_error=False)
    elapsed = time.perf_counter() - started
    checks = list(result.get_asset_check_evaluations())
    failed_checks = [c for c in checks if not c.passed]

    def value(key):
        try:
            return result.asset_value(key)
        except Exception:
            return None

    tables = {name: value(f"core_{name}") for name in resources()}
    docs = value("raw_council_documents")
    batch = value("core_document_extractions")
    stats = batch["stats"] if batch else None
    if result.success and docs is not None and batch is None:
        from .publish import latest_release

        latest = latest_release(published)
        console.print(f"{len(docs['files']) + len(docs['quarantine'])} files read in {elapsed:.1f} s; inputs "
                      f"unchanged since release {latest.name if latest else '?'}: nothing published", highlight=False)
        return 0
    summary = Table(title=f"opendecisions run ({elapsed:.1f} s)", show_header=True)
    summary.add_column("what")
    summary.add_column("count", justify="right")
    summary.add_row("documents read", str(len(docs["files"]) + len(docs["quarantine"])) if docs else "?")
    if stats:
        summary.add_row("  extracted now", str(stats.extracted))
        summary.add_row("  reused (unchanged, from cache)", str(stats.reused))
    for name, df in tables.items():
        summary.add_row(f"rows: {name}", "?" if df is None else str(len(df)))
    summary.add_row("checks passed", f"{len(checks) - len(failed_checks)} of {len(checks)}")
    quarantine = tables.get("quarantine")
    summary.add_row("quarantined documents", "?" if quarantine is None else str(len(quarantine)))
    console.print(summary)
    if quarantine is not None and len(quarantine):
        q = Table(title="quarantined", show_header=True)
        for col in ("source_path", "reason", "detail"):
            q.add_column(col, overflow="fold")
        for row in quarantine.head(20).itertuples(index=False):
            q.add_row(row.source_path, row.reason, row.detail)
        console.print(q)
        if len(quarantine) > 20:
            console.print(f"... and {len(quarantine) - 20} more: see quarantine.csv in the release")
    for check in failed_checks:
        meta = check.metadata.get("first_errors") or check.metadata.get("errors")
        err_console.print(f"[red]check failed:[/] {check.asset_key.to_user_string()} {check.check_name}\n"
                          f"{getattr(meta, 'value', meta)}", highlight=False)
    if not result.success:
        failure = next((e for e in result.all_events if e.event_type_value == "STEP_FAILURE"), None)
        error = failure.step_failure_data.error if failure else None
        while error is not None and error.cause is not None:
            error = error.cause  # the user's exception, not Dagster's wrapper
        message = error.message.strip() if error else ""
        err_console.print(f"[bold red]run failed:[/] nothing was published. {message}", highlight=False)
        return 1
    mats = [e for e in result.get_asset_materialization_events()
            if e.asset_key.to_user_string() == "out_council_decisions_package"]
    if mats:
        meta = mats[-1].materialization.metadata
        line = meta["message"].value + (f": {meta['path'].value}" if meta["published"].value else "")
        console.print(line, highlight=False)
    return 0


def serve_command(args) -> int:
    from . import server, sparql

    try:
        server.serve(Path(args.published).resolve(), args.host, args.port, args.timeout, args.max_rows,
                     args.max_query_chars, ready=lambda url: console.print(
                         f"SPARQL endpoint {url}sparql (query page {url}); Ctrl-C stops", highlight=False),
                     in_memory=args.in_memory)
    except sparql.QueryError as exc:
        raise UserError(str(exc)) from exc
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    return 0


def load_command(args) -> int:
    from . import sparql

    if not args.store:
        raise UserError("no store given: use --store URL or set OPENDECISIONS_GRAPH_STORE")
    try:
        graph, status = sparql.push_release(Path(args.published).resolve(), args.store, args.base_uri)
    except sparql.QueryError as exc:
        raise UserError(str(exc)) from exc
    console.print(f"loaded into {args.store} as graph <{graph}> (HTTP {status})", highlight=False)
    return 0


def query_command(args) -> int:
    from . import sparql

    try:
        text = sparql.read_query(args.query)
        store, release = sparql.open_release_store(Path(args.published).resolve())
        result = sparql.run_query(store, text, cap=args.limit)
    except sparql.QueryError as exc:
        raise UserError(str(exc)) from exc
    if args.format != "table" or result.kind == "graph":
        data, _ = sparql.serialize_result(result, "turtle" if args.format == "table" else args.format)
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    if result.kind == "ask":
        console.print("true" if result.boolean else "false")
        return 0
    table = Table(title=f"{len(result.rows)} rows from release {release.name}", show_header=True)
    for var in result.variables:
        table.add_column(var, overflow="fold")
    for row in result.rows:
        table.add_row(*[sparql.plain(t) for t in row])
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

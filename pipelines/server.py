"""A read-only SPARQL 1.1 Protocol endpoint over the latest release, plus a small query page.

Each query runs in a forked child process that opens the release's store read-only; the parent
waits at most the time limit and then kills the child, so a runaway query costs one process and
never hangs the server. Results are capped at a row limit (the header X-Result-Truncated says
when the cap was hit). Updates are refused with 403 and can change nothing: the store is
read-only. Standard library HTTP only: no framework, no external assets.
"""
from __future__ import annotations

import html
import json
import os
import pickle
import select
import signal
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from . import sparql
from .resources import PROJECT_ROOT

QUERIES_DIR = PROJECT_ROOT / "queries"
ACCEPT_FORMATS = {  # media type -> our format name
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
    "text/turtle": "turtle", "application/x-turtle": "turtle", "application/ld+json": "jsonld",
    "application/n-triples": "ntriples",
}


def negotiate(accept: str | None, explicit: str | None) -> list[str]:
    """Our format names in the client's order of preference (q-values respected)."""
    if explicit:
        return [explicit]
    prefs = []
    for i, part in enumerate((accept or "").split(",")):
        bits = [b.strip() for b in part.split(";")]
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if bits[0] in ACCEPT_FORMATS and q > 0:
            prefs.append((-q, i, ACCEPT_FORMATS[bits[0]]))
    return [fmt for _, _, fmt in sorted(prefs)]


def _pick(result_kind: str, prefs: list[str]) -> str:
    allowed = sparql.GRAPH_TYPES if result_kind == "graph" else sparql.RESULT_TYPES
    return next((p for p in prefs if p in allowed), "turtle" if result_kind == "graph" else "json")


def _child(source, query: str, prefs: list[str], cap: int, write_fd: int) -> None:
    """In the forked child: `source` is the store itself (in memory, shared copy-on-write with
    the server) or the folder of the release's on-disk store."""
    try:
        import pyoxigraph as ox

        store = source if isinstance(source, ox.Store) else ox.Store.read_only(str(source))
        result = sparql.run_query(store, query, cap=cap)
        body, media = sparql.serialize_result(result, _pick(result.kind, prefs))
        payload = (200, media, body, result.truncated)
    except sparql.UpdateRefused as exc:
        payload = (403, "text/plain; charset=utf-8", f"{exc}\n".encode(), False)
    except sparql.QueryError as exc:
        payload = (400, "text/plain; charset=utf-8", f"{exc}\n".encode(), False)
    except Exception as exc:  # report, never crash silently
        payload = (500, "text/plain; charset=utf-8", f"query failed: {type(exc).__name__}: {exc}\n".encode(), False)
    data = pickle.dumps(payload)
    view = memoryview(data)
    while view:
        written = os.write(write_fd, view)
        view = view[written:]
    os.close(write_fd)


def execute(source, query: str, prefs: list[str], cap: int, timeout: float) -> tuple[int, str, bytes, bool]:
    """Run one query in a forked child with a hard time limit."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            _child(source, query, prefs, cap, write_fd)
        finally:
            os._exit(0)
    os.close(write_fd)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                return (503, "text/plain; charset=utf-8",
                        f"query exceeded the time limit of {timeout:g} s and was stopped\n".encode(), False)
            ready, _, _ = select.select([read_fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(read_fd)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    if not chunks:
        return 500, "text/plain; charset=utf-8", b"query process ended without a result\n", False
    return pickle.loads(b"".join(chunks))


def query_page(examples: dict[str, str]) -> bytes:
    options = "".join(f'<option value="{html.escape(name)}">{html.escape(name)}</option>' for name in examples)
    first = html.escape(next(iter(examples.values()), "SELECT * WHERE { ?s ?p ?o } LIMIT 10"))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>opendecisions SPARQL</title><style>
body{{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem}} textarea{{width:100%;height:16rem;font-family:monospace}}
table{{border-collapse:collapse;margin-top:1rem}} td,th{{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}}
#status{{margin-top:.5rem;color:#555}}</style></head><body>
<h1>opendecisions SPARQL endpoint</h1>
<p>Read-only SPARQL 1.1 over the latest release of UK council decisions on children's services.
The endpoint is <code>/sparql</code> (GET or POST; JSON, XML, CSV, TSV results; Turtle or JSON-LD graphs).</p>
<label>Example queries <select id="examples"><option value="">choose…</option>{options}</select></label>
<form id="f"><textarea id="q" name="query">{first}</textarea><br><button type="submit">Run query</button></form>
<div id="status"></div><div id="out"></div>
<script id="example-data" type="application/json">{html.escape(json.dumps(examples), quote=False)}</script>
<script>
const examples = JSON.parse(document.getElementById('example-data').textContent);
document.getElementById('examples').onchange = e => {{ if (examples[e.target.value]) document.getElementById('q').value = examples[e.target.value]; }};
document.getElementById('f').onsubmit = async e => {{
  e.preventDefault();
  const status = document.getElementById('status'), out = document.getElementById('out');
  status.textContent = 'running…'; out.innerHTML = '';
  const resp = await fetch('sparql', {{method: 'POST', headers: {{'Content-Type': 'application/sparql-query',
    'Accept': 'application/sparql-results+json, text/turtle;q=0.5'}}, body: document.getElementById('q').value}});
  const text = await resp.text();
  if (!resp.ok) {{ status.textContent = 'error ' + resp.status + ': ' + text; return; }}
  if (!(resp.headers.get('Content-Type') || '').includes('json')) {{ status.textContent = 'graph result'; out.innerHTML = '<pre></pre>'; out.firstChild.textContent = text; return; }}
  const data = JSON.parse(text);
  if ('boolean' in data) {{ status.textContent = 'answer: ' + data.boolean; return; }}
  const vars = data.head.vars, rows = data.results.bindings;
  status.textContent = rows.length + ' rows' + (resp.headers.get('X-Result-Truncated') === 'true' ? ' (truncated)' : '');
  const t = document.createElement('table'), h = t.insertRow();
  vars.forEach(v => {{ const th = document.createElement('th'); th.textContent = v; h.appendChild(th); }});
  rows.forEach(r => {{ const tr = t.insertRow(); vars.forEach(v => {{ tr.insertCell().textContent = r[v] ? r[v].value : ''; }}); }});
  out.appendChild(t);
}};
</script></body></html>""".encode()


def make_handler(source, release_name: str, timeout: float, max_rows: int, max_query_chars: int):
    examples = {p.stem.replace("_", " "): p.read_text(encoding="utf-8") for p in sorted(QUERIES_DIR.glob("*.rq"))}
    page = query_page(examples)

    class Handler(BaseHTTPRequestHandler):
        server_version = "opendecisions-sparql"

        def log_message(self, fmt, *args):  # quiet by default; the CLI prints one line at start
            pass

        def _send(self, status: int, media: str, body: bytes, truncated: bool = False):
            self.send_response(status)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Release", release_name)
            if truncated:
                self.send_header("X-Result-Truncated", "true")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, message: str):
            self._send(status, "text/plain; charset=utf-8", (message + "\n").encode())

        def do_GET(self):
            url = urlparse(self.path)
            if url.path in ("/", "/index.html"):
                return self._send(200, "text/html; charset=utf-8", page)
            if url.path != "/sparql":
                return self._error(404, "not found: the endpoint is /sparql")
            params = parse_qs(url.query)
            if "update" in params:
                return self._error(403, "SPARQL updates are not accepted: this endpoint is read-only")
            if "query" not in params:
                return self._error(400, "missing 'query' parameter")
            self._run(params["query"][0], params.get("format", [None])[0])

        do_HEAD = do_GET

        def do_POST(self):
            url = urlparse(self.path)
            if url.path != "/sparql":
                return self._error(404, "not found: the endpoint is /sparql")
            length = int(self.headers.get("Content-Length") or 0)
            if length > max_query_chars * 4:
                return self._error(413, f"request body too large: queries are limited to {max_query_chars} characters")
            body = self.rfile.read(length).decode("utf-8", errors="replace")
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype == "application/sparql-update":
                return self._error(403, "SPARQL updates are not accepted: this endpoint is read-only")
            if ctype == "application/sparql-query":
                return self._run(body, parse_qs(url.query).get("format", [None])[0])
            params = parse_qs(body)
            if "update" in params:
                return self._error(403, "SPARQL updates are not accepted: this endpoint is read-only")
            if "query" not in params:
                return self._error(400, "missing 'query' parameter")
            self._run(params["query"][0], params.get("format", [None])[0])

        def do_PUT(self):
            self._error(405, "this endpoint is read-only")

        do_DELETE = do_PATCH = do_PUT

        def _run(self, query: str, explicit_format: str | None):
            if len(query) > max_query_chars:
                return self._error(413, f"query too long: {len(query)} characters, the limit is {max_query_chars}")
            prefs = negotiate(self.headers.get("Accept"), explicit_format)
            status, media, body, truncated = execute(source, query, prefs, max_rows, timeout)
            self._send(status, media, body, truncated)

    return Handler


def serve(published_dir: Path, host: str = "127.0.0.1", port: int = 7878, timeout: float = 10.0,
          max_rows: int = 10000, max_query_chars: int = 20000, ready=None, in_memory: bool = False) -> None:
    """Serve the latest release until interrupted; `ready(url)` is called once listening.
    `in_memory` loads the release into memory first (~3 GB and ~40 s for 7M triples): joins run
    about three times faster than on the on-disk store."""
    release = sparql.latest_release(published_dir)
    if release is None:
        raise sparql.QueryError(f"no release found under {sparql.release_root(published_dir)}: "
                                f"run `opendecisions run` first")
    source = (sparql.open_release_store(published_dir, release, in_memory=True)[0] if in_memory
              else sparql.ensure_store(published_dir, release))
    server = ThreadingHTTPServer((host, port), make_handler(source, release.name, timeout, max_rows,
                                                              max_query_chars))
    server.daemon_threads = True
    if ready:
        ready(f"http://{host}:{server.server_address[1]}/")
    try:
        server.serve_forever()
    finally:
        server.server_close()

"""The release report: one self-contained HTML page for journalists and council officers.

Headline figures, charts drawn as inline SVG (no scripts, no network, no CDN), a data-quality
panel (checks, quarantined files with reasons, extraction score against labelled documents) and
the changelog. Everything comes from the release's tables and changes; nothing is recomputed
from raw documents. Belongs here: figures, charts, HTML. Not here: writing files (publish.py).
"""
from __future__ import annotations

import html
import json
import tempfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pandas as pd

from .metadata import concept_schemes

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
main{max-width:68rem;margin:0 auto;padding:1.5rem}
h1{margin:.2rem 0}h2{margin-top:2.2rem;border-bottom:2px solid #1d70b8;padding-bottom:.2rem}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.8rem;margin-top:1rem}
.figure{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8rem}
.figure b{display:block;font-size:1.6rem}.muted{color:#555}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(30rem,1fr));gap:1rem}
figure{background:#fff;border:1px solid #ddd;border-radius:6px;margin:0;padding:.8rem}
figcaption{font-weight:600;margin-bottom:.4rem}
table{border-collapse:collapse;width:100%;background:#fff}td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}.ok{color:#00703c;font-weight:600}.bad{color:#d4351c;font-weight:600}
code{background:#f3f3f3;padding:0 .2rem}
"""
PALETTE = ["#1d70b8", "#00703c", "#d4351c", "#f47738", "#4c2c92", "#28a197", "#b58840", "#5694ca"]


def _money(value: float) -> str:
    if value >= 1_000_000:
        return f"£{value / 1_000_000:,.2f}m"
    if value >= 10_000:
        return f"£{value / 1000:,.0f}k"
    return f"£{value:,.0f}"


def bar_chart(chart_id: str, items: list[tuple[str, float]], fmt=lambda v: f"{v:g}", width: int = 520,
              colour: str = PALETTE[0]) -> str:
    """Horizontal bar chart as inline SVG; one bar per (label, value)."""
    if not items:
        return f'<p class="muted" id="{chart_id}-empty">No data in this release.</p>'
    bar_h, gap, label_w = 20, 6, 230
    height = len(items) * (bar_h + gap) + gap
    top = max(v for _, v in items) or 1
    parts = [f'<svg id="{chart_id}" class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="system-ui,sans-serif">']
    for i, (label, value) in enumerate(items):
        y = gap + i * (bar_h + gap)
        w = max(1.0, (width - label_w - 90) * value / top)
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end"><title>{html.escape(label)}</title>'
                     f'{html.escape(short)}</text>')
        parts.append(f'<rect class="bar" x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                     f'<title>{html.escape(label)}: {html.escape(fmt(value))}</title></rect>')
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 14}">{html.escape(fmt(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def money_by_council_year(tables: dict[str, pd.DataFrame]) -> list[tuple[str, float]]:
    """Money committed (allocation amounts; a value repeated in one document counts once)."""
    amounts, docs, orgs = tables["amounts"], tables["documents"], tables["organisations"]
    names = dict(zip(orgs["council_id"], orgs["name"]))
    council_of = {d: names.get(c, "(council not identified)") if c else "(council not identified)"
                  for d, c in zip(docs["document_id"], docs["council_id"])}
    seen, totals = set(), defaultdict(Decimal)
    for doc, value, cat, fy in zip(amounts["document_id"], amounts["amount_gbp"], amounts["category"],
                                   amounts["financial_year"]):
        if cat != "allocation" or (doc, value, fy) in seen:
            continue
        seen.add((doc, value, fy))
        totals[(council_of.get(doc, "(council not identified)"), fy or "year not stated")] += Decimal(value)
    return [(f"{c} · {fy}", float(v)) for (c, fy), v in sorted(totals.items())]


def posts_by_grade(tables) -> list[tuple[str, float]]:
    posts = tables["posts"]
    totals = defaultdict(Decimal)
    for grade, fte in zip(posts["grade"], posts["fte"]):
        if fte:
            totals[grade or "(grade not stated)"] += Decimal(fte)
    return sorted(((g, float(v)) for g, v in totals.items()), key=lambda x: (-x[1], x[0]))


def decisions_over_time(tables) -> list[tuple[str, float]]:
    dec, meet = tables["decisions"], tables["meetings"]
    dates = dict(zip(meet["meeting_id"], meet["meeting_date"]))
    years = defaultdict(int)
    for d, p, m in zip(dec["decision_date"], dec["publication_date"], dec["meeting_id"]):
        when = d or p or dates.get(m)
        years[when[:4] if when else "date not stated"] += 1
    return sorted(years.items())


def topics(tables) -> list[tuple[str, float]]:
    labels = concept_schemes()["topic"]["concepts"]
    counts = defaultdict(int)
    for value in tables["decisions"]["topics"]:
        for key in (value or "").split(";"):
            if key:
                counts[labels.get(key, key)] += 1
    return sorted(counts.items(), key=lambda x: (-x[1], x[0]))


def extraction_score(tables: dict[str, pd.DataFrame], labels_dir: Path | None) -> dict | None:
    """Macro F1 and per-field scores against the labelled documents this release contains."""
    from .vendor import score_extraction

    if not labels_dir or not Path(labels_dir).is_dir():
        return None
    stems = {p.stem for p in Path(labels_dir).glob("*.json") if not p.name.endswith(".meta.json")}
    docs = tables["documents"]
    names = docs["source_path"].astype(str).str.rsplit("/", n=1).str[-1].str.rsplit(".", n=1).str[0]  # Path.stem
    keep = set(docs.loc[names.isin(stems), "document_id"])
    if not keep:
        return None
    labelled = {Path(s).stem for s in docs.loc[docs.document_id.isin(keep), "source_path"]}
    with tempfile.TemporaryDirectory() as tmp:
        pkg, lab = Path(tmp) / "pkg", Path(tmp) / "labels"
        pkg.mkdir()
        lab.mkdir()
        res = []
        for name, df in tables.items():
            part = df[df["document_id"].isin(keep)] if "document_id" in df.columns else df
            part.to_csv(pkg / f"{name}.csv", index=False)
            res.append({"name": name, "path": f"{name}.csv"})
        (pkg / "datapackage.json").write_text(json.dumps({"resources": res}))
        for stem in labelled:
            (lab / f"{stem}.json").write_bytes((Path(labels_dir) / f"{stem}.json").read_bytes())
        rows, macro, _ = score_extraction.score(pkg, lab)
    return {"documents": len(labelled), "macro_f1": macro,
            "fields": [{"field": r[0], "precision": r[4], "recall": r[5], "f1": r[6]} for r in rows]}


def render_report(tables: dict[str, pd.DataFrame], changes: dict, checks: list[str],
                  score: dict | None) -> bytes:
    version, created = changes["version"], changes["created"]
    docs = tables["documents"]
    money = money_by_council_year(tables)
    total_money = sum(v for _, v in money)
    fte_total = sum(v for _, v in posts_by_grade(tables))
    figures = [("documents published", f"{len(docs):,}"), ("councils", f"{len(tables['organisations']):,}"),
               ("decisions", f"{len(tables['decisions']):,}"), ("money committed", _money(total_money)),
               ("posts (FTE)", f"{fte_total:g}"), ("quarantined files", f"{len(tables['quarantine']):,}")]
    esc = html.escape
    out = [f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
           f'content="width=device-width,initial-scale=1"><title>council-decisions {esc(version)} — release report'
           f'</title><style>{CSS}</style></head><body><main>',
           '<p class="muted">opendecisions · release report</p><h1>UK council decisions on children\'s services</h1>',
           f'<p>Release <b>{esc(version)}</b>, published {esc(created[:10])}'
           + (f", following release {esc(changes['previous_version'])}" if changes["previous_version"] else "")
           + ". Data: Open Government Licence v3.0. Council register: mySociety (CC-BY-4.0).</p>",
           '<section id="headlines"><h2>Headline figures</h2><div class="figures">']
    out += [f'<div class="figure"><b>{esc(v)}</b>{esc(k)}</div>' for k, v in figures]
    out.append("</div></section>")
    out.append('<section id="charts"><h2>Charts</h2><div class="charts">')
    charts = [("chart-money", "Money committed by council and financial year", money, _money, PALETTE[0]),
              ("chart-posts", "Posts by grade (total FTE)", posts_by_grade(tables), lambda v: f"{v:g} FTE", PALETTE[1]),
              ("chart-decisions", "Decisions over time (by year)", decisions_over_time(tables), lambda v: f"{v:g}", PALETTE[4]),
              ("chart-topics", "Decisions by topic", topics(tables), lambda v: f"{v:g}", PALETTE[3])]
    for cid, title, items, fmt, colour in charts:
        out.append(f"<figure><figcaption>{esc(title)}</figcaption>{bar_chart(cid, items, fmt, colour=colour)}</figure>")
    out.append("</div></section>")
    out.append('<section id="quality"><h2>Data quality</h2>')
    out.append(f'<p><span class="ok">{len(checks)} of {len(checks)} checks passed</span> '
               f'(a failing check stops publication, so every published release has passed all of them):</p><ul>')
    out += [f"<li><code>{esc(c)}</code></li>" for c in checks]
    out.append("</ul>")
    q = tables["quarantine"]
    if len(q):
        out.append(f"<p>{len(q)} file(s) were quarantined and are not in the tables:</p>"
                   "<table id=\"quarantine\"><tr><th>file</th><th>reason</th><th>detail</th></tr>")
        out += [f"<tr><td>{esc(str(a))}</td><td>{esc(str(b))}</td><td>{esc(str(c))}</td></tr>"
                for a, b, c in zip(q["source_path"], q["reason"], q["detail"])]
        out.append("</table>")
    else:
        out.append('<p id="quarantine">No file was quarantined.</p>')
    if score:
        out.append(f'<p id="score">Extraction score on the {score["documents"]} labelled document(s) in this release: '
                   f'<b>macro F1 {score["macro_f1"]:.3f}</b>.</p><table><tr><th>field</th><th>precision</th>'
                   f"<th>recall</th><th>F1</th></tr>")
        out += [f"<tr><td>{esc(f['field'])}</td><td>{f['precision']:.3f}</td><td>{f['recall']:.3f}</td>"
                f"<td>{f['f1']:.3f}</td></tr>" for f in score["fields"]]
        out.append("</table>")
    else:
        out.append('<p id="score" class="muted">No labelled documents in this release, so no extraction score.</p>')
    out.append("</section>")
    out.append('<section id="changelog"><h2>What changed</h2><table><tr><th>resource</th><th>added</th>'
               "<th>removed</th><th>changed</th></tr>")
    out += [f"<tr><td>{esc(n)}</td><td>{s['added']}</td><td>{s['removed']}</td><td>{s['changed']}</td></tr>"
            for n, s in changes["summary"].items()]
    out.append("</table>")
    if changes["withdrawn_documents"]:
        out.append("<p>Withdrawn documents (their records are no longer published):</p><ul>")
        out += [f"<li><code>{esc(w['source_path'])}</code>: {esc(w['reason'])}</li>" for w in changes["withdrawn_documents"]]
        out.append("</ul>")
    corrected = [(n, c) for n, d in changes["changes"].items() for c in d["changed"]][:50]
    if corrected:
        out.append("<p>Corrected values:</p><ul>")
        for name, c in corrected:
            fields = "; ".join(f"{esc(f)}: {esc(str(v['old']))} → {esc(str(v['new']))}" for f, v in c["fields"].items())
            out.append(f"<li>{esc(name)} <code>{esc(c['key'])}</code>: {fields}</li>")
        out.append("</ul>")
    out.append("<p class=\"muted\">Full detail: <code>CHANGELOG.md</code> and <code>changes.json</code> in this release.</p>")
    out.append("</section></main></body></html>\n")
    return "".join(out).encode("utf-8")

"""What a batch leaves for people: ``index.html`` (a contact sheet) and the summary table.

The contact sheet shows every ok item's preview with its prompt and a relative link to its
GLB, then the failed items with their line and error; all text is HTML-escaped, so a prompt
cannot inject markup. It is written atomically, so a browser never sees half a page.
"""
from __future__ import annotations

import html
import time
from pathlib import Path
from urllib.parse import quote

from pipeline.batch.manifest import Record
from texture.atomic import atomic_write_bytes

INDEX = "index.html"

_STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;background:#fafafa;color:#222}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1em}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5em}
figure img{width:100%;height:auto;background:#eee}figcaption{font-size:.9em;margin-top:.4em}
.meta{color:#777;font-size:.8em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3em .6em}"""


def _esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def write_index(out_dir: Path, records: list[Record], title: str = "avatarforge batch") -> Path:
    """Write ``out_dir/index.html`` for ``records`` (in line order) and return its path."""
    ok = [r for r in records if r.status == "ok"]
    bad = [r for r in records if r.status != "ok"]
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        f'<p class="meta">{len(ok)} ok, {len(bad)} failed; written {_esc(time.strftime("%Y-%m-%d %H:%M:%S"))}</p>',
        '<div class="grid">',
    ]
    for r in ok:
        asset = r.asset or f"{r.name}.glb"
        glb, png = quote(asset), quote(f"{r.name}.png")
        parts.append(
            f'<figure id="{_esc(r.name)}"><a href="{glb}"><img src="{png}" alt="{_esc(r.prompt)}" loading="lazy"></a>'
            f'<figcaption>{_esc(r.prompt)}<br><span class="meta">line {r.line} &middot; '
            f'<a href="{glb}">{_esc(asset)}</a> &middot; <a href="{quote(f"{r.name}.json")}">json</a> '
            f'&middot; seed {_esc(r.seed)} &middot; {_esc(r.timings.get("wall", ""))} s</span></figcaption></figure>')
    parts.append("</div>")
    if bad:
        parts.append("<h2>Failed</h2><table><tr><th>line</th><th>name</th><th>prompt</th><th>error</th></tr>")
        for r in bad:
            parts.append(f"<tr><td>{r.line}</td><td>{_esc(r.name or '')}</td><td>{_esc(r.prompt or '')}</td>"
                         f"<td>{_esc(r.error)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return atomic_write_bytes(out_dir / INDEX, "\n".join(parts).encode("utf-8", "backslashreplace"))


def print_summary(records: list[Record], ran: int, wall_s: float, console=None, max_rows: int = 40) -> None:
    """A rich table (line, name, status, seconds, error), then one line of totals and the rate."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(stderr=True)
    failed = [r for r in records if r.status != "ok"]
    rows = records if len(records) <= max_rows else failed[:max_rows]
    table = Table(title="avatarforge batch", show_lines=False)
    for col, kw in (("line", {"justify": "right"}), ("name", {}), ("status", {}), ("seconds", {"justify": "right"}),
                    ("error", {"overflow": "fold"})):
        table.add_column(col, **kw)
    for r in rows:
        colour = "green" if r.status == "ok" else "red"
        wall = r.timings.get("wall")
        table.add_row(str(r.line), r.name or "-", f"[{colour}]{r.status}[/{colour}]",
                      f"{wall:.1f}" if isinstance(wall, (int, float)) else "",
                      (r.error or "")[:200], )
    if rows:
        console.print(table)
    if len(rows) < len(records):
        console.print(f"({len(records) - len(rows)} ok rows not shown)")
    rate = ran / wall_s * 3600 if wall_s > 0 and ran else 0.0
    console.print(f"{len(records) - len(failed)} ok, {len(failed)} failed; {ran} generated this run in "
                  f"{wall_s:.1f} s ({rate:.0f} avatars/hour)")

"""The /docs page: a self-contained reader of /openapi.json (no CDN; machines may be offline)."""

from __future__ import annotations

from html import escape

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title} API</title>
<style>
body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}}
.op{{border:1px solid #ddd;border-radius:6px;margin:.6rem 0;padding:.5rem .8rem}}
.m{{display:inline-block;min-width:4rem;font-weight:700}} .GET{{color:#1565c0}} .POST{{color:#2e7d32}}
pre{{background:#f6f8fa;padding:.6rem;overflow:auto;font-size:.8rem}} summary{{cursor:pointer}}
</style></head><body>
<h1>{title}</h1><p>接口文档 / API reference. Machine-readable: <a href="/openapi.json">/openapi.json</a>
(OpenAPI 3.1).</p><div id="ops">loading…</div>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {{
  const root = document.getElementById('ops'); root.textContent = '';
  const p = document.createElement('p'); p.textContent = doc.info.description || ''; root.appendChild(p);
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {{
    const d = document.createElement('details'); d.className = 'op';
    const s = document.createElement('summary');
    const m = document.createElement('span'); m.className = 'm ' + method.toUpperCase();
    m.textContent = method.toUpperCase(); s.appendChild(m);
    s.appendChild(document.createTextNode(' ' + path + ' — ' + (op.summary || ''))); d.appendChild(s);
    const pre = document.createElement('pre'); pre.textContent = JSON.stringify(op, null, 2); d.appendChild(pre);
    root.appendChild(d);
  }}
  const c = document.createElement('details'); c.className = 'op';
  c.innerHTML = '<summary>Schemas (数据结构)</summary>';
  const pre = document.createElement('pre'); pre.textContent = JSON.stringify(doc.components.schemas, null, 2);
  c.appendChild(pre); root.appendChild(c);
}});
</script></body></html>"""


def docs_html(title: str) -> str:
    """HTML of the docs page for a service titled `title`."""
    return _PAGE.format(title=escape(title))

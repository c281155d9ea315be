"""The dashboard's files: served by the package itself, nothing fetched from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

from orderscope.api.app import WEB_DIR
from tests.api.conftest import Demo

IMPORT = re.compile(r"""(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']""")
REFERENCE = re.compile(r"""(?:src|href)="([^"]+)\"""")


def web_files() -> list[Path]:
    return sorted(p for p in WEB_DIR.rglob("*") if p.is_file())


def test_no_file_reaches_outside_the_server() -> None:
    # the demo runs offline: no CDN, no web font, no external script
    for path in web_files():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://|//cdn|wss?://", text), path


def test_every_reference_resolves_to_a_file() -> None:
    index = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    refs = [r for r in REFERENCE.findall(index) if not r.startswith(("data:", "docs"))]
    assert "js/main.js" in refs and "dashboard.css" in refs
    for ref in refs:
        assert (WEB_DIR / ref).is_file(), ref
    scripts = [p for p in web_files() if p.suffix == ".js"]
    assert len(scripts) >= 10
    for script in scripts:
        for target in IMPORT.findall(script.read_text(encoding="utf-8")):
            assert target.startswith((".", "/")), f"{script.name} imports a bare name {target}"
            base = WEB_DIR if target.startswith("/") else script.parent
            assert (base / target.lstrip("/")).resolve().is_file(), f"{script.name}: {target}"


def test_served_with_module_script_types(web_demo: Demo) -> None:
    # browsers refuse a module script that is not sent as JavaScript
    for path in ("/js/main.js", "/js/views/heatmap.js"):
        response = web_demo.http.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] in (
            "text/javascript",
            "application/javascript",
        )
    page = web_demo.http.get("/")
    assert page.status_code == 200 and 'src="js/main.js"' in page.text

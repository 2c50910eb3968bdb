"""Latency of the Annotate tab's actions as the user sees them, in a real browser (Debian's chromium), p50 /
p95 / max: from the key press to the result on screen, and from the key press to the server's "saved".

    python bench/bench_annotation_app.py [--items 60] [--db URL]

The app runs in this process on a scratch runs folder (no model: the dataset's types are PER and LOC);
a dataset of synthetic sentences is created in its database. For each item, with the keyboard only:

- edit: shift+→ selects the first word, 1 labels it PER. The page shows the span at once (the editor is
  optimistic: ner_demo/app/annotate_js.py), then the server checks the edit (ner_demo.annotation.edits)
  and saves it as the item's draft;
- accept + next item: Enter. The page shows the next item at once (fetched ahead when the item appeared;
  the benchmark waits for that, as a person's seconds on an item do), then the server commits the decision
  (SQLite: WAL, synchronous=FULL) and answers with the next item.

Two figures per action, both from the keydown's timestamp (the event's, so the time it waited for the
page's main thread counts):

- ``shown``: until the first frame after the DOM change has been painted (a MutationObserver sees the span,
  or the next item's text; then a requestAnimationFrame and a message after it);
- ``saved``: until the page says the server has stored it (``data-ann-sync="saved"``: every action sent
  has been answered). The benchmark waits for it before the next key, so no action queues behind another.

The same actions are also timed in the server alone (``handlers``): the editor's server functions called in
this process as the page calls them, on a second dataset. Acceptance (issue 18): each action under 150 ms
at p95. The machine may be shared: the figures include waiting for the CPU, and say how busy it was (the
load average before and after).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

LIMIT_MS = 150.0
PROBE = """
() => {
  const sync = () => document.querySelector('[data-ann-sync]').getAttribute('data-ann-sync');
  const item = () => { const n = document.querySelector('#ann-item'); return n ? n.textContent : ''; };
  const marks = () => document.querySelectorAll('#ann-text mark.ann-span').length;
  window.__lat = []; let cur = null;
  document.addEventListener('keydown', e => {
    if (e.key !== '1' && e.key !== 'Enter') return;
    cur = {key: e.key, t0: e.timeStamp, item: item(), marks: marks(), shown: null, saved: null};
    window.__lat.push(cur);
  }, true);
  const afterPaint = (rec) => requestAnimationFrame(() => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { rec.shown = performance.now() - rec.t0; check(); };
    ch.port2.postMessage(0);
  });
  const check = () => {
    const rec = cur;
    if (!rec) return;
    if (rec.shown === null) {
      const seen = rec.key === '1' ? marks() > rec.marks : item() !== rec.item && item() !== '';
      if (seen) { rec.shown = -1; afterPaint(rec); }
    }
    if (rec.shown !== null && rec.saved === null && sync() === 'saved') rec.saved = performance.now() - rec.t0;
  };
  new MutationObserver(check).observe(document.querySelector('#ann-editor'),
                                      {childList: true, subtree: true, attributes: true, characterData: true});
}
"""


def _summary(values: list[float]) -> dict:
    ordered = sorted(values)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    return {"n": len(values), "p50_ms": round(statistics.median(values), 1), "p95_ms": round(p95, 1),
            "max_ms": round(max(values), 1)}


def _handler_times(items: int) -> dict:
    """The editor's server functions alone, as the page calls them: the server's share of each action."""
    import html
    import re
    import time

    import ner_demo.app.annotate_actions as act
    import ner_demo.app.annotate_editor as ed
    from ner_demo.annotation.store import ExampleIn

    def state(page_html: str) -> dict:
        return json.loads(html.unescape(re.search(r'data-state="([^"]*)"', page_html).group(1)))

    act.store().create_dataset("bench-handlers", ["PER", "LOC"],
                               [ExampleIn(f"John met Mary in Paris on day {i} .") for i in range(items + 1)])
    page_html = ed.start("bench-handlers", "order", False, None, None, None, "bench", None)
    edit, accept, ahead = [], [], []
    for _ in range(items):
        s = state(page_html)
        t0 = time.perf_counter()
        ed.editor_next({"token": s["token"], "position": s["position"]})
        ahead.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        page_html = ed.editor_edit({**s, "seq": s["seq"] + 1, "op": "add", "start": 0, "end": 4, "label": "PER"})["html"]
        edit.append((time.perf_counter() - t0) * 1000)
        s = state(page_html)
        t0 = time.perf_counter()
        page_html = ed.editor_decide({**s, "seq": s["seq"] + 1, "action": "accept"})["html"]
        accept.append((time.perf_counter() - t0) * 1000)
    return {"edit": _summary(edit), "accept_and_next_item": _summary(accept), "next_item_ahead": _summary(ahead)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--db", default=None, help="annotation database URL (default: a scratch SQLite file)")
    args = parser.parse_args()
    load_before = [round(x, 2) for x in os.getloadavg()]
    from playwright.sync_api import sync_playwright

    from app_harness import running_app
    from ner_demo.annotation.source import DB_ENV
    from ner_demo.annotation.store import AnnotationStore, ExampleIn

    root = Path(tempfile.mkdtemp(prefix="bench_annotation_app_"))
    (root / "no-model").mkdir()
    db = args.db or str(root / "runs" / "annotations.sqlite3")
    os.environ[DB_ENV] = db
    names = ["John", "Mary", "Peter", "Anna", "Paul", "Olga"]
    texts = [f"{names[i % 6]} met {names[(i + 1) % 6]} in Paris on day {i} ." for i in range(args.items + 1)]
    with AnnotationStore.open(db) as store:
        store.create_dataset("bench", ["PER", "LOC"], [ExampleIn(t) for t in texts], "bench")
    with running_app(root, str(root / "no-model"), None) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_role("tab", name="Annotate").click()
        page.locator("#ann-annotator input, #ann-annotator textarea").first.fill("bench")
        page.locator("#ann-db").get_by_text("Database:").wait_for()  # the datasets are loaded
        page.locator("#ann-start").click()
        page.locator("#ann-editor .ann-editor[data-ready='1'] #ann-text").wait_for()
        page.evaluate(PROBE)
        for i in range(args.items):
            page.locator("#ann-item").get_by_text(f"item {i} ").wait_for()
            page.locator("[data-ann-sync='saved'][data-ann-ahead='1']").wait_for(state="attached")
            page.keyboard.press("Shift+ArrowRight")
            page.locator("#ann-text .ann-w.ann-kbsel").first.wait_for()
            page.keyboard.press("1")
            page.locator("#ann-text mark.ann-span").first.wait_for()
            page.locator("[data-ann-sync='saved']").wait_for(state="attached")
            page.keyboard.press("Enter")
            page.locator("#ann-item").get_by_text(f"item {i + 1} ").wait_for()
        page.locator("[data-ann-sync='saved']").wait_for(state="attached")
        page.wait_for_function("() => window.__lat.every(r => r.shown > 0 && r.saved !== null)")
        samples = page.evaluate("window.__lat")
        browser.close()
    handlers = _handler_times(args.items)

    def figures(key: str) -> dict:
        rows = [r for r in samples if r["key"] == key]
        return {"shown": _summary([r["shown"] for r in rows]), "saved": _summary([r["saved"] for r in rows])}

    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "load_average_before": load_before, "load_average_after": [round(x, 2) for x in os.getloadavg()],
              "database": "sqlite" if not args.db else "url",
              "browser": {"edit": figures("1"), "accept_and_next_item": figures("Enter")},
              "handlers": handlers, "limit_p95_ms": LIMIT_MS}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""The order in which the examples are asked: pure functions over what the store holds, and
:func:`queue_order`, which reads the store and returns the positions in the order asked.

- ``order``: the dataset's order.
- ``margin``: the lowest entity margin first; ``entropy``: the highest token entropy first (both from a
  model's suggestions: :mod:`ner_demo.annotation.preannotate` keeps them).
- ``diversity``: on top of ``margin`` or ``entropy``, an example whose unsure surface forms were already
  queued or answered moves back: its priority is divided by ``1 + weight * repeats``, ``repeats`` the
  number of times its forms were seen before; chosen greedily (lazily: a priority only ever falls).
- ``disagreement``: where two models' suggestions differ most first (spans in one but not the other).
- ``suspicious``: the order of a suspicious-gold review list (:func:`read_review_items`).
"""

from __future__ import annotations

import heapq
import os
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ner_demo.annotation.edits import Span
from ner_demo.annotation.store import AnnotationStore, StoreError
from ner_demo.data.texts import parse_jsonl_lines
from ner_demo.errors import DataFormatError

ORDERS = ("order", "margin", "entropy", "disagreement", "suspicious")
DIVERSITY_WEIGHT = 1.0


def priority(meta: Mapping, measure: str) -> float:
    """Higher is asked first: ``1 - margin``, or the entropy."""
    if measure == "margin":
        return 1.0 - float(meta["margin"])
    if measure == "entropy":
        return float(meta["entropy"])
    raise StoreError(f"uncertainty measure {measure!r} is not margin or entropy")


def uncertainty_order(metas: Mapping[int, Mapping], measure: str, positions: Sequence[int]) -> list[int]:
    """``positions`` by uncertainty (``measure``), most uncertain first; ties and examples without a
    suggestion keep dataset order, the latter last."""
    scored = sorted((-priority(metas[p], measure), p) for p in positions if p in metas and "margin" in metas[p])
    ranked = [p for _, p in scored]
    chosen = set(ranked)
    return ranked + [p for p in positions if p not in chosen]


def diverse_order(items: Iterable[tuple[int, float, Sequence[str]]], seen: Mapping[str, int] | None = None,
                  weight: float = DIVERSITY_WEIGHT) -> list[int]:
    """Positions of ``items`` ``(position, priority, forms)``, greedily by priority divided by
    ``1 + weight * repeats``, where repeats counts how often the item's forms were seen already (in
    ``seen``, or queued before it). Ties: lower position first.

    >>> diverse_order([(0, 0.9, ["Paris"]), (1, 0.8, ["Paris"]), (2, 0.5, ["Lima"])])
    [0, 2, 1]
    """
    counts: Counter = Counter(seen or {})
    forms_of = {p: list(dict.fromkeys(f)) for p, _, f in items}
    base = {p: pr for p, pr, _ in items}

    def effective(p: int) -> float:
        return base[p] / (1.0 + weight * sum(counts[f] for f in forms_of[p]))

    heap = [(-effective(p), p) for p in base]
    heapq.heapify(heap)
    order = []
    while heap:
        negative, p = heapq.heappop(heap)
        now = effective(p)
        if heap and now < -negative and -now > heap[0][0]:  # fell below the next one: look again later
            heapq.heappush(heap, (-now, p))
            continue
        order.append(p)
        counts.update(forms_of[p])
    return order


def disagreement(a: Sequence[Span], b: Sequence[Span]) -> int:
    """How many spans are in one list but not in the other (label and offsets)."""
    return len(set(a) ^ set(b))


def disagreement_order(a: Mapping[int, Sequence[Span]], b: Mapping[int, Sequence[Span]],
                       positions: Sequence[int]) -> list[int]:
    """``positions`` where both models suggested, most disagreement first (ties in dataset order), then
    the rest in dataset order."""
    scored = sorted((-disagreement(a[p], b[p]), p) for p in positions if p in a and p in b)
    ranked = [p for n, p in scored if n < 0]
    chosen = set(ranked)
    return ranked + [p for p in positions if p not in chosen]


# ---- the suspicious-gold review list ----------------------------------------------------------------


REVIEW_KIND = "suspicious_gold"  # ner_demo.evaluation.suspicious's review list (schema version 1)
REVIEW_VERSION = 1


def _index(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def read_review_items(path: str | os.PathLike, source: str | None = None) -> list[dict]:
    """Items of a suspicious-gold review list, a JSON object a line, in the list's order (most suspicious
    first). The evaluation's list (``ner_demo.evaluation.suspicious``, ``kind`` "suspicious_gold",
    ``version`` 1) gives each item's sentence as ``sentence`` (its 0-based index in the split) and
    ``text`` (its words joined by one space); a hand-made list may give ``index`` and ``text`` or
    ``sentence`` (a string) or ``words``. An item needs an index or a text; a list of another kind or a
    newer version is refused, naming the line."""
    path = Path(path)
    source = source or path.name
    if not path.is_file():
        raise DataFormatError(source, None, None, "no such file")
    items = []
    for n, line, record in parse_jsonl_lines(path.read_text(encoding="utf-8"), source):
        if not isinstance(record, dict):
            raise DataFormatError(source, n, line, "is not a JSON object")
        if "kind" in record and record["kind"] != REVIEW_KIND:
            raise DataFormatError(source, n, line, f"is a {record['kind']!r} item, not {REVIEW_KIND!r}")
        if "version" in record and record["version"] != REVIEW_VERSION:
            raise DataFormatError(source, n, line, f"is review list version {record['version']!r}; this "
                                                   f"ner_demo reads version {REVIEW_VERSION}")
        index = _index(record.get("index", record.get("sentence")))
        text = record.get("text")
        if text is None and isinstance(record.get("sentence"), str):
            text = record["sentence"]
        words = record.get("words", record.get("sentence"))
        if text is None and isinstance(words, list) and all(isinstance(w, str) for w in words):
            text = " ".join(words)
        if index is None and not isinstance(text, str):
            raise DataFormatError(source, n, line, "needs an 'index' or 'sentence' (0 or more) or a 'text'")
        items.append({"index": index, "text": text if isinstance(text, str) else None, "line": n})
    return items


def review_positions(items: Sequence[dict], texts: Sequence[str]) -> list[int]:
    """Dataset positions (indexes into ``texts``) for review-list items, each once, in the list's order:
    by ``index`` when the example there has the item's text (or the item has none), else the first
    example with that text; items that match nothing are dropped (the list was made for other data)."""
    by_text: dict[str, list[int]] = {}
    for position, text in enumerate(texts):
        by_text.setdefault(text, []).append(position)
    order, used = [], set()
    for item in items:
        index, text = item.get("index"), item.get("text")
        found = None
        if index is not None and index < len(texts) and (text is None or texts[index] == text):
            found = index
        elif text is not None and by_text.get(text):
            found = by_text[text][0]
        if found is not None and found not in used:
            used.add(found)
            order.append(found)
    return order


# ---- from the store ------------------------------------------------------------------------------------


def queue_order(store: AnnotationStore, name: str, order: str = "order", annotator: str | None = None,
                model: str | None = None, other_model: str | None = None, diversity: bool = False,
                review_list: str | os.PathLike | None = None) -> list[int]:
    """The dataset's positions in the order asked (every position once). ``model``: whose suggestions
    rank by uncertainty (default: the latest suggestion of any); ``other_model`` for disagreement;
    ``annotator``: whose answered examples count as seen for diversity."""
    if order not in ORDERS:
        raise StoreError(f"queue order {order!r} is not one of {', '.join(ORDERS)}")
    texts = store.texts(name)
    positions = list(texts)
    if order == "order":
        return positions
    if order == "suspicious":
        if review_list is None:
            raise StoreError("the suspicious order needs a review list (a JSONL file from the evaluation)")
        ranked = [positions[i] for i in review_positions(read_review_items(review_list), [texts[p] for p in positions])]
        chosen = set(ranked)
        return ranked + [p for p in positions if p not in chosen]
    if order == "disagreement":
        if not model or not other_model:
            raise StoreError("the disagreement order needs two models that pre-annotated the dataset")
        a = {p: d.spans for p, d in store.suggestions(name, model).items()}
        b = {p: d.spans for p, d in store.suggestions(name, other_model).items()}
        for who, found in ((model, a), (other_model, b)):
            if not found:
                raise StoreError(f"{who!r} has no suggestions in {name!r}; pre-annotate with it first")
        return disagreement_order(a, b, positions)
    metas = {p: d.meta for p, d in store.suggestions(name, model).items()}
    if not any("margin" in m for m in metas.values()):
        raise StoreError(f"{name!r} has no model suggestions with probabilities; pre-annotate it first")
    if not diversity:
        return uncertainty_order(metas, order, positions)
    seen: Counter = Counter()
    if annotator is not None:
        for p in store.decided_positions(name, annotator):
            seen.update(metas.get(p, {}).get("forms", []))
    scored = [(p, priority(metas[p], order), metas[p].get("forms", [])) for p in positions
              if p in metas and "margin" in metas[p]]
    ranked = diverse_order(scored, seen)
    chosen = set(ranked)
    return ranked + [p for p in positions if p not in chosen]

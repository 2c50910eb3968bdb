"""The Tag tab's outputs: highlights, the entity table and its downloads, batch files, decoding view."""

from __future__ import annotations

import csv
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from ner_demo.data import texts as data_texts
from ner_demo.errors import DataFormatError, InputTooLargeError, NerDemoError
from ner_demo.spans import Entity, iob2_word_spans

ENTITY_HEADERS = ["text", "type", "start", "end", "score"]
BATCH_HEADERS = ["#", "text", "entities"]
DECODE_HEADERS = ["window", "position", "subword", "word", "role", "subword tag", "p", "word tag"]
BATCH_SUFFIXES = (".txt", ".conll", ".jsonl")
# A batch file is read, split and planned whole, in one request: 5 MB (~900k words, CoNLL-2003 train is
# 3.3 MB) keeps that to seconds and a few hundred MB. The upload cap (20 MB) is for evaluation data.
MAX_BATCH_BYTES = 5 * 1024 * 1024
# Colour-blind-friendly (Okabe-Ito first), fixed for the CoNLL types so a type keeps its colour.
_KNOWN_COLOURS = {"PER": "#56B4E9", "LOC": "#009E73", "ORG": "#E69F00", "MISC": "#CC79A7"}
_PALETTE = ["#F0E442", "#0072B2", "#D55E00", "#999999", "#8DD3C7", "#BEBADA", "#FB8072", "#80B1D3",
            "#FDB462", "#B3DE69", "#FCCDE5", "#BC80BD", "#CCEBC5", "#FFED6F"]
_PREVIEW_CHARS = 120


def color_map(types: Sequence[str]) -> dict[str, str]:
    """A colour per entity type: fixed for PER/LOC/ORG/MISC, then a palette in sorted order.

    >>> color_map(["PER", "DIS", "ANIM"])
    {'PER': '#56B4E9', 'ANIM': '#F0E442', 'DIS': '#0072B2'}
    """
    out = {t: _KNOWN_COLOURS[t] for t in types if t in _KNOWN_COLOURS}
    others = sorted(t for t in set(types) if t not in _KNOWN_COLOURS)
    out.update({t: _PALETTE[i % len(_PALETTE)] for i, t in enumerate(others)})
    return out


def label_types(labels: Sequence[str]) -> list[str]:
    """Entity types of a model's IOB2 labels, sorted.

    >>> label_types(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])
    ['LOC', 'PER']
    """
    return sorted({label[2:] for label in labels if label[:2] in ("B-", "I-")})


def require_text(text: str | None) -> str:
    """The text to tag; an empty or whitespace-only one is refused (it would answer "0 entities in 0 words")."""
    if not text or not text.strip():
        raise NerDemoError("no text to tag: the text box is empty or holds only spaces; type or paste a text")
    return text


def highlight(text: str, entities: Sequence[Entity]) -> dict:
    """The text and its entities as character spans with their scores (what :func:`highlight_html` draws)."""
    return {"text": text, "entities": [{"entity": e.label, "start": e.start, "end": e.end, "score": e.score}
                                       for e in entities]}


def _escape(text: str) -> str:
    # Quotes for attributes; braces and $ because the HTML component fills its template with the value.
    return html.escape(text, quote=True).replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")


def highlight_html(value: dict | None, colours: Mapping[str, str], empty: str = "") -> str:
    """The text as one flowing block (line breaks kept) with each entity marked, displaCy style: its
    type's colour, its label on the span, and its type and score as the hover title. Text is escaped.
    The block is bounded (``.ner-highlights`` in the app's CSS scrolls), so long texts stay a box.

    >>> markup = highlight_html(highlight("Ann & Bo", [Entity("PER", 0, 3, "Ann", 0.987)]), {"PER": "#56B4E9"})
    >>> print(markup.replace("><", ">\\n<"))
    <div class="ner-highlights">
    <mark class="ner-ent" data-label="PER" title="PER 0.99" style="background: #56B4E9">Ann<span class="ner-label">PER</span>
    </mark> &amp; Bo</div>
    """
    if not value:
        return empty
    text, parts, pos = value["text"], [], 0
    for e in sorted(value["entities"], key=lambda e: e["start"]):
        if e["start"] < pos:  # overlapping spans cannot be drawn inline; the table lists every entity
            continue
        label, score = e["entity"], e.get("score")
        title = label if score is None else f"{label} {score:.2f}"
        parts.append(_escape(text[pos : e["start"]]))
        parts.append(f'<mark class="ner-ent" data-label="{_escape(label)}" title="{_escape(title)}" '
                     f'style="background: {colours.get(label, "#999999")}">{_escape(text[e["start"] : e["end"]])}'
                     f'<span class="ner-label">{_escape(label)}</span></mark>')
        pos = e["end"]
    parts.append(_escape(text[pos:]))
    return f'<div class="ner-highlights">{"".join(parts)}</div>'


def highlighted_text(markup: str) -> str:
    """The text a :func:`highlight_html` block shows, labels left out (what the user reads as the text).

    >>> highlighted_text(highlight_html(highlight("Ann & Bo", [Entity("PER", 0, 3, "Ann", 0.9)]), {}))
    'Ann & Bo'
    """
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.out, self.in_label = [], 0

        def handle_starttag(self, tag, attrs):
            self.in_label += tag == "span" and ("class", "ner-label") in attrs

        def handle_endtag(self, tag):
            if tag == "span" and self.in_label:
                self.in_label -= 1

        def handle_data(self, data):
            if not self.in_label:
                self.out.append(data)

    parser = _Text()
    parser.feed(markup)
    parser.close()
    return "".join(parser.out)


def above_threshold(entities: Sequence[Entity], threshold: float) -> list[Entity]:
    """Entities whose (mean word) score is at least ``threshold``."""
    return [e for e in entities if e.score >= threshold]


def entity_rows(entities: Sequence[Entity]) -> list[list]:
    """Table rows: text, type, start, end, score (4 places).

    >>> entity_rows([Entity("PER", 0, 4, "John", 0.98765)])
    [['John', 'PER', 0, 4, 0.9877]]
    """
    return [[e.text, e.label, e.start, e.end, round(e.score, 4)] for e in entities]


def write_entity_files(text: str, entities: Sequence[Entity], folder: str | Path, model: str = "") -> tuple[Path, Path]:
    """``entities.json`` (text, model, entities) and ``entities.csv`` (the table) in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = folder / "entities.json", folder / "entities.csv"
    payload = {"model": model, "text": text, "entities": [e.to_dict() for e in entities]}
    dumped = _escape_surrogates(json.dumps(payload, indent=2, ensure_ascii=False))
    json_path.write_text(dumped + "\n", encoding="utf-8")
    # A lone surrogate has no UTF-8 form: the CSV shows it as the escape \udXXX rather than fail.
    with csv_path.open("w", encoding="utf-8", errors="backslashreplace", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ENTITY_HEADERS)
        writer.writerows(entity_rows(entities))
    return json_path, csv_path


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogates(dumped: str) -> str:
    """JSON text with every lone surrogate written as a ``\\udXXX`` escape.

    Text typed into the app may hold lone surrogates (the API accepts them; the Tagger handles them).
    They have no UTF-8 form, so ``ensure_ascii=False`` output cannot be saved as is; the escape is valid
    JSON that reads back to the very same string. Surrogates can only occur inside JSON strings here.

    >>> json.loads(_escape_surrogates(json.dumps({"text": "a\\ud800b"}, ensure_ascii=False)))["text"] == "a\\ud800b"
    True
    """
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def latency_line(n_words: int, n_entities: int, seconds: float, windows: int, tagger_description: str) -> str:
    """The line under the Tag button: entities, words, time and windows, and how the model ran.

    >>> latency_line(12, 2, 0.0315, 1, "BertForTokenClassification on cpu")
    '**2 entities** in 12 words · 31.5 ms (1 window) · BertForTokenClassification on cpu'
    """
    plural = "entity" if n_entities == 1 else "entities"
    win = "window" if windows == 1 else "windows"
    return (f"**{n_entities} {plural}** in {n_words} words · {seconds * 1000:.1f} ms ({windows} {win}) · "
            f"{tagger_description}")


def status_markdown(latency: str, warnings: Sequence[str] = ()) -> str:
    """The latency line, then one warning line each (e.g. a script the model covers poorly).

    >>> status_markdown("**1 entity** in 3 words", ["Cyrillic text: this model was trained on English."])
    '**1 entity** in 3 words\\n\\n⚠️ Cyrillic text: this model was trained on English.'
    """
    return "\n\n".join([latency, *(f"⚠️ {w}" for w in warnings)])


_LAST_SWEEP: dict[str, float] = {}  # root -> when its old folders were last removed


def fresh_output_dir(root: str | Path, max_age_s: float = 3600.0, sweep_every_s: float = 60.0) -> Path:
    """A new folder under ``root`` for one request's downloads. Folders older than ``max_age_s`` are
    removed on the way (the web server copies returned files into its own cache when it sends them),
    at most once every ``sweep_every_s``: listing thousands of folders on every request made each one
    slower the busier the app had been (BENCHMARKS.md, session 2: the profile after a load test)."""
    import shutil
    import tempfile
    import time

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    now = time.time()
    if now - _LAST_SWEEP.get(str(root), float("-inf")) >= sweep_every_s:
        _LAST_SWEEP[str(root)] = now
        for old in root.iterdir():
            try:
                if old.is_dir() and old.stat().st_mtime < now - max_age_s:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                continue  # removed by a concurrent request
    return Path(tempfile.mkdtemp(dir=root))


# ---- batch files ----------------------------------------------------------------------------------


@dataclass
class BatchResult:
    rows: list[list] = field(default_factory=list)  # BATCH_HEADERS, at most ``max_rows``
    output: Path | None = None
    n_items: int = 0
    n_entities: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        shown = "" if len(self.rows) >= self.n_items else f" (first {len(self.rows)} shown)"
        name = self.output.name if self.output else "nothing"
        return (f"Tagged {self.n_items:,} items, {self.n_entities:,} entities in {self.seconds:.2f} s{shown}; "
                f"download `{name}`.")


def read_upload_texts(path: str | Path, lines: bool = True) -> list[str]:
    """Texts of an uploaded ``.txt`` or ``.jsonl``; errors name the file by its upload name."""
    return data_texts.read_texts(path, lines, source=Path(path).name)


def _entities_cell(entities: Sequence[tuple[str, str]]) -> str:
    return "; ".join(f"{label}: {text}" for label, text in entities)


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 1] + "…"


def tag_batch(tagger, path: str | Path, out_dir: str | Path, lines: bool = True, threshold: float = 0.0,
              max_rows: int = 200) -> BatchResult:
    """Tag an uploaded file; write ``<name>.tagged.jsonl`` (texts) or ``<name>.tagged.conll`` (CoNLL).

    A CoNLL file keeps its words and columns and gets the predicted tag as its last column; the
    ``threshold`` argument is not applied to it (tags must stay a valid sequence), while the per-type
    thresholds saved with the model apply, as in every prediction. Texts get JSONL lines of
    ``{"text", "entities"}``.
    """
    import time

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in BATCH_SUFFIXES:
        raise DataFormatError(path.name, None, None, f"unsupported file type; upload {', '.join(BATCH_SUFFIXES)}")
    size = path.stat().st_size
    if size > MAX_BATCH_BYTES:
        raise InputTooLargeError(
            f"{path.name}: {size:,} bytes; the app tags files of at most {MAX_BATCH_BYTES:,} bytes in one go: "
            "split the file, or tag it with the CLI (`python -m ner_demo predict`)"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    result = BatchResult()
    if suffix == ".conll":
        from ner_demo.data.conll import format_conll, read_conll

        corpus = read_conll(path)
        tags = tagger.predict_words([s.words for s in corpus], [s.doc_id for s in corpus])
        result.output = out_dir / f"{path.stem}.tagged.conll"
        result.output.write_text(format_conll([s.with_tags(t) for s, t in zip(corpus, tags)]), encoding="utf-8")
        for i, (sentence, sentence_tags) in enumerate(zip(corpus, tags)):
            spans = iob2_word_spans(sentence_tags)
            result.n_entities += len(spans)
            if len(result.rows) < max_rows:
                found = [(s.label, " ".join(sentence.words[s.start : s.end])) for s in spans]
                result.rows.append([i + 1, _preview(" ".join(sentence.words)), _entities_cell(found)])
        result.n_items = len(corpus)
    else:
        texts = read_upload_texts(path, lines)
        tagged = [above_threshold(ents, threshold) for ents in tagger.predict_many(texts)]
        result.output = out_dir / f"{path.stem}.tagged.jsonl"
        with result.output.open("w", encoding="utf-8") as fh:
            for text, ents in zip(texts, tagged):
                fh.write(json.dumps({"text": text, "entities": [e.to_dict() for e in ents]}, ensure_ascii=False) + "\n")
        for i, (text, ents) in enumerate(zip(texts, tagged)):
            result.n_entities += len(ents)
            if len(result.rows) < max_rows:
                result.rows.append([i + 1, _preview(text), _entities_cell([(e.label, e.text) for e in ents])])
        result.n_items = len(texts)
    result.seconds = time.perf_counter() - start
    return result


# ---- the decoding view ----------------------------------------------------------------------------


def _context_words(window, n_pieces: Sequence[int]) -> dict[int, int]:
    """Position -> word index for the context pieces around a window's target.

    Windows are ``[CLS] left-context target right-context [SEP]`` in whole words, so walking outwards
    from the target over the words' piece counts recovers which word each context piece belongs to.
    """
    owner: dict[int, int] = {}
    first_target = window.word_index[0] if window.word_index else 1
    pos, word = first_target - 1, window.target[0] - 1
    while pos >= 1 and word >= 0:
        for _ in range(n_pieces[word]):
            owner[pos] = word
            pos -= 1
        word -= 1
    last_target = max((p for p, w in enumerate(window.piece_word) if w >= 0), default=0)
    pos, word = last_target + 1, window.target[1]
    while pos < len(window.input_ids) - 1 and word < len(n_pieces):
        for _ in range(n_pieces[word]):
            owner[pos] = word
            pos += 1
        word += 1
    return owner


def decoding_rows(tagger, text: str, max_rows: int = 2000) -> tuple[list[list], str]:
    """One row per subword position of every window the tagger runs on ``text``.

    Each row shows the piece, the word it belongs to, its role (``target``: predicted by this window;
    ``context``: read for context only; ``special``), the tag the model gives *this piece*, and the
    word's final tag (from the first piece, or the aggregation strategy the tagger uses).
    """
    from ner_demo.encoding import word_pieces

    tagged = tagger.tag_texts([text])[0]
    words = [w.text for w in tagged.words]
    if not words:
        return [], "No words to show."
    windows = tagger.plan([words])
    n_pieces = [len(p) for p in word_pieces(tagger.tokenizer, [words], tagger.features.max_pieces_per_word)[0]]
    rows: list[list] = []
    total = sum(len(w.input_ids) for w in windows)
    for w_index, window in enumerate(windows):
        if len(rows) >= max_rows:
            break
        # The tagger's own forward pass (same padding, autocast and token types as predict()).
        probs = tagger.forward_windows([window])[0]  # (T, n_labels)
        tokens = tagger.tokenizer.convert_ids_to_tokens(window.input_ids)
        context = _context_words(window, n_pieces)
        for pos, (token, word_idx) in enumerate(zip(tokens, window.piece_word)):
            best = int(probs[pos].argmax())
            if word_idx >= 0:
                role, shown = "target", word_idx
            elif pos in context:
                role, shown = "context", context[pos]
            else:
                role, shown = "special", None
            word_cell = "" if shown is None else f"{shown}: {words[shown]}"
            final = tagged.tags[word_idx] if word_idx >= 0 and window.word_index[word_idx - window.target[0]] == pos else ""
            p = round(float(probs[pos, best]), 3)
            rows.append([w_index + 1, pos, token, word_cell, role, tagger.labels[best], p, final])
            if len(rows) >= max_rows:
                break
    if len(windows) > 1:
        split = (f"split into **{len(windows)} windows** of at most {tagger.max_length} subwords, each predicting "
                 "its own words with context on both sides")
    else:
        split = f"fits one window of {tagger.max_length} subwords"
    cut = f" Showing the first {len(rows):,} of {total:,} positions." if len(rows) < total else ""
    summary = (f"{len(words):,} words → {sum(n_pieces):,} subwords; {split}. Word tags come from "
               f"aggregation `{tagger.aggregation}` over each word's subwords.{cut}")
    return rows, summary

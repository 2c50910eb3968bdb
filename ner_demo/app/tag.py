"""The Tag tab: one text or a file in, highlighted entities, a table and downloads out; the /entities
and /noop API endpoints."""

from __future__ import annotations

import inspect

import gradio as gr

import ner_demo.app.tag_format as tg
from ner_demo.app.batching import ItemError, isolated_batch
from ner_demo.app.common import INFER, INFERENCE_CONCURRENCY, LIGHT, MODELS, friendly, model_name, model_picker, out_dir
from ner_demo.app.common import picker_update, wire
from ner_demo.app.model_cache import DEFAULT_CHOICE, default_model_problem
from ner_demo.inference import AGGREGATIONS, MAX_TEXT_CHARS, timed

EXAMPLES = [
    "Angela Merkel met Emmanuel Macron in Paris on Tuesday to discuss the European Union budget.",
    "Apple is looking at buying U.K. startup for $1 billion, Bloomberg reported.",
    "John met Mary in Berlin and they flew to Tokyo with Reuters reporters.",
]
ENTITIES_MAX_BATCH = 16  # /entities requests merged into one Tagger call under load


def noop(text: str) -> str:
    """The framework's floor for load tests (bench/load_test.py): returns its input, runs no model."""
    return text


def _tag_for_api(texts: list[str]) -> list[list[dict]]:
    return [[e.to_dict() for e in t.entities] for t in MODELS.tagger(DEFAULT_CHOICE).tag_texts(texts)]


def _entities_problem(text) -> str | None:
    """What is wrong with one /entities request, in words for its client; None when nothing is."""
    if not isinstance(text, str):
        kind = "null" if text is None else type(text).__name__
        return f"/entities takes one text, a JSON string; got {kind}: {str(text)[:60]!r}"
    if len(text) > MAX_TEXT_CHARS:
        return f"the text has {len(text):,} characters; /entities takes at most {MAX_TEXT_CHARS:,}: split it into parts"
    return None


def entities(texts: list) -> tuple[list]:
    """API: one text in, the default model's entities out: a list of {label, start, end, text, score}
    (character offsets). A request that is not a string, or is over 1,000,000 characters, is answered
    {"error": "<what is wrong>"} instead; requests that arrive together are tagged as one batch, and
    one request's error never reaches the others.
    """
    answers = isolated_batch(_tag_for_api, texts, _entities_problem)
    return ([a.to_dict() if isinstance(a, ItemError) else a for a in answers],)


# gradio documents an endpoint by its function's signature, for a batch function the whole batch's
# (list[str]); a client sends one text per request and gets its list of entities: document that.
entities.__signature__ = inspect.Signature(
    [inspect.Parameter("text", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str)], return_annotation=list[dict])
entities.__annotations__ = {"text": str, "return": list[dict]}


@friendly
def tag(text: str, model: str, aggregation: str, threshold: float):
    """Highlighted entities, the entity table, the latency line and JSON/CSV downloads for one text."""
    text = tg.require_text(text)
    tagger = MODELS.tagger(model, aggregation)
    tagged, seconds = timed(tagger.tag_texts, [text])
    entities = tg.above_threshold(tagged[0].entities, threshold)
    json_path, csv_path = tg.write_entity_files(text, entities, out_dir(), model_name(model))
    latency = tg.latency_line(len(tagged[0].words), len(entities), seconds, tagged[0].windows, tagger.describe())
    colours = tg.color_map(tg.label_types(tagger.labels))
    return (tg.highlight_html(tg.highlight(text, entities), colours), tg.entity_rows(entities),
            tg.status_markdown(latency, tagged[0].warnings), str(json_path), str(csv_path))


def clear_decoding():
    """The decoding view describes one text and model: a new Tag run, model or aggregation clears it."""
    return None, "Press **Show decoding** to see the subwords of the text as it is now."


@friendly
def decode(text: str, model: str, aggregation: str):
    rows, summary = tg.decoding_rows(MODELS.tagger(model, aggregation), tg.require_text(text))
    return rows, summary


@friendly
def tag_file(path: str | None, model: str, aggregation: str, threshold: float, lines: bool):
    if not path:
        raise gr.Error("Upload a .txt, .conll or .jsonl file first.")
    result = tg.tag_batch(MODELS.tagger(model, aggregation), path, out_dir(), lines, threshold)
    return result.summary(), result.rows, str(result.output)


def model_notice_update():
    notice = default_model_problem()
    return gr.Markdown(f"⚠️ {notice}" if notice else "", visible=bool(notice))


def build(demo: gr.Blocks) -> None:
    """The Tag tab's layout and events, inside ``demo``."""
    with gr.Tab("Tag", id="tag") as tab:
        notice = default_model_problem()
        model_notice = gr.Markdown(f"⚠️ {notice}" if notice else "", visible=bool(notice), elem_id="model-notice")
        with gr.Row():
            tag_model = model_picker("Model", "tag-model")
            aggregation = gr.Radio(list(AGGREGATIONS), value="first", label="Aggregation",
                                   info="How a word's subword predictions become its tag.")
            threshold = gr.Slider(0, 1, value=0, step=0.05, label="Confidence threshold",
                                  info="Hide entities scoring below this.")
        text = gr.Textbox(label="Text", lines=4, max_lines=12, value=EXAMPLES[0], elem_id="tag-text")
        gr.Examples(EXAMPLES, inputs=text, label="Examples")
        tag_button = gr.Button("Tag", variant="primary", elem_id="tag-button")
        latency = gr.Markdown(elem_id="tag-latency")
        # HTML, not gr.HighlightedText: a label on every span and its score on hover (displaCy style),
        # in a bounded box that scrolls (tag_format.highlight_html; .ner-highlights in CSS).
        highlighted = gr.HTML(elem_id="tag-highlights")
        entity_table = gr.Dataframe(headers=tg.ENTITY_HEADERS, label="Entity table", interactive=False,
                                    max_height=400, elem_id="entity-table")
        with gr.Row():
            json_file = gr.File(label="Entities (JSON)", interactive=False)
            csv_file = gr.File(label="Entities (CSV)", interactive=False)
        with gr.Accordion("Decoding: subword tokens, their tags and windows", open=False):
            decode_button = gr.Button("Show decoding", elem_id="decode-button")
            decode_summary = gr.Markdown(elem_id="decode-summary")
            decode_table = gr.Dataframe(headers=tg.DECODE_HEADERS, interactive=False, max_height=400,
                                        elem_id="decode-table")
        with gr.Accordion("Batch: tag a .txt, .conll or .jsonl file", open=False):
            with gr.Row():
                batch_file = gr.File(label="File to tag", file_types=list(tg.BATCH_SUFFIXES), height=120)
                batch_lines = gr.Checkbox(value=True, label=".txt: each line is a text (else the whole file)")
            batch_button = gr.Button("Tag file")
            batch_summary = gr.Markdown()
            batch_table = gr.Dataframe(headers=tg.BATCH_HEADERS, interactive=False, max_height=300)
            batch_output = gr.File(label="Tagged file", interactive=False)

    tag_inputs = [text, tag_model, aggregation, threshold]
    tag_outputs = [highlighted, entity_table, latency, json_file, csv_file]
    tag_progress = {"show_progress_on": highlighted, **INFER}
    wire(tag_button.click, tag, tag_inputs, tag_outputs, api_name="tag", status=latency, **tag_progress)
    wire(text.submit, tag, tag_inputs, tag_outputs, api_name="tag_submit", status=latency, **tag_progress)
    decode_outputs = [decode_table, decode_summary]
    for trigger in (tag_button.click, text.submit, tag_model.change, aggregation.change):
        trigger(clear_decoding, None, decode_outputs, api_visibility="private", **LIGHT)
    wire(decode_button.click, decode, [text, tag_model, aggregation], decode_outputs, api_name="decode",
         status=decode_summary, **INFER)
    wire(batch_button.click, tag_file, [batch_file, tag_model, aggregation, threshold, batch_lines],
         [batch_summary, batch_table, batch_output], api_name="tag_file", status=batch_summary, **INFER)
    tab.select(picker_update, None, tag_model, api_name="refresh_tag_models", **LIGHT)
    demo.load(model_notice_update, None, model_notice, api_name="load_model_notice", **LIGHT)


def build_api() -> None:
    """The endpoints without components, /entities and /noop. Call it after the tabs: gradio makes each
    one a block, and a block between two tabs would start a second tab bar."""
    gr.api(entities, api_name="entities", batch=True, max_batch_size=ENTITIES_MAX_BATCH, **INFER)
    gr.api(noop, api_name="noop", concurrency_limit=INFERENCE_CONCURRENCY)

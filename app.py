"""ner_demo in the browser. Layout and thin handlers only: every bit of logic lives in ner_demo."""

from __future__ import annotations

import argparse
import functools

import gradio as gr

from ner_demo.errors import NerDemoError
from ner_demo.inference import Tagger, timed
from ner_demo.models import default_model

EXAMPLES = [
    "Angela Merkel met Emmanuel Macron in Paris on Tuesday to discuss the European Union budget.",
    "Apple is looking at buying U.K. startup for $1 billion, Bloomberg reported.",
]


@functools.lru_cache(maxsize=4)
def _tagger(model: str) -> Tagger:
    return Tagger.from_pretrained(model or default_model())


def tag(text: str, model: str):
    """Highlighted entities, an entity table and the latency line for one text."""
    try:
        tagger = _tagger(model.strip())
        entities, seconds = timed(tagger.predict, text)
    except NerDemoError as exc:
        raise gr.Error(str(exc)) from None
    highlights = {"text": text, "entities": [{"entity": e.label, "start": e.start, "end": e.end} for e in entities]}
    rows = [[e.text, e.label, e.start, e.end, round(e.score, 3)] for e in entities]
    return highlights, rows, f"{len(entities)} entities in {seconds * 1000:.0f} ms ({tagger.describe()})"


def build() -> gr.Blocks:
    with gr.Blocks(title="ner_demo") as demo:
        gr.Markdown("# ner_demo\nPaste text and see its named entities.")
        with gr.Tab("Tag"):
            model = gr.Textbox(label="Model folder or Hub id (empty: the shipped default)", value="")
            text = gr.Textbox(label="Text", lines=5, value=EXAMPLES[0])
            gr.Examples(EXAMPLES, inputs=text)
            button = gr.Button("Tag", variant="primary")
            highlighted = gr.HighlightedText(label="Entities")
            table = gr.Dataframe(headers=["text", "type", "start", "end", "score"], label="Entity table")
            status = gr.Markdown()
        button.click(tag, [text, model], [highlighted, table, status], api_name="tag")
    return demo


def main() -> None:
    parser = argparse.ArgumentParser(description="Launch the ner_demo app.")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: this machine only)")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args()
    build().launch(server_name=args.host, server_port=args.port)


if __name__ == "__main__":
    main()

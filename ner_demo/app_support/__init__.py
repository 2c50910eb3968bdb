"""What the Gradio app shows, computed without Gradio: pure functions that turn ner_demo results into
table rows, highlight dicts, figures and short Markdown, plus the app's model cache.

``app.py`` is layout and thin handlers; everything here is typed, tested and importable without a UI:

- :mod:`.models`      the model picker's choices (shipped default, finished runs) and a loaded-model cache
- :mod:`.tagging`     highlights, entity tables, downloads, batch files, the subword "decoding" view
- :mod:`.evaluating`  metric cards, per-type tables, the error browser, model comparison
- :mod:`.datasets`    split statistics, the entity-type chart, the sentence browser
- :mod:`.training`    the Train form -> TrainConfig, run progress, curves and the runs table
"""

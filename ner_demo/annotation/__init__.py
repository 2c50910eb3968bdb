"""Annotation: datasets of texts, a model's suggestions, every human decision in a database, and what is
made of them (exports, review, training splits).

- :mod:`ner_demo.annotation.edits`: spans and their edits, pure functions (snap to words, add, relabel,
  remove, resize, label every occurrence of a surface form).
- :mod:`ner_demo.annotation.schema`: the tables and their migrations (SQLite and PostgreSQL).
- :mod:`ner_demo.annotation.store`: :class:`~ner_demo.annotation.store.AnnotationStore`, datasets,
  examples and decisions; every decision committed when it is made.
- :mod:`ner_demo.annotation.formats`: reading uploads (.txt, .jsonl, .conll) and splits; export and
  import of CoNLL (IOB2), JSONL with character spans, and a ``datasets.DatasetDict`` on disk.
- :mod:`ner_demo.annotation.preannotate`: a Tagger's suggestions and uncertainty for each example.
- :mod:`ner_demo.annotation.queue`: the order of the items: in order, uncertainty, diversity,
  disagreement between two models, a suspicious-gold review list.
- :mod:`ner_demo.annotation.session`: one annotator working through a dataset (next item, accept,
  edit, reject, skip, undo, going back): what the Annotate tab drives.
- :mod:`ner_demo.annotation.review`: agreement per type, a diff, resolution into the final version.
- :mod:`ner_demo.annotation.source`: a dataset's final annotations as training splits (seeded dev part),
  the ``annotation:<name>`` data source of TrainConfig.dataset.

Nothing is imported here, so that ``import ner_demo.annotation.edits`` stays free of SQLAlchemy.
"""

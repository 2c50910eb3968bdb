"""ner_demo: named-entity recognition workbench core (data, labels, models, inference, evaluation, training).

The package never imports gradio: the app in ``app.py`` is a thin face over it.
"""

__version__ = "0.1.0"

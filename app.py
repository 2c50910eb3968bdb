"""ner_demo in the browser: ``python app.py`` (or ``ner-demo-app``) builds the app from ``ner_demo.app``
and serves it.

    python app.py [--host 127.0.0.1] [--port 7860] [--runs-dir runs] [--auth user:password]
"""

from ner_demo.app import main

if __name__ == "__main__":
    main()

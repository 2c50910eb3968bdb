"""What the app says when a request fails: the user's own file names, never the server's paths.

An upload reaches a handler as a path in the web server's cache (its temporary folder, a hash, then
the file's name). The core names the path it was given, which is right on the command line (the
user typed it) and wrong in the browser (the user picked ``train.conll``, not
``/tmp/cache/3f2a.../train.conll``). So the app maps every upload to its display name in one place,
:func:`user_message`, which every handler's error goes through.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable


def upload_name(path: str | os.PathLike) -> str:
    """How the app names an uploaded file: the name the user picked, without the server's folders.

    >>> upload_name("/tmp/cache/0f3c9e/train.conll")
    'train.conll'
    """
    return Path(path).name


def upload_paths(values: Iterable[object]) -> list[str]:
    """The handler arguments that are absolute file paths (uploads), longest first."""
    paths = {str(v) for v in values if isinstance(v, (str, os.PathLike)) and os.path.isabs(str(v))}
    return sorted(paths, key=len, reverse=True)  # a path that contains another is replaced first


def user_message(message: str, uploads: Iterable[str]) -> str:
    """``message`` with every upload's full path (as given, and resolved) replaced by its display name.

    >>> user_message("/tmp/cache/0f3c/x.conll, line 3: not a tag", ["/tmp/cache/0f3c/x.conll"])
    'x.conll, line 3: not a tag'
    """
    for path in uploads:
        forms = {path}
        try:
            forms.add(str(Path(path).resolve()))
        except (OSError, RuntimeError):
            pass
        for form in sorted(forms, key=len, reverse=True):
            message = message.replace(form, upload_name(path))
    return message

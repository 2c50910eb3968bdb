"""The watcher of one background run: it starts the trainer, waits for it, and acts when it exits.

    python -m ner_demo.training.supervisor RUN_DIR -- python -m ner_demo train --run-dir RUN_DIR

``background.start`` launches this small process (no torch) instead of the trainer itself. When the
trainer exits, whichever way (finished, failed, cancelled, or killed by SIGKILL or the OOM killer, when it
cannot say so itself), the watcher records a death without a word with the real exit status, gives the
runs folder's slot back, starts the next queued run and updates the run's learning curve. That holds
when no app polls and when the process that queued the runs has gone (a CLI ``train --queue``).
"""

from __future__ import annotations

import subprocess
import sys

from ner_demo.training import background
from ner_demo.training.curve import update_curve_of
from ner_demo.training.runs import Run


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") != 1 or len(argv) < 3:
        print("usage: python -m ner_demo.training.supervisor RUN_DIR -- COMMAND...", file=sys.stderr)
        return 2
    run = Run(argv[0])
    # stdout/stderr are the run's log.txt (the launcher opened it): the trainer writes there too.
    child = subprocess.Popen(argv[2:], stdin=subprocess.DEVNULL)
    code = child.wait()
    background.after_exit(run, child.pid, code)
    update_curve_of(run)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

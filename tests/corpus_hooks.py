"""Run ``python -m ner_demo tag-corpus ...`` with a hold planted in it, for tests/test_corpus_run.py.

    python tests/corpus_hooks.py hold-after-shards N -- tag-corpus INPUT OUTPUT ...

``hold-after-shards N``: once the N-th shard is entered in the manifest, the main process stops there
(the workers go on with the shards they hold) until it is killed: the test sees that state in the
manifest and sends SIGKILL to the whole process group, which is "kill -9 in the middle of a run" at a
known point, whatever the machine's speed. The hook wraps ``Manifest.add``, so the code under test is
the shipped code, unchanged.
"""

from __future__ import annotations

import runpy
import sys
import time


def hold_after_shards(n: int) -> None:
    from ner_demo.corpus.shards import Manifest

    real = Manifest.add

    def add(self, index, info):
        real(self, index, info)
        if len(self.shards) >= n:
            print(f"corpus_hooks: holding after {len(self.shards)} shard(s)", flush=True)
            deadline = time.time() + 120  # a safety net: the test kills the process as soon as it sees the shard
            while time.time() < deadline:
                time.sleep(0.05)
            sys.exit(3)

    Manifest.add = add


HOOKS = {"hold-after-shards": lambda arg: hold_after_shards(int(arg))}

if __name__ == "__main__":
    hook, arg, sep, *rest = sys.argv[1:]
    assert sep == "--", "usage: corpus_hooks.py HOOK ARG -- ner_demo arguments..."
    HOOKS[hook](arg)
    sys.argv = ["ner_demo", *rest]
    runpy.run_module("ner_demo", run_name="__main__", alter_sys=True)

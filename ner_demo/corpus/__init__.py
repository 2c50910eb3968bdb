"""Tagging a corpus of any size (``tag-corpus``): streamed readers (:mod:`records`), the output row
(:mod:`rows`), the job and the model's identity (:mod:`job`), shards with a manifest for resuming
(:mod:`shards`), and the engines: :mod:`local` (worker processes) and ``ray_engine`` (Ray Data)."""

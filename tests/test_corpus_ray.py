"""tag-corpus --engine ray on a local Ray of 2 CPUs: the local engine's shards, byte for byte, and a resumed
run that tags only the shards not done.

Ray starts once for the module (several seconds on 2 busy cores) and each run starts its actors (a few
more): three tests, two of which run Ray Data.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ner_demo.corpus.job import CorpusJob
from ner_demo.corpus.local import run_local
from ner_demo.corpus.ray_engine import code_env, run_ray, waves
from ner_demo.corpus.records import Record
from ner_demo.corpus.shards import MANIFEST, REJECTS, Chunk
from ner_demo.errors import ConfigError

NAMES = ["John", "Mary", "Angela", "Pedro", "Li"]
PLACES = ["Paris", "Berlin", "Tokyo", "Lagos", "Lima"]
SHARD = 5  # 35 items (32 records, 3 rejects): 7 shards, so both actors get several


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray of 2 CPUs for this module, with the checkout's ner_demo shipped to its workers as
    run_ray ships it when it starts Ray itself."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", runtime_env=code_env())
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def int8_model(trained_tiny_dir, tmp_path_factory):
    """The trained tiny model as an int8 ONNX export: dynamically quantised, so its numbers depend on what
    is batched together, and only the same Tagger calls on the same texts give the same scores."""
    from ner_demo.export import export_onnx

    return str(export_onnx(trained_tiny_dir, tmp_path_factory.mktemp("ray") / "tiny-onnx", quantize="int8"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A folder of a .txt (with a line that is not UTF-8, and a blank one) and a .jsonl (with a line that is
    not JSON and one without the text field)."""
    folder = tmp_path_factory.mktemp("corpus-in")
    lines = [f"{NAMES[i % 5]} met {NAMES[(i + 2) % 5]} in {PLACES[i % 5]} today .".encode() for i in range(20)]
    lines[7] = b"caf\xe9 in Paris"  # latin-1, not UTF-8
    lines[12] = b""
    (folder / "a.txt").write_bytes(b"\n".join(lines) + b"\n")
    rows = [json.dumps({"text": f"{PLACES[i % 5]} welcomed {NAMES[i % 5]} ."}) for i in range(16)]
    rows[3] = '{"text": "unclosed'
    rows[9] = json.dumps({"body": "no text field"})
    (folder / "b.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def _job(corpus: Path, output: Path, model: str) -> CorpusJob:
    return CorpusJob(str(corpus), str(output), model, shard_size=SHARD, tagger_options={"backend": "onnx-int8"})


@pytest.fixture(scope="module")
def local_output(corpus, int8_model, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("local") / "out"
    run_local(_job(corpus, output, int8_model), workers=1, quiet=True, log=lambda message: None)
    return output


def _files(output: Path) -> dict[str, bytes]:
    """Every shard and the gathered rejects, by name."""
    return {p.name: p.read_bytes() for p in sorted(output.glob("part-*.jsonl"))} | {
        REJECTS: (output / REJECTS).read_bytes()}


def _shards(output: Path) -> list[dict]:
    return json.loads((output / MANIFEST).read_text(encoding="utf-8"))["shards"]


def test_the_ray_engine_writes_the_local_engines_shards_and_rejects(ray_cluster, corpus, int8_model, local_output,
                                                                    tmp_path):
    result = run_ray(_job(corpus, tmp_path / "out", int8_model), workers=2, quiet=True, log=lambda message: None)
    assert (result["records"], result["rejects"], result["shards"]) == (32, 3, 7)
    assert _files(tmp_path / "out") == _files(local_output)  # the same entities, spans and scores, byte for byte
    assert _shards(tmp_path / "out") == _shards(local_output)


def test_the_ray_engine_resumes_a_run_tagging_only_the_shards_not_done(ray_cluster, corpus, int8_model, local_output,
                                                                       tmp_path):
    output = tmp_path / "out"
    shutil.copytree(local_output, output)
    # The state a run killed after its first 5 shards leaves: those listed, the rest neither listed nor
    # gathered into rejects.jsonl (a shard written but not yet listed is written again, the same).
    manifest = json.loads((output / MANIFEST).read_text(encoding="utf-8"))
    manifest["shards"], manifest["summary"] = manifest["shards"][:5], None
    (output / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    for name in ("part-00005.jsonl", "part-00006.jsonl", REJECTS):
        (output / name).unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in output.glob("part-*.jsonl")}
    messages = []
    result = run_ray(_job(corpus, output, int8_model), workers=1, quiet=True, log=messages.append)
    assert messages == ["resuming: 5 shard(s) done (25 records and rejects), tagging the rest"]
    assert {name: (output / name).stat().st_mtime_ns for name in kept} == kept  # not tagged again
    assert _files(output) == _files(local_output)
    assert (result["records"], result["rejects"], result["shards"]) == (32, 3, 7)


def test_more_actors_than_the_cluster_has_cpus_is_refused_before_any_tagging(ray_cluster, corpus, int8_model,
                                                                            tmp_path):
    with pytest.raises(ConfigError, match=r"^3 actor\(s\) of 1 thread\(s\) need 3 CPUs; the Ray cluster has 2: "
                                          r"give fewer --workers$"):
        run_ray(_job(corpus, tmp_path / "out", int8_model), workers=3, quiet=True, log=lambda message: None)
    assert _shards(tmp_path / "out") == []


def _chunk(index: int, text: str) -> Chunk:
    return Chunk(index, index, [Record(str(index), text, "a.txt", index + 1)])


def test_a_wave_closes_at_its_text_bytes_before_its_shard_limit():
    chunks = [_chunk(0, "é" * 5), _chunk(1, "abc"), _chunk(2, "abcdefghij"), _chunk(3, "x")]  # é: 2 bytes
    assert [[c.index for c in w] for w in waves(chunks, max_shards=3, max_bytes=10)] == [[0], [1, 2], [3]]


def test_an_actor_refuses_a_model_copy_that_is_not_the_drivers(corpus, int8_model, tmp_path):
    # What a node with a stale pre-staged copy meets: its files hash to another version than the driver's.
    from ner_demo.corpus.ray_engine import RayEngineError, ShardTagger

    with pytest.raises(RayEngineError, match=r"^tiny-onnx: the model on node .+ is version sha256:[0-9a-f]{16}, the "
                                             r"driver's is sha256:0000000000000000: stage the same files on every "
                                             r"node, or put the model on shared storage$"):
        ShardTagger(_job(corpus, tmp_path / "out", int8_model), "tiny-onnx", "sha256:0000000000000000", 1)


def test_an_error_raised_in_an_actors_start_is_shown_by_its_message():
    # The last line of Ray's ActorDiedError for an exception in ShardTagger.__init__ (as seen on Ray 2.60).
    from ner_demo.corpus.ray_engine import _cause

    died = RuntimeError("The actor died because of an error raised in its creation task, ray::MapWorker(...)\n"
                        "ner_demo.corpus.ray_engine.RayEngineError: tiny-onnx: the model on node n1 is version "
                        "sha256:1, the driver's is sha256:2")
    assert _cause(died) == "tiny-onnx: the model on node n1 is version sha256:1, the driver's is sha256:2"

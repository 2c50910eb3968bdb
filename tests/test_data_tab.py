"""The Data tab's core (ner_demo.app.data_format): the process-wide dataset cache, how uploads are
named, and the length charts, on tiny fixtures."""

from __future__ import annotations

import pytest
from app_harness import write_conll_file, write_fake_conll2003

from ner_demo.app import data_format as ds
from ner_demo.data.conll import parse_conll
from ner_demo.data.stats import length_stats
from ner_demo.errors import DataFormatError, DatasetUnavailableError
from ner_demo.plots import data as data_plots


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NER_DEMO_HOME", str(tmp_path / "home"))
    write_fake_conll2003(tmp_path / "home")
    return tmp_path / "home"


def test_loading_twice_gives_the_one_cached_copy(home):
    cache = ds.DatasetCache(size=2)
    first, second = cache.load(ds.CONLL2003), cache.load(ds.CONLL2003)
    assert first is second and len(cache) == 1
    assert first.key.startswith("conll2003:") and len(first.key) == len("conll2003:") + 20


def test_the_cache_keeps_at_most_its_size(tmp_path):
    cache = ds.DatasetCache(size=2)
    keys = [cache.load(ds.UPLOAD, str(write_conll_file(tmp_path / f"u{i}.conll", n=3, seed=i))).key for i in range(3)]
    assert len(cache) == 2 and len(set(keys)) == 3


def test_a_dropped_dataset_is_read_again_by_its_key(tmp_path):
    cache = ds.DatasetCache(size=1)
    first = cache.load(ds.UPLOAD, str(write_conll_file(tmp_path / "a.conll", n=3, seed=1)))
    cache.load(ds.UPLOAD, str(write_conll_file(tmp_path / "b.conll", n=3, seed=2)))
    again = cache.get(first.key)
    assert again is not first and again.key == first.key and again.name == "a.conll"


def test_a_changed_file_is_not_passed_off_under_its_old_key(tmp_path):
    cache = ds.DatasetCache(size=1)
    path = write_conll_file(tmp_path / "a.conll", n=3, seed=1)
    key = cache.load(ds.UPLOAD, str(path)).key
    cache.load(ds.UPLOAD, str(write_conll_file(tmp_path / "b.conll", n=3, seed=2)))
    write_conll_file(path, n=5, seed=9)
    with pytest.raises(DatasetUnavailableError, match="a.conll has changed since it was loaded: press Load again"):
        cache.get(key)


def test_an_unknown_key_asks_to_load_again():
    with pytest.raises(DatasetUnavailableError, match="no longer loaded: press Load again"):
        ds.DatasetCache().get("conll2003:0123456789abcdef0123")


def test_an_upload_is_its_own_split_named_uploaded(tmp_path):
    data = ds.DatasetCache().load(ds.UPLOAD, str(write_conll_file(tmp_path / "mine.conll", n=4)))
    assert list(data.splits) == ["uploaded"] and data.name == "mine.conll"
    assert ds.splits_summary(data.splits, data.name) == "mine.conll · uploaded: 4 sentences (IOB2 in the file)"


def test_an_uploads_errors_and_captions_name_the_file_not_its_folder(tmp_path):
    bad = tmp_path / "server" / "cache" / "bad.conll"
    bad.parent.mkdir(parents=True)
    bad.write_text("John B-PER\nParis LOCATION\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as caught:
        ds.DatasetCache().load(ds.UPLOAD, str(bad))
    assert str(caught.value).startswith("bad.conll, line 2: ") and str(tmp_path) not in str(caught.value)
    good = ds.DatasetCache().load(ds.UPLOAD, str(write_conll_file(tmp_path / "server" / "good.conll", n=2)))
    assert ds.sentence_view(good.splits["uploaded"], 1)[1].endswith("· good.conll, line 3")  # after its -DOCSTART- line


def test_missing_conll2003_names_no_path(tmp_path, monkeypatch):
    monkeypatch.setenv("NER_DEMO_HOME", str(tmp_path / "empty"))
    with pytest.raises(DatasetUnavailableError) as caught:
        ds.DatasetCache().load(ds.CONLL2003)
    assert "Fetch CoNLL-2003" in str(caught.value) and str(tmp_path) not in str(caught.value)


def test_sentence_numbers_are_one_based_and_clamped():
    corpus = parse_conll("John B-PER\n\nParis B-LOC\n\nMary B-PER\n")
    assert [ds.sentence_view(corpus, n)[2] for n in (-5, 0, 1, 2, 3, 99)] == [1, 1, 1, 2, 3, 3]
    highlight, caption, number = ds.sentence_view(corpus, 2)
    assert highlight["text"] == "Paris" and caption.startswith("Sentence 2 of 3")


def test_sentence_length_figure_has_a_line_per_split_in_percent():
    lengths = {"train": length_stats(parse_conll("a O\nb O\n\nc O\n")), "dev": length_stats(parse_conll("d O\n"))}
    fig = data_plots.sentence_length_figure(lengths)
    assert [t.name for t in fig.data] == ["train (mean 1.5, median 1, longest 2)", "dev (mean 1.0, median 1, longest 1)"]
    assert (list(fig.data[0].x), list(fig.data[0].y), list(fig.data[0].customdata)) == ([1, 2], [50.0, 50.0], [1, 1])


def test_entity_length_figure_has_a_bar_group_per_type_over_all_splits():
    lengths = {"train": length_stats(parse_conll("New B-LOC\nYork I-LOC\nAda B-PER\n")),
               "dev": length_stats(parse_conll("Rome B-LOC\n"))}
    fig = data_plots.entity_length_figure(lengths)
    assert [t.name for t in fig.data] == ["LOC (mean 1.50)", "PER (mean 1.00)"]
    assert list(fig.data[0].x) == [1, 2] and list(fig.data[0].y) == [50.0, 50.0] and list(fig.data[1].y) == [100.0, 0.0]
    assert fig.layout.title.text == "Entity lengths (train, dev)"


def test_length_figures_of_an_empty_split_still_draw():
    lengths = {"test": length_stats(parse_conll("a O\n"))}
    assert data_plots.entity_length_figure(lengths).layout.annotations[0].text == "no entities"


def test_evaluations_of_the_same_data_share_one_corpus(home, tmp_path):
    upload = write_conll_file(tmp_path / "mine.conll", 5)
    first, name = ds.eval_corpus(ds.UPLOAD, str(upload))
    assert ds.eval_corpus(ds.UPLOAD, str(upload))[0] is first and name == "mine.conll"
    dev = ds.eval_corpus("conll2003:dev", None)[0]
    assert ds.eval_corpus("conll2003:dev", None)[0] is dev
    assert first.sentences[0].source == "mine.conll"  # captions name the upload, never its server folder

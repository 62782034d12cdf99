"""Pretrained word vectors (book 10.6): the book's examples on vectors built to give its answers, the GloVe text
format (and its errors), the parse cache, GloVe by name through the data layer, and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

import datamodules.vector_files as vector_files
import zoo.pretrained.word_vectors as wv
from tests import text_fakes
from tests.conftest import REPO
from zoo.errors import ConfigError, DataError, DataUnavailableError
from zoo.pretrained.word_vectors import WordVectors


@pytest.fixture
def vector_file(tmp_path):
    tokens, vectors = text_fakes.book_vectors()
    return text_fakes.write_vector_text(tmp_path / "vectors.txt", tokens, vectors)


@pytest.mark.parametrize("query", sorted(text_fakes.BOOK_SIMILAR))
def test_the_books_similar_words(vector_file, query):
    got = WordVectors.load(vector_file).similar(query, 3)
    expected = text_fakes.BOOK_SIMILAR[query]
    assert [w for w, _ in got] == [w for w, _ in expected]
    assert [c for _, c in got] == pytest.approx([c for _, c in expected], abs=1e-4)


@pytest.mark.parametrize(("a", "b", "c", "d"), text_fakes.BOOK_ANALOGIES)
def test_the_books_analogies(vector_file, a, b, c, d):
    vectors = WordVectors.load(vector_file)
    assert vectors.analogy(a, b, c)[0][0] == d
    assert vectors.analogy(a, b, c, exclude_query=False)[0][0] == d  # the book's get_analogy keeps the query words


def test_unknown_and_empty_queries_are_clear_errors(vector_file):
    vectors = WordVectors.load(vector_file)
    with pytest.raises(ConfigError, match="'chipz' is not among the 68 words of .*vectors.txt"):
        vectors.similar("chipz")
    with pytest.raises(ConfigError, match="'Chip' is not among .* .it has 'chip'."):
        vectors.similar("Chip")
    with pytest.raises(ConfigError, match="the query is empty"):
        vectors.analogy("man", "", "son")
    with pytest.raises(ConfigError, match="k must be >= 1"):
        vectors.similar("chip", 0)


def test_lookup_policies_for_words_without_a_vector(vector_file):
    vectors = WordVectors.load(vector_file)
    with pytest.raises(ConfigError, match="1 of 2 words have no vector .*'nope'"):
        vectors.lookup(["chip", "nope"])
    matrix, found = vectors.embedding_for(["chip", "nope", "baby"])  # the book's zeros for unknown words
    assert found == 2 and matrix[1].abs().sum() == 0 and torch.equal(matrix[0], vectors.vectors[vectors.index["chip"]])
    random_rows, _ = vectors.embedding_for(["nope", "chip"], unknown="random")
    assert random_rows[0].abs().sum() > 0
    assert vectors.lookup(["nope", "chip"], unknown="skip").shape == (1, 50)


def test_save_and_load_round_trip_in_both_text_formats(tmp_path, vector_file):
    vectors = WordVectors.load(vector_file)
    for header in (False, True):
        path = vectors.save(tmp_path / f"out{header}.txt", header=header)
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert (first == "68 50") is header
        again = WordVectors.load(path)
        assert again.tokens == vectors.tokens and torch.allclose(again.vectors, vectors.vectors, atol=1e-5)


@pytest.mark.parametrize(("content", "message"), [
    ("a 1 2 3\nb 1 2\n", "line 2: 'b' has 2 numbers, the first line 3"),
    ("a 1 2 3\nb 1 x 3\n", "line 2: 'b' has a value that is not a number"),
    ("3 2\na 1 2\nb 3 4\n", "its first line says 3 words of 2 numbers, but it holds 2 words of 2"),
    ("a\nb\n", "line 1: 'a' has no numbers"),
    ("\n\n", "holds no vectors"),
])
def test_a_malformed_vector_file_names_the_line(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        WordVectors.load(path)


def test_a_file_that_is_not_text_and_a_missing_name_are_clear_errors(tmp_path):
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00word 1 2")
    with pytest.raises(DataError, match="is not UTF-8 text"):
        WordVectors.load(tmp_path / "binary.txt")
    with pytest.raises(ConfigError, match="no word vectors 'glove.6B.300d': not a known name .*glove.6B.50d"):
        WordVectors.load("glove.6B.300d")


def test_a_text_file_is_parsed_once_then_read_from_its_cache(vector_file, monkeypatch):
    first = WordVectors.load(vector_file)
    assert not vector_file.with_name("vectors.txt.pt").exists()  # never beside the user's file
    assert list((Path(os.environ["ZOO_DATA_DIR"]) / "word-vectors").glob("vectors.txt-*.pt"))
    monkeypatch.setattr(vector_files, "parse_vector_file", lambda path: pytest.fail("parsed again"))
    assert torch.equal(WordVectors.load(vector_file).vectors, first.vectors)
    monkeypatch.undo()
    vector_file.write_text("solo 1 0\nduo 0 1\n", encoding="utf-8")  # the source changed: parsed again
    assert WordVectors.load(vector_file).tokens == ["solo", "duo"]


def _accept_fake_glove(monkeypatch, path):
    import hashlib

    filename, url, _ = wv.GLOVE["glove.6B.50d"]
    monkeypatch.setitem(wv.GLOVE, "glove.6B.50d", (filename, url, hashlib.sha1(path.read_bytes()).hexdigest()))


def test_glove_by_name_through_a_mirror_served_over_http(tmp_path, monkeypatch, http_server):
    url, served = http_server
    archive = text_fakes.write_glove_zip(served / "glove.6B.50d.zip")
    _accept_fake_glove(monkeypatch, archive)
    monkeypatch.setenv("ZOO_DATA_MIRROR", url)
    vectors = WordVectors.load("glove.6B.50d")
    assert vectors.similar("chip", 1)[0][0] == "chips" and vectors.name == "glove.6B.50d"
    cache = tmp_path / "cache"
    assert (cache / "glove.6B.50d.zip").is_file() and (cache / "glove.6B.50d" / "vec.txt.pt").is_file()


def test_glove_offline_names_the_file_url_checksum_and_folder(tmp_path):
    with pytest.raises(DataUnavailableError) as info:
        WordVectors.load("glove.6B.100d")
    message = str(info.value)
    filename, url, sha1 = wv.GLOVE["glove.6B.100d"]
    assert all(part in message for part in (filename, url, sha1, str(tmp_path / "cache")))


def test_a_glove_zip_without_a_vector_file_is_refused(tmp_path, monkeypatch):
    (tmp_path / "cache").mkdir()
    archive = tmp_path / "cache" / "glove.6B.50d.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("glove.6B.50d/readme.md", "nothing here")
    _accept_fake_glove(monkeypatch, archive)
    with pytest.raises(DataError, match="holds no .txt vector file"):
        WordVectors.load("glove.6B.50d")


def _zoo(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "zoo", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def test_python_m_zoo_similar_and_analogy_print_the_books_answers(vector_file):
    out = _zoo("similar", "--vectors", str(vector_file), "chip", "baby")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[:4] == ["chip:", "  cosine sim=0.856: chips", "  cosine sim=0.749: intel",
                                           "  cosine sim=0.748: electronics"]
    out = _zoo("analogy", "--vectors", str(vector_file), "do", "did", "go")
    assert out.returncode == 0 and out.stdout.startswith("do : did :: go : went"), out.stderr


def test_python_m_zoo_similar_errors_are_one_line_and_exit_1(tmp_path, vector_file):
    for args, message in [
        (("similar", "--vectors", str(vector_file), "chipz"), "error: 'chipz' is not among the 68 words"),
        (("similar", "--vectors", str(tmp_path / "missing.txt"), "chip"), "error: no word vectors"),
        (("analogy", "--vectors", str(vector_file), "man", "woman", ""), "error: the query is empty"),
    ]:
        out = _zoo(*args)
        assert out.returncode == 1 and out.stderr.startswith(message) and "Traceback" not in out.stderr, out.stderr
        assert out.stdout == ""

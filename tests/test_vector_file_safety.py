"""Word-vector files as users write them: the parse cache lives in the zoo's own folder and never replaces a user's
file, it follows the file's content (not its size and modification time), NaN or infinite values are refused by word
and line, a repeated word and a byte-order mark are handled and said, and the queries say what they cannot answer
(a zero vector, fewer words than ``-k``) instead of printing nothing and exiting 0."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest
import torch

from datamodules.cache import load_cached
from datamodules.vector_files import read_vector_file
from zoo.cli import main
from zoo.errors import ConfigError, DataError
from zoo.ops.similarity import cosine_knn
from zoo.pretrained.word_vectors import WordVectors

FOUR_WORDS = "man 1 0 0\nwoman 0 1 0\nking 1 0.2 0\nqueen 0.1 1 0.1\n"


@pytest.fixture(autouse=True)
def _plain_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["zoo"])


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``python -m zoo ARGV`` run in-process."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return info.value.code, captured.out, captured.err


def error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: ") and sum(line.startswith("error: ") for line in lines) == 1, err
    return lines[-1]


# ------------------------------------------------------------------ where the cache goes
def test_a_users_file_with_the_caches_old_name_is_never_replaced(tmp_path, capsys):
    mine = tmp_path / "mine.txt"
    mine.write_text(FOUR_WORDS, encoding="utf-8")
    theirs = tmp_path / "mine.txt.pt"
    theirs.write_bytes(b"the user's own file, not a cache")
    code, out, _ = run(["similar", "--vectors", str(mine), "-k", "1", "man"], capsys)
    assert code == 0 and "king" in out
    assert theirs.read_bytes() == b"the user's own file, not a cache"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "mine.txt", "mine.txt.pt"]  # nothing beside it
    cached = list((Path(os.environ["ZOO_DATA_DIR"]) / "word-vectors").iterdir())  # the zoo's own cache folder
    assert len(cached) == 1 and cached[0].name.startswith("mine.txt-") and cached[0].suffix == ".pt"


def test_a_file_at_a_caches_path_that_the_zoo_did_not_write_is_left_alone(tmp_path, caplog):
    source = tmp_path / "source.txt"
    source.write_text("data", encoding="utf-8")
    foreign = tmp_path / "derived.pt"
    torch.save({"weights": torch.ones(2)}, foreign)  # a readable tensor file, but not a cache of the zoo
    before = foreign.read_bytes()
    with caplog.at_level(logging.WARNING):
        assert load_cached(foreign, [source], lambda: {"x": 1}) == {"x": 1}
    assert foreign.read_bytes() == before
    assert "is not a cache the zoo wrote" in caplog.text and "left as it is" in caplog.text
    foreign.write_bytes(b"not even a tensor file")
    assert load_cached(foreign, [source], lambda: {"x": 2}) == {"x": 2}
    assert foreign.read_bytes() == b"not even a tensor file"


def test_an_edit_that_keeps_the_size_and_the_modification_time_is_read_again(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("aa 1.0 2.0\nbb 3.0 4.0\n", encoding="utf-8")
    first_tokens, first = read_vector_file(path)
    assert first_tokens == ["aa", "bb"] and first.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    stat = path.stat()
    path.write_text("aa 5.0 6.0\nbb 7.0 8.0\n", encoding="utf-8")  # the same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old modification time
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    _, again = read_vector_file(path)
    assert again.tolist() == [[5.0, 6.0], [7.0, 8.0]]


# ------------------------------------------------------------------ what a file may hold
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_a_row_with_a_nan_or_infinite_value_is_refused_by_word_and_line(value, tmp_path, capsys):
    path = tmp_path / "vectors.txt"
    path.write_text(f"man 1 0 0\nwoman 0 1 0\n\nbroken 0.5 {value} 0\nking 1 0.2 0\n", encoding="utf-8")
    code, out, err = run(["analogy", "--vectors", str(path), "man", "king", "woman"], capsys)
    assert code == 1 and out == ""
    line = error_line(err)
    assert f"{path}, line 4: 'broken' has the value" in line and "finite" in line


def test_rows_that_are_not_finite_are_never_ranked():
    """Vectors built in memory (from a checkpoint, say) may hold a NaN row: it is skipped, and the answers asked for
    still come from the other rows."""
    tokens = ["man", "woman", "king", "queen", "broken", "prince", "princess"]
    vectors = torch.tensor([[1.0, 0, 0], [0, 1, 0], [1, 0.2, 0], [0.1, 1, 0.1], [float("nan"), 0, 0],
                            [0.9, 0.3, 0.1], [0.2, 0.9, 0.3]])
    answers = WordVectors(tokens, vectors, "mixed").analogy("man", "king", "woman", k=3)
    assert len(answers) == 3 and "broken" not in [w for w, _ in answers]
    assert all(c == c for _, c in answers)  # no NaN cosine
    indices, cosines = cosine_knn(vectors, vectors[0], 7)
    assert 4 not in indices and len(indices) == 6


def test_a_repeated_word_keeps_its_first_row_and_says_so(tmp_path, caplog):
    path = tmp_path / "vectors.txt"
    path.write_text("man 1 0\nwoman 0 1\nman 5 5\nking 1 1\n", encoding="utf-8")
    for _ in range(2):  # parsed, then read from the cache: said both times
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            vectors = WordVectors.load(path)
        assert vectors.tokens == ["man", "woman", "king"]
        assert vectors.vectors[vectors.index["man"]].tolist() == [1.0, 0.0]
        assert "'man' on lines 1 and 3" in caplog.text and "the first row of each word is used" in caplog.text


def test_a_byte_order_mark_is_not_part_of_the_first_word(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_bytes(b"\xef\xbb\xbf" + FOUR_WORDS.encode("utf-8"))
    vectors = WordVectors.load(path)
    assert vectors.tokens[0] == "man" and "man" in vectors
    assert vectors.similar("man", 1)[0][0] == "king"


# ------------------------------------------------------------------ what a query cannot answer
def test_a_query_whose_vector_is_zero_is_an_error(tmp_path, capsys):
    path = tmp_path / "vectors.txt"
    path.write_text(FOUR_WORDS + "nothing 0 0 0\n", encoding="utf-8")
    code, out, err = run(["similar", "--vectors", str(path), "nothing"], capsys)
    assert code == 1 and out == ""
    assert "'nothing' is the zero vector" in error_line(err)
    code, out, err = run(["analogy", "--vectors", str(path), "man", "man", "nothing"], capsys)  # b - a + c = 0
    assert code == 1 and out == "" and "is the zero vector" in error_line(err)
    with pytest.raises(ConfigError, match="zero"):
        cosine_knn(torch.eye(3), torch.zeros(3), 1)


def test_fewer_words_than_k_prints_those_there_are_and_says_how_many(tmp_path, capsys):
    path = tmp_path / "three.txt"
    path.write_text("man 1 0\nwoman 0 1\nking 1 1\n", encoding="utf-8")
    code, out, err = run(["similar", "--vectors", str(path), "-k", "5", "man"], capsys)
    assert code == 0
    assert [line.split(": ")[-1] for line in out.splitlines()[1:]] == ["king", "woman"]
    assert "-k 5 asked for 5 neighbours of 'man', but only 2 words" in err and "all 2 are printed" in err
    code, out, err = run(["analogy", "--vectors", str(path), "-k", "2", "--include-query", "man", "king", "woman"],
                         capsys)
    assert code == 0 and len(out.splitlines()) == 2 and "note:" not in err


def test_no_word_to_answer_is_an_error(tmp_path, capsys):
    path = tmp_path / "one.txt"
    path.write_text("solo 1 2\n", encoding="utf-8")
    code, out, err = run(["similar", "--vectors", str(path), "solo"], capsys)
    assert code == 1 and out == ""
    assert "no word of" in error_line(err) and "1 word, 0 besides the query" in error_line(err)
    with pytest.raises(DataError, match="holds no vectors"):
        empty = tmp_path / "empty.txt"
        empty.write_text("\n", encoding="utf-8")
        WordVectors.load(empty)

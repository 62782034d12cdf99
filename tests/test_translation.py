"""Machine translation (book 10.9-10.12): the fr-en data as the book prepares it, the normalisation shared by the
training text and the sentences a user types, the attention and the masked loss against their definitions, greedy and
beam search, the book's BLEU, and translating from a checkpoint with references given one by one or in a file."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

import datamodules.fra_eng as tr
from datamodules.fra_eng import FraEngDataModule, normalize_sentence, read_pairs
from tests import text_fakes
from tests.conftest import REPO
from tests.examples import EXAMPLES, MT_VOCAB, save_checkpoint
from tests.fakes import point_resource_at
from zoo import Seq2SeqAttention, load_task
from zoo.cli import main
from zoo.errors import ConfigError, DataError, DataUnavailableError, PromptError
from zoo.nets.encoder_decoder import AdditiveAttention, Seq2SeqNet
from zoo.ops.bleu import bleu
from zoo.ops.decoding import beam_search, greedy_search


# ------------------------------------------------------------------ data
def test_the_books_processing_of_fr_en_pairs(tmp_path, monkeypatch):
    text_fakes.install_fr_en(tmp_path, monkeypatch)
    dm = FraEngDataModule(data_dir=str(tmp_path))
    dm.setup()
    assert len(dm.pairs) == 7  # the 8th pair has 8 French words: longer than max_seq_len - 1 = 6, dropped
    assert dm.src_vocab[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"] and dm.tgt_vocab[:4] == dm.src_vocab[:4]
    src, src_len, tgt, tgt_len = dm.train_set.tensors
    assert src.shape == tgt.shape == (7, 7)
    first = [dm.src_vocab[i] for i in src[0]]  # "elle est vieille ." + <eos>, padded
    assert first == ["elle", "est", "vieille", ".", "<eos>", "<pad>", "<pad>"] and int(src_len[0]) == 5
    assert [dm.tgt_vocab[i] for i in tgt[0][: int(tgt_len[0])]] == ["she", "is", "old", ".", "<eos>"]
    assert dm.eval_sets == ("train",) and dm.max_seq_len == 7
    longer = FraEngDataModule(data_dir=str(tmp_path), max_seq_len=10, direction="en-fr", val_size=2, seed=1)
    longer.setup()
    assert len(longer.pairs) == 8 and longer.pairs[0] == (["she", "is", "old", "."], ["elle", "est", "vieille", "."])
    assert len(longer.train_set) == 6 and len(longer.val_set) == 2 and longer.eval_sets == ("val",)


def test_tatoeba_is_normalised_and_read_english_tab_french(tmp_path, monkeypatch):
    assert normalize_sentence("Cours\u202f! C'est\xa0bien.") == "cours ! c'est bien ."
    archive = text_fakes.write_tatoeba_zip(tmp_path / "fra-eng.zip")
    point_resource_at(monkeypatch, tr, "FRA_ENG", archive)
    dm = FraEngDataModule(data_dir=str(tmp_path), source="tatoeba", max_seq_len=6, num_examples=6)
    assert dm.pairs[0] == (["va", "!"], ["go", "."]) and dm.pairs[2] == (["cours", "!"], ["run", "!"])
    assert (["c'est", "mon", "frère", "."], ["he", "is", "my", "brother", "."]) in dm.pairs
    assert len(dm.pairs) == 6  # num_examples keeps the first 6; the long 7th is not among them


def test_the_small_file_is_normalised_like_what_a_user_types(tmp_path, monkeypatch):
    """The book's file is already in that form (normalising it changes nothing); a file of one's own in the small
    format is normalised as the Tatoeba file is, and the datamodule's predict sentences too."""
    assert normalize_sentence("Ils regardent.") == "ils regardent ." == normalize_sentence("ils regardent .")
    assert all(normalize_sentence(f"{fr}\t{en}") == f"{fr}\t{en}" for fr, en in text_fakes.FR_EN_PAIRS)
    path = text_fakes.write_fr_en(tmp_path / tr.FR_EN_SMALL.filename, [("Ils regardent.", "They are watching!"),
                                                                        ("Elle a tort.", "She is wrong.")])
    point_resource_at(monkeypatch, tr, "FR_EN_SMALL", path)
    dm = FraEngDataModule(data_dir=str(tmp_path), predict_sentences=["Elle a tort."])
    assert dm.pairs[0] == (["ils", "regardent", "."], ["they", "are", "watching", "!"])
    assert list(dm.predict_dataloader()) == [["elle a tort ."]]


def test_data_errors_name_the_line_and_the_file(tmp_path):
    with pytest.raises(DataError, match="pairs.txt, line 2: expected 'sentence<TAB>translation'"):
        read_pairs(["a\tb", "no tab here"], "pairs.txt")
    with pytest.raises(DataUnavailableError) as info:
        FraEngDataModule().prepare_data()
    assert tr.FR_EN_SMALL.filename in str(info.value) and tr.FR_EN_SMALL.checksum in str(info.value)
    with pytest.raises(ConfigError, match="source must be 'small' or 'tatoeba'"):
        FraEngDataModule(source="europarl")


@pytest.mark.mirror
def test_the_real_fr_en_small_file():
    dm = FraEngDataModule()
    dm.prepare_data()
    dm.setup()
    assert len(dm.pairs) == 20 and (len(dm.src_vocab), len(dm.tgt_vocab)) == (47, 39)


# ------------------------------------------------------------------ the network
def test_attention_is_the_books_mlp_and_ignores_padding():
    torch.manual_seed(0)
    attention = AdditiveAttention(num_hiddens=4, attention_size=3)
    keys, query = torch.randn(5, 2, 4), torch.randn(2, 4)
    mask = torch.tensor([[True, True], [True, True], [True, False], [False, False], [False, False]])
    context, alpha = attention(keys, query, mask)
    e = attention.score(torch.cat((keys, query.unsqueeze(0).expand_as(keys)), dim=2)).squeeze(2)  # book 10.12.2.2
    for b, n in enumerate((3, 2)):
        expected = F.softmax(e[:n, b], dim=0)
        assert torch.allclose(alpha[:n, b], expected) and (alpha[n:, b] == 0).all()
        assert torch.allclose(context[b], (expected[:, None] * keys[:n, b]).sum(0))


def test_the_loss_is_the_books_masked_cross_entropy_per_real_word():
    torch.manual_seed(0)
    model, (src, src_len, tgt, _) = EXAMPLES["Seq2SeqAttention"]()
    model.eval()
    net, loss_sum, words = model.net, 0.0, 0
    outputs, enc_state, mask = net.encode(src, src_len)
    state, token = enc_state, torch.full((2,), MT_VOCAB.index("<bos>"))
    for y in tgt.T:  # the book's batch_loss, word by word, teacher forcing
        logits, state, _ = net.decoder(token, state, outputs, mask, enc_state)
        real = y != 0
        loss_sum += float((F.cross_entropy(logits, y, reduction="none") * real).sum())
        words += int(real.sum())
        token = y
    assert float(model.masked_loss(src, src_len, tgt)) == pytest.approx(loss_sum / words, rel=1e-5)


def test_the_decoder_takes_embedding_plus_hidden_not_twice_the_embedding():
    net = Seq2SeqNet(10, 12, embed_size=8, num_hiddens=6, num_layers=2, attention_size=4)
    assert net.decoder.rnn.input_size == 8 + 6


# ------------------------------------------------------------------ search and BLEU
def _toy_step(table: dict[tuple[int, ...], list[float]]):
    """A step function over 4 words (0 = <bos>, 1 = <eos>) whose next-word probabilities depend on the prefix."""
    def step(tokens, state):
        rows = [table.get(tuple(prefix + [int(t)]), [0.0, 0.25, 0.25, 0.5]) for prefix, t in zip(state, tokens)]
        new_state = [prefix + [int(t)] for prefix, t in zip(state, tokens)]
        return torch.tensor(rows).clamp_min(1e-9).log(), new_state
    return step


def test_beam_search_finds_what_greedy_misses_and_beam_one_is_greedy():
    # greedy takes 3 (p 0.55) then ends (0.4 * ...); beam 2 keeps 2 (p 0.45), whose continuation is certain
    table = {(0,): [0.0, 0.0, 0.45, 0.55], (0, 3): [0.0, 0.4, 0.3, 0.3], (0, 2): [0.0, 0.0, 0.0, 1.0],
             (0, 2, 3): [0.0, 1.0, 0.0, 0.0], (0, 3, 2): [0.0, 1.0, 0.0, 0.0], (0, 3, 3): [0.0, 1.0, 0.0, 0.0]}
    reorder = lambda state, rows: [state[i] for i in rows.tolist()]  # noqa: E731
    greedy, _ = greedy_search(_toy_step(table), [[]], bos=0, eos=1, max_len=5)
    assert greedy == [3]
    assert beam_search(_toy_step(table), [[]], 0, 1, 5, beam_size=1, reorder=reorder)[0] == greedy
    words, log_p = beam_search(_toy_step(table), [[]], 0, 1, 5, beam_size=2, reorder=reorder, alpha=0.0)
    assert words == [2, 3] and log_p == pytest.approx(math.log(0.45))


def test_beam_of_one_equals_greedy_on_a_model():
    torch.manual_seed(1)
    model, _ = EXAMPLES["Seq2SeqAttention"]()
    model.eval()
    for sentence in ("a b c", "d", "e f g h", "j i"):
        assert beam_search_words(model, sentence) == model.translate(sentence, beam_size=1).words


def beam_search_words(model, sentence: str) -> list[str]:
    """The model's beam search with beam size 1, called directly (not through translate's greedy shortcut)."""
    ids = torch.tensor([model.encode_source(sentence)[0]])
    src_len = torch.tensor([ids.shape[1]])
    outputs, enc_state, mask = model.net.encode(F.pad(ids, (0, 7 - ids.shape[1])), src_len)

    def step(tokens, state):
        logits, state, _ = model.net.decoder(tokens, state, outputs, mask, enc_state)
        return F.log_softmax(logits, -1), state

    words, _ = beam_search(step, enc_state, MT_VOCAB.index("<bos>"), MT_VOCAB.index("<eos>"), 7, 1,
                           lambda state, rows: state[:, rows])
    return [MT_VOCAB[i] for i in words]


def test_the_books_bleu_on_its_two_examples():
    """10.12.5: 'they are watching .' -> 1.000; 'they are russian .' against 'they are canadian .' (k = 2): the
    brevity factor is 1, p1 = 3/4, p2 = 1/3, so (3/4)^(1/2) * (1/3)^(1/4) = 0.658."""
    watching, russian, canadian = (f"they are {w} .".split(" ") for w in ("watching", "russian", "canadian"))
    assert bleu(watching, watching, 2) == 1.0
    by_hand = math.exp(min(0, 1 - 4 / 4)) * (3 / 4) ** 0.5 * (1 / 3) ** 0.25
    assert bleu(russian, canadian, 2) == pytest.approx(by_hand)
    assert round(by_hand, 3) == 0.658
    assert bleu(["ab", "c"], ["a", "bc"], 2) == 0.0  # n-grams as tuples: the book's ''.join would match these
    assert bleu(["a", "b"], ["a", "b", "c", "d", "e", "f"], 2) == pytest.approx(math.exp(1 - 6 / 2))  # 10.12.5's 0.14


# ------------------------------------------------------------------ the recipe and the command line
@pytest.fixture
def trained(tmp_path, monkeypatch, capsys):
    text_fakes.install_fr_en(tmp_path / "data", monkeypatch)
    with pytest.raises(SystemExit) as done:
        main(["recipe", "seq2seq_attention_fr_en", "--trainer.max_epochs=6", "--trainer.check_val_every_n_epoch=3",
              f"--data.init_args.data_dir={tmp_path / 'data'}", f"--trainer.default_root_dir={tmp_path / 'runs'}"])
    assert done.value.code == 0
    return tmp_path / "runs" / "version_0", capsys.readouterr().out


def test_the_recipe_reports_loss_bleu_and_the_books_sentences(trained):
    run, out = trained
    assert "fr-en-small.txt: 7 of 8 pairs kept" in out and "ils regardent . -> " in out and "(bleu " in out
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["train/bleu"] for r in rows if r["train/bleu"]] and len([r for r in rows if r["train/loss"]]) == 6


def test_python_m_zoo_translate_greedy_beam_reference_and_attention(trained, tmp_path):
    run, _ = trained
    ckpt = str(run / "checkpoints" / "last.ckpt")
    png = tmp_path / "attention.png"
    out = subprocess.run([sys.executable, "-m", "zoo", "translate", "--ckpt", ckpt, "ils regardent .", "--beam-size",
                          "3", "--reference", "they are watching .", "--attention-png", str(png)], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ils regardent . -> ") and "(beam 3, log P " in out.stdout and " bleu " in out.stdout
    assert png.is_file() and png.stat().st_size > 1000
    model = load_task(ckpt)
    assert model.translate("ils regardent .", 1).words == model.translate("ils regardent .", 1).words
    unknown = model.translate("ils mangent .")
    assert unknown.unknown == ["mangent"] and unknown.source_tokens == ["ils", "<unk>", ".", "<eos>"]


def test_translate_reads_a_sentence_as_typed_the_way_the_training_text_was_normalised(trained, capsys):
    run, _ = trained
    ckpt = str(run / "checkpoints" / "last.ckpt")
    assert main_status(["translate", "--ckpt", ckpt, "ils regardent ."]) == 0
    expected = capsys.readouterr().out.split(" -> ")[1]
    assert main_status(["translate", "--ckpt", ckpt, "Ils regardent.", "Ils mangent."]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Ils regardent. -> {expected}".rstrip("\n")  # the same words, no <unk>
    assert lines[1].startswith("Ils mangent. -> ")
    assert lines[2] == "  note: not in the training vocabulary, read as <unk>: mangent" and len(lines) == 3


def main_status(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return done.value.code


def test_references_one_per_sentence_or_from_a_file(trained, tmp_path, capsys):
    run, _ = trained
    ckpt = str(run / "checkpoints" / "last.ckpt")
    sentences = ["Ils regardent.", "Elle est vieille.", "Ils sont acteurs."]
    references = ["They are watching.", "She is old.", "They are actors."]
    assert main_status(["translate", "--ckpt", ckpt, *sentences,
                        *(a for r in references for a in ("--reference", r))]) == 0
    repeated = capsys.readouterr().out
    assert repeated.count(" bleu ") == 3
    file = tmp_path / "refs.txt"
    file.write_text("\n".join(references) + "\n\n", encoding="utf-8")  # a trailing blank line is fine
    assert main_status(["translate", "--ckpt", ckpt, *sentences, "--references", str(file)]) == 0
    assert capsys.readouterr().out == repeated
    model = load_task(ckpt)
    for line, sentence, reference in zip(repeated.splitlines(), sentences, references):
        words = model.translate(normalize_sentence(sentence)).words
        assert line.endswith(f" bleu {bleu(words, normalize_sentence(reference).split(), 2):.3f}")

    for args, message in [
        (["--reference", "They are watching."],
         "error: 3 sentences but 1 reference: give one reference per sentence, in the same order: repeat "
         "--reference \"...\" once for each sentence, or put them in a file, one a line, and pass --references FILE"),
        (["--references", str(file), "--reference", "x"], "error: give the references either with --reference"),
        (["--references", str(tmp_path / "none.txt")], f"error: no such references file: {tmp_path / 'none.txt'}"),
    ]:
        assert main_status(["translate", "--ckpt", ckpt, *sentences, *args]) == 1
        assert message in capsys.readouterr().err
    file.write_text("They are watching.\n\nThey are actors.\n", encoding="utf-8")
    assert main_status(["translate", "--ckpt", ckpt, *sentences, "--references", str(file)]) == 1
    assert f"error: {file}, line 2: a blank line" in capsys.readouterr().err
    file.write_text("They are watching.\n", encoding="utf-8")
    assert main_status(["translate", "--ckpt", ckpt, *sentences, "--references", str(file)]) == 1
    assert "error: 3 sentences but 1 reference: " in capsys.readouterr().err


def test_translate_errors_are_one_line_and_exit_1(tmp_path):
    model, _ = EXAMPLES["Seq2Seq"]()
    save_checkpoint(model, tmp_path / "s2s.ckpt")
    save_checkpoint(EXAMPLES["LeNet"]()[0], tmp_path / "lenet.ckpt")
    for args, message in [
        (("--ckpt", str(tmp_path / "s2s.ckpt"), "  "), "error: the sentence is empty"),
        (("--ckpt", str(tmp_path / "s2s.ckpt"), "a b", "--attention-png", str(tmp_path / "a.png")),
         "error: Seq2Seq has no attention to draw"),
        (("--ckpt", str(tmp_path / "lenet.ckpt"), "a"), f"error: {tmp_path / 'lenet.ckpt'} holds a LeNet"),
        (("--ckpt", str(tmp_path / "s2s.ckpt"), "a", "--beam-size", "0"), "error: --beam-size must be >= 1"),
    ]:
        out = subprocess.run([sys.executable, "-m", "zoo", "translate", *args], cwd=REPO, capture_output=True,
                             text=True, timeout=120, env={**os.environ})
        assert out.returncode == 1 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
    with pytest.raises(PromptError, match="the sentence is empty"):
        model.translate("")


@pytest.mark.mirror
def test_the_books_experiment_on_the_real_pairs(tmp_path):
    """E10.12: 50 epochs on the 20 pairs; 'ils regardent .' -> 'they are watching .' (bleu 1.000)."""
    with pytest.raises(SystemExit) as done:
        main(["recipe", "seq2seq_attention_fr_en", f"--trainer.default_root_dir={tmp_path}"])
    assert done.value.code == 0
    model = load_task(tmp_path / "version_0" / "checkpoints" / "last.ckpt")
    assert isinstance(model, Seq2SeqAttention)
    assert model.translate("ils regardent .").text == "they are watching ."
    assert model.translate("ils regardent .", beam_size=3).text == "they are watching ."
    out = subprocess.run([sys.executable, "-m", "zoo", "translate", "--ckpt",
                          str(tmp_path / "version_0" / "checkpoints" / "last.ckpt"), "Ils regardent."], cwd=REPO,
                         capture_output=True, text=True, timeout=120)  # as a user types it
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Ils regardent. -> they are watching .  (greedy") and "<unk>" not in out.stdout
    with open(tmp_path / "version_0" / "metrics.csv", newline="") as f:
        losses = [float(r["train/loss"]) for r in csv.DictReader(f) if r["train/loss"]]
    assert losses[-1] < 0.06 and losses[9] > losses[-1]

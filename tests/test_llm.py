"""Number parsing, the grounding check, and the LLM writer on tiny models built here.

No model is downloaded: the tests build a one-layer GPT-2 with a word-level tokenizer,
save both to a temporary directory and load them back through ``LLMWriter`` exactly as a
real model would be loaded from disk.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from modeling.llm import (NOTHING_TO_SAY, LLMWriter, TemplateWriter, grounded, numbers_in,
                          tokens)
from modeling.recommend import Fact

FACTS = [
    Fact("budget:tiktok", "budget", 120.0, "tiktok",
         "TikTok: raise daily spend from $1,520.00 to $1,976.00 (+30.00%); each extra dollar "
         "there returns $1.42, against $0.61 on Facebook.",
         {"current": 1520.0, "recommended": 1976.0, "change": 0.3, "mroi": 1.4213,
          "mroi_other": 0.6088}, "Move budget to TikTok"),
    Fact("comparison:roas:google", "comparison", 0.4, "google",
         "Google clearly beats the other channels on ROAS: 2.10× (likely between 1.95× and "
         "2.26×).", {"value": 2.1012, "lo": 1.9503, "hi": 2.2588}, "Learn from Google's ROAS"),
    Fact("alert:meta:Spring sale:spend", "alert", 3412.0, "meta",
         "Meta, campaign “Spring sale”: spend jumped to $3.41M on 3 Jun 2024, against "
         "$12.3k expected.", {"observed": 3_412_000.0, "expected": 12_345.0},
         "Check Meta campaign “Spring sale”"),
]


# ---------------------------------------------------------------------------------------------
# numbers_in


@pytest.mark.parametrize("text, expected", [
    ("$1,234.56", [1234.56]),
    ("1 234,5 ₽", [1234.5]),
    ("1\u00a0234,5\u00a0₽", [1234.5]),
    ("€1.234,56 and 1,5 €", [1234.56, 1.5]),
    ("12.5%", [0.125]),
    ("+30%", [0.30]),
    ("1.2k", [1200.0]),
    ("$3.4M", [3_400_000.0]),
    ("2 million", [2_000_000.0]),
    ("2.10×", [2.1]),
    ("2.1x", [2.1]),
    ("-5", [-5.0]),
    ("a fall of −5% (−$1.5k)", [-0.05, -1500.0]),
    ("USD 1,000 or 250 RUB", [1000.0, 250.0]),
    ("on 2024-06-03", [2024.0, 6.0, 3.0]),
    ("by 3 Jun 2024 or June 4, 2024", [3.0, 2024.0, 4.0, 2024.0]),
    ("in 2025", [2025.0]),
    ("1. Move budget\n2. Cut 5 campaigns", [5.0]),
    ("5m of video, $5m of revenue", [5.0, 5_000_000.0]),
    ("from $1,520.00 to $1,976.00 (+30.00%).", [1520.0, 1976.0, 0.30]),
    ("Q3 and GPT-4, ROI3.5", [3.0, 4.0, 3.5]),
    ("no numbers here", []),
])
def test_numbers_in_reads_numbers_as_people_write_them(text: str, expected: list[float]) -> None:
    assert numbers_in(text) == pytest.approx(expected)


def test_tokens_keep_the_printed_precision() -> None:
    one_k, pct, money = tokens("1.2k, 30% and $1,520.00")
    assert one_k.half_unit == pytest.approx(50.0)
    assert pct.percent and pct.candidates() == [pytest.approx((0.30, 0.005)),
                                                pytest.approx((30.0, 0.5))]
    assert money.half_unit == pytest.approx(0.005)


# ---------------------------------------------------------------------------------------------
# grounded


@pytest.mark.parametrize("text", [
    "Move budget to TikTok: raise it from $1,520.00 to $1,976.00, a 30% increase.",
    "Raise TikTok by 30 percent (about $1.5k to $2k a day).",  # $2k is 1,976 rounded
    "TikTok returns $1.42 per extra dollar versus $0.61 on Facebook.",
    "Google's ROAS is 2.1× (1.95×-2.26×).",
    "Check Meta: spend hit $3.4M on 3 June 2024 (expected $12.3k).",
    "Check Meta: spend hit $3,412,000 on 2024-06-03, versus 12,345 expected, in 2024.",
    "1. Raise TikTok +30%.\n2. Learn from Google (2.10×).",
    "Cut nothing; spend change -30% elsewhere is not advised.",  # sign is prose's business
])
def test_grounded_accepts_the_facts_numbers_in_any_usual_printing(text: str) -> None:
    assert grounded(text, FACTS) == (True, [])


@pytest.mark.parametrize("text, offending", [
    ("Raise TikTok to $2,500.00 (+64%).", ["$2,500.00", "+64%"]),
    ("TikTok returns $1.52 per dollar.", ["$1.52"]),
    ("Spend is $1.6k a day.", ["$1.6k"]),            # 1,520 is not 1.6k
    ("Budget of $3k.", ["$3k"]),
    ("ROAS 2.5x", ["2.5x"]),
    ("Expect 42 more sales in 2025.", ["42", "2025"]),
    ("Spend jumped on 4 Jun 2024.", ["4 Jun 2024"]),
    ("Spend jumped to $3.5M.", ["$3.5M"]),
    ("A fall of -7%.", ["-7%"]),
    ("Only 0.5% of budget.", ["0.5%"]),
])
def test_grounded_names_invented_numbers(text: str, offending: list[str]) -> None:
    assert grounded(text, FACTS) == (not offending, offending)


def test_grounded_uses_the_facts_numbers_not_only_their_text() -> None:
    fact = Fact("x", "forecast", 1.0, None, "Revenue falls.", {"change": -0.1234}, "Watch")
    assert grounded("Revenue falls by 12.3%.", [fact]) == (True, [])
    assert grounded("Revenue falls by 12.34%.", [fact]) == (True, [])
    assert grounded("Revenue falls by 13%.", [fact]) == (False, ["13%"])
    spend = Fact("y", "budget", 1.0, None, "Spend moves.", {"spend": 1520.0}, "Move")
    assert grounded("About $1.5k a day.", [spend]) == (True, [])
    assert grounded("About $2k a day.", [spend]) == (False, ["$2k"])  # within 0.5k, 32 % off
    assert grounded("Nothing to add.", []) == (True, [])
    assert grounded("Add 1 more.", []) == (False, ["1"])


# ---------------------------------------------------------------------------------------------
# template writer


def test_template_writer_lists_the_facts_and_is_grounded() -> None:
    written = TemplateWriter().write(FACTS)
    assert written.source == "template" and written.model is None and written.rejected is None
    assert written.text.splitlines() == [f"- {f.text}" for f in FACTS]
    assert grounded(written.text, FACTS) == (True, [])
    assert TemplateWriter().write([]).text == NOTHING_TO_SAY


# ---------------------------------------------------------------------------------------------
# LLM writer on tiny models

WORDS = ("raise cut move budget to from daily spend each extra dollar there returns against on "
         "the and a of is by in for more less revenue advice facts write tiktok facebook google "
         "meta campaign check roas likely between clearly beats other channels expected jumped "
         "spring sale you are marketing analyst manager use only numbers given").split()
PUNCT = list(".,:;$%()+-×“”—!?'/") + ["[UNK]"]


def _save_tiny(path: Path, constant_token: str | None = None, seed: int = 0) -> Path:
    """A 1-layer GPT-2 with a word-level tokenizer (digits split one by one), saved to
    ``path``. With ``constant_token`` its weights are set so that it always predicts that
    token (final layer norm outputs a constant, only one row of the output layer is non-zero);
    otherwise they are random under ``seed``."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    vocab = ["[UNK]", "[EOS]"] + [w for w in dict.fromkeys(WORDS + PUNCT[:-1])] + \
        [str(d) for d in range(10)]
    ids = {token: i for i, token in enumerate(vocab)}
    core = Tokenizer(models.WordLevel(ids, unk_token="[UNK]"))
    core.normalizer = None
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=True)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]",
                                        eos_token="[EOS]", pad_token="[EOS]")
    tokenizer.save_pretrained(path)
    config = GPT2Config(n_layer=1, n_head=2, n_embd=32, n_positions=512, vocab_size=len(vocab),
                        initializer_range=0.3,  # at the default 0.02 it repeats one token
                        bos_token_id=ids["[EOS]"], eos_token_id=ids["[EOS]"],
                        tie_word_embeddings=constant_token is None)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    if constant_token is not None:
        with torch.no_grad():
            model.transformer.ln_f.weight.zero_()
            model.transformer.ln_f.bias.fill_(1.0)
            model.lm_head.weight.zero_()
            model.lm_head.weight[ids[constant_token]] = 1.0
    model.save_pretrained(path)
    return path


def _greedy(writer: LLMWriter, prompt: str, steps: int) -> str:
    """The argmax continuation, one token at a time, by hand."""
    import torch

    ids = writer._tokenizer(prompt, return_tensors="pt")["input_ids"]
    start = ids.shape[1]
    with torch.no_grad():
        for _ in range(steps):
            next_id = writer._lm(ids).logits[0, -1].argmax()
            ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
    return writer._tokenizer.decode(ids[0, start:], skip_special_tokens=True).strip()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(_save_tiny(tmp_path_factory.mktemp("tiny-gpt2")))


@pytest.fixture(scope="module")
def sevens(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(_save_tiny(tmp_path_factory.mktemp("sevens-gpt2"), constant_token="7"))


def test_llm_writer_loads_from_disk_and_decodes_greedily(tiny: str) -> None:
    writer = LLMWriter(tiny, max_new_tokens=12)
    assert writer.load() is None
    prompt = writer.prompt(FACTS)
    assert "Advice:" in prompt and all(f.text in prompt for f in FACTS)  # no chat template
    first = writer.generate(prompt)
    assert len(set(first.split())) > 3 and first == writer.generate(prompt)
    assert LLMWriter(tiny, max_new_tokens=12, seed=1).generate(prompt) == first
    assert first == _greedy(writer, prompt, 12)
    written = writer.write(FACTS)
    assert written == LLMWriter(tiny, max_new_tokens=12).write(FACTS)
    assert written.draft == first


def test_a_draft_with_invented_numbers_falls_back_to_the_template(sevens: str) -> None:
    written = LLMWriter(sevens, max_new_tokens=6).write(FACTS)
    assert written.draft.split() == ["7"] * 6           # the model really ran
    assert written.source == "template" and written.model == sevens
    assert written.text == TemplateWriter().write(FACTS).text
    assert written.rejected == "numbers not in the facts: 7"


def test_a_grounded_draft_is_used(tiny: str, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = LLMWriter(tiny)
    paraphrase = ("- Raise TikTok from $1.5k to $2k a day (+30%): each extra dollar there "
                  "returns $1.42.\n- Check Meta's spend spike ($3.41M on 3 Jun 2024).")
    prompts = []
    monkeypatch.setattr(writer, "generate", lambda prompt: prompts.append(prompt) or paraphrase)
    written = writer.write(FACTS)
    assert written.source == "llm" and written.rejected is None
    assert written.text == paraphrase and written.model == tiny
    assert FACTS[0].text in prompts[0]

    invented = paraphrase.replace("+30%", "+30%, about $450 more")
    monkeypatch.setattr(writer, "generate", lambda prompt: invented)
    written = writer.write(FACTS)
    assert written.source == "template" and written.draft == invented
    assert written.rejected == "numbers not in the facts: $450"


def test_generation_errors_and_degenerate_drafts_fall_back(
        tiny: str, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = LLMWriter(tiny)

    def boom(prompt: str) -> str:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(writer, "generate", boom)
    written = writer.write(FACTS)
    assert written.source == "template" and written.text == TemplateWriter().write(FACTS).text
    assert written.rejected == "generation failed: RuntimeError: out of memory"
    for draft, why in [("   ", "empty draft"),
                       ("Move budget to TikTok and check Meta.",
                        "cites none of the facts' numbers"),
                       ("TikTok +30% !", "too few words")]:
        monkeypatch.setattr(writer, "generate", lambda prompt, d=draft: d)
        assert writer.write(FACTS).rejected == why


def test_chat_template_is_used_when_the_tokenizer_has_one(tiny: str) -> None:
    writer = LLMWriter(tiny, max_new_tokens=4)
    writer.load()
    writer._tokenizer.chat_template = (
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</{{ m['role'] }}>"
        "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}")
    prompt = writer.prompt(FACTS[:1])
    assert prompt.startswith("<system>You are a marketing analyst")
    assert f"- {FACTS[0].text}" in prompt and prompt.endswith("<assistant>")
    assert writer.generate(prompt)  # runs through the chat path too


def test_missing_model_falls_back_quickly_without_network(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    writer = LLMWriter("demetra-test/missing", local_files_only=True)
    start = time.perf_counter()
    written = writer.write(FACTS)
    assert time.perf_counter() - start < 10
    assert written.source == "template" and written.text == TemplateWriter().write(FACTS).text
    assert written.rejected.startswith("demetra-test/missing is not in the local model cache")
    assert writer.write(FACTS).rejected == written.rejected  # not retried
    assert writer.write([]) == TemplateWriter().write([])   # nothing to say: no refusal

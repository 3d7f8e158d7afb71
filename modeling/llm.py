"""Facts (:mod:`modeling.recommend`) written as advice, by a local LLM or by a template.

A language model phrases advice better than a template but may invent a number, and an
invented number in a budget recommendation is worse than clumsy wording. So the model only
rewrites the facts, and its draft is checked: every number in it (amounts, percentages,
"1.2k", "$3.4M", "2.10×", years, dates) must be one of the facts' numbers, allowing the
rounding of their printed form. A draft that fails — or a model that cannot load or
generate — gives way to the template, which is correct by construction, and ``Written``
says which text was used and why.

The model runs on CPU with greedy decoding (the same facts give the same text) and one torch
thread. Nothing is downloaded unless ``local_files_only=False``: ``DEFAULT_MODEL`` must be
placed in the Hugging Face cache (or a local directory given) beforehand.
"""
from __future__ import annotations

import contextlib
import math
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from modeling.recommend import Fact

#: Qwen2.5 0.5B Instruct: ~1 GB in float32, a few seconds per paragraph on one CPU core, with
#: a chat template and instruction following good enough to rewrite a list of facts. It must
#: be in the HF cache (``huggingface-cli download Qwen/Qwen2.5-0.5B-Instruct``) beforehand.
DEFAULT_MODEL = "Qwen/Qwen2.5-0.5B-Instruct"

#: Relative tolerance for a number to match a fact's number.
REL_TOL = 0.005
#: A number printed more coarsely than the fact (e.g. "$1.5k" for 1,520) matches when the
#: fact lies within half a unit of its last digit, and within this relative distance (so
#: "$2k" is not 1,520).
ROUNDING_TOL = 0.05

#: A draft with fewer words than this is not advice (a degenerate generation).
MIN_WORDS = 5

SYSTEM_PROMPT = (
    "You are a marketing analyst writing for a busy marketing manager. Rewrite the facts "
    "below as short, plain-language advice: one bullet per fact, most important first, "
    "each starting with what to do. Use only the numbers given in the facts and copy them "
    "exactly as written; do not calculate, round, convert or add any other number, "
    "percentage or date.")


# ---------------------------------------------------------------------------------------------
# numbers as people write them

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"])}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|"
          r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?")
_DATES = [
    ("iso", re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")),
    ("dmy", re.compile(rf"(?<![\w.])(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})"
                       rf"(?:,?\s+(\d{{4}}))?(?![\w])")),
    ("mdy", re.compile(rf"(?<![\w])({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?![\d\w])"
                       rf"(?:,?\s+(\d{{4}})(?!\d))?")),
    ("numeric", re.compile(r"(?<![\d.,/])(\d{1,2})([./])(\d{1,2})\2(\d{4}|\d{2})(?![\d])")),
]
_CURRENCY = r"(?:US\$|[$€₽£]|руб\.?|р\.|USD|EUR|RUB|GBP)"
_NUMBER = re.compile(
    r"(?<![\d.,])"  # digits glued to letters count too ("ROI3.5"): better refuse than miss
    rf"(?P<pre>{_CURRENCY}\s?)?"
    r"(?P<sign>(?<![\w])[-−–+](?=[\d.$€₽£]))?"  # "GPT-4" is 4, not -4
    rf"(?P<pre2>{_CURRENCY}\s?)?"
    r"(?P<body>"
    r"\d{1,3}(?:[\u00a0\u202f\u2009]\d{3})+(?:[.,]\d+)?"                 # 1 234,5 (nbsp)
    rf"|\d{{1,3}}(?: \d{{3}})+(?:,\d+)?(?=\s?(?:{_CURRENCY}|тыс|млн))"      # 1 234,5 ₽
    r"|\d{1,3}(?:\.\d{3})+,\d+"                                          # 1.234,56
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?"                                     # 1,234.56
    r"|\d+(?:[.,]\d+)?|[.,]\d+"                                          # 12.5, 1,5, .5
    r")(?!\d)"
    r"(?P<scale>\s?(?:thousand|million|billion|тыс\.?|млн|млрд)(?![\w])"
    r"|(?:bn|mn|[kKmMbB])(?![\w]))?"
    r"(?P<unit>\s?(?:%|percent(?![\w])|per\s?cent(?![\w])|pp(?![\w]))|\s?[×x](?![\w]))?"
    rf"(?P<post>\s?{_CURRENCY})?")
_SCALES = {"k": 1e3, "thousand": 1e3, "тыс": 1e3, "тыс.": 1e3, "m": 1e6, "mn": 1e6,
           "million": 1e6, "млн": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9, "млрд": 1e9}
#: "1." or "2)" opening a line: a list marker, not a quantity.
_LIST_MARKER = re.compile(r"(?m)^(\s*)\d{1,2}[.)](?=\s)")


@dataclass(frozen=True)
class NumberToken:
    """One number found in a text: ``value`` as meant (a percentage as a fraction, "1.2k" as
    1200), ``half_unit`` half the unit of its last printed digit, in the same scale.
    ``percent`` marks "12.5%" (also compared as the printed 12.5); ``date`` is
    (year or None, month, day) for a date, whose ``value`` is then its day."""

    raw: str
    value: float
    half_unit: float
    percent: bool = False
    date: tuple[int | None, int, int] | None = None

    def candidates(self) -> list[tuple[float, float]]:
        """(value, half unit) pairs this number may stand for."""
        if self.percent:
            return [(self.value, self.half_unit), (self.value * 100, self.half_unit * 100)]
        return [(self.value, self.half_unit)]


def _parse_body(body: str) -> tuple[float, int]:
    """(value, decimals) of the digits of a number in any of the supported groupings."""
    b = re.sub(r"[\u00a0\u202f\u2009 ]", "", body)
    if "," in b and "." in b:  # the later one is the decimal mark
        if b.rfind(",") > b.rfind("."):
            b = b.replace(".", "").replace(",", ".")
        else:
            b = b.replace(",", "")
    elif "," in b:
        head, _, tail = b.rpartition(",")
        if re.fullmatch(r"\d{1,3}(?:,\d{3})*,\d{3}", b) and len(tail) == 3:
            b = b.replace(",", "")  # 1,234 — thousands
        else:
            b = head.replace(",", "") + "." + tail  # 1,5 — decimal comma
    decimals = len(b.partition(".")[2])
    return float(b), decimals


def _dates(text: str) -> list[tuple[int, int, NumberToken]]:
    found: list[tuple[int, int, NumberToken]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DATES:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            if kind == "iso":
                year, month, day = int(m[1]), int(m[2]), int(m[3])
            elif kind == "dmy":
                year, month, day = (int(m[3]) if m[3] else None), _month(m[2]), int(m[1])
            elif kind == "mdy":
                year, month, day = (int(m[3]) if m[3] else None), _month(m[1]), int(m[2])
            else:  # day.month.year (or month/day/year: compared as written, see grounded)
                year = int(m[4]) + (2000 if len(m[4]) == 2 else 0)
                month, day = int(m[3]), int(m[1])
            if not (1 <= month <= 12 and 1 <= day <= 31):
                continue
            taken.append((m.start(), m.end()))
            found.append((m.start(), m.end(),
                          NumberToken(m[0], float(day), 0.5, date=(year, month, day))))
    return found


def _month(name: str) -> int:
    return _MONTHS[name.rstrip(".").lower()]


def tokens(text: str) -> list[NumberToken]:
    """Every number in ``text``, in order, as :class:`NumberToken` (see :func:`numbers_in`)."""
    dates = _dates(text)
    masked = list(text)
    for start, end, _ in dates:
        masked[start:end] = " " * (end - start)
    plain = _LIST_MARKER.sub(lambda m: m[1] + " " * (len(m[0]) - len(m[1])), "".join(masked))
    found = [(start, tok) for start, _, tok in dates]
    for m in _NUMBER.finditer(plain):
        value, decimals = _parse_body(m["body"])
        half = 0.5 * 10.0 ** -decimals
        scale_word = (m["scale"] or "").strip()
        currency = bool(m["pre"] or m["pre2"] or m["post"])
        if scale_word in ("m", "b") and not currency:
            scale_word = ""  # "5m" may be minutes or metres; "$5m" and "5M" are millions
        scale = _SCALES.get(scale_word.lower(), 1.0)
        value, half = value * scale, half * scale
        if m["sign"] and m["sign"] != "+":
            value = -value
        unit = (m["unit"] or "").strip().lower()
        percent = unit == "%" or unit == "pp" or unit.startswith("per")
        if percent:
            value, half = value / 100, half / 100
        if (not currency and not scale_word and not unit and not m["sign"]
                and re.fullmatch(r"\d{4}", m["body"]) and 1900 <= value <= 2100):
            half = 0.0  # a year: only the same year will do (2025 is not "2024 rounded")
        found.append((m.start(), NumberToken(m[0].strip(), value, half, percent=percent)))
    return [tok for _, tok in sorted(found, key=lambda item: item[0])]


def numbers_in(text: str) -> list[float]:
    """The numbers of ``text`` as people write them, in order.

    Understands currency symbols and codes before or after ($, €, ₽, £, руб., USD...),
    thousands separators ("1,234.56", "1.234,56", "1 234,5 ₽" with a (narrow) no-break
    space, or a plain space when a currency follows), signs ("-5", "−5", "+30%"), scale
    suffixes ("1.2k", "$3.4M", "2 million", "1.5 млн"), multiples ("2.10×", "2.1x") and
    percentages, which are returned as fractions ("12.5%" → 0.125). Dates ("2024-06-03",
    "3 Jun 2024", "June 3, 2024", "03.06.2024") are read whole, as their day and year (no
    "-6" out of "2024-06-03"); a bare year is a number like any other. Digits glued to
    letters count ("Q3", "ROI3.5" → 3, 3.5): for grounding a false alarm only costs the
    template, a missed number costs trust. A one- or two-digit number followed by "." or
    ")" at the start of a line is a list marker and skipped.
    """
    out: list[float] = []
    for tok in tokens(text):
        if tok.date is not None:  # its numbers as written: [2024, 6, 3] or [3, 2024]
            out.extend(float(d) for d in re.findall(r"\d+", tok.raw))
        else:
            out.append(tok.value)
    return out


def _matches(value: float, half_unit: float, target: float) -> bool:
    """Does a printed number stand for ``target``? Signs are ignored: prose gives direction
    in words ("cut by 20%" for a change of -0.2). A year (half unit 0) must be exact."""
    x, t = abs(value), abs(target)
    d = abs(x - t)
    if d <= 1e-9 * max(x, t, 1.0):
        return True
    if half_unit == 0.0:
        return False
    if d <= REL_TOL * max(x, t):
        return True
    return d <= half_unit * (1 + 1e-9) and d <= ROUNDING_TOL * t


def grounded(text: str, facts: Sequence[Fact]) -> tuple[bool, list[str]]:
    """Whether every number of ``text`` is one of the facts' numbers; and the ones that are not.

    A number matches when, ignoring its sign, it is within ``REL_TOL`` (0.5 %) of a fact's
    number, or, when printed more coarsely, the fact lies within half a unit of its last
    digit and within ``ROUNDING_TOL`` (5 %) ("$1.5k" for 1,520; not "$2k"). The facts'
    numbers are their ``numbers`` values plus the numbers of their own sentences as printed
    (so "$0.00" printed for 0.004 may be copied). A percentage matches as a fraction or as
    the printed number (0.30 or 30 for "30%"). Dates must be dates of the facts' sentences
    (same day and month, and year when both give one); a year alone must appear in the
    facts like any number, and exactly (a bare four-digit number from 1900 to 2100 is read
    as a year: 2025 is not 2024 rounded).
    """
    allowed: list[tuple[float, float]] = []
    fact_dates: list[tuple[int | None, int, int]] = []
    fact_raw: list[str] = []
    for fact in facts:
        allowed.extend((float(v), 0.0) for v in fact.numbers.values()
                       if v is not None and math.isfinite(float(v)))
        fact_raw.append(fact.text)
        for tok in tokens(fact.text):
            if tok.date is not None:
                fact_dates.append(tok.date)
                if tok.date[0] is not None:
                    allowed.append((float(tok.date[0]), 0.0))
            else:
                allowed.extend(tok.candidates())
    offending = []
    for tok in tokens(text):
        if tok.date is not None:
            ok = any(_same_date(tok.date, d) for d in fact_dates) or any(
                tok.raw in raw for raw in fact_raw)
        else:
            ok = any(_matches(v, half, target)
                     for v, half in tok.candidates() for target, _ in allowed)
        if not ok:
            offending.append(tok.raw)
    return not offending, offending


def _same_date(a: tuple[int | None, int, int], b: tuple[int | None, int, int]) -> bool:
    return a[1:] == b[1:] and (a[0] is None or b[0] is None or a[0] == b[0])


# ---------------------------------------------------------------------------------------------
# writers


@dataclass(frozen=True)
class Written:
    """Advice text and where it came from: ``source`` "llm" or "template", the model's name
    (None for the template), why an LLM draft was refused (None when it was not), and the
    refused or accepted draft itself for the logs."""

    text: str
    source: Literal["llm", "template"]
    model: str | None = None
    rejected: str | None = None
    draft: str | None = None


class Writer(Protocol):
    def write(self, facts: list[Fact]) -> Written: ...


NOTHING_TO_SAY = "Nothing needs your attention: no significant change was found."


class TemplateWriter:
    """The facts' own sentences as a bulleted list, in the given order: always correct, and
    the fallback of :class:`LLMWriter`."""

    def write(self, facts: list[Fact]) -> Written:
        if not facts:
            return Written(NOTHING_TO_SAY, "template")
        return Written("\n".join(f"- {fact.text}" for fact in facts), "template")


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class LLMWriter:
    """Facts rewritten by a causal LM from transformers, checked by :func:`grounded`.

    ``model`` is a hub name (resolved in the local HF cache) or a directory. The tokenizer and
    model load on the first ``write`` and stay with the writer (a load failure too: it is not
    retried). Decoding is greedy, under ``seed``, on one torch thread; one generation at a
    time per writer. ``write`` never raises: any failure returns the template's text with
    ``rejected`` saying why. Besides :func:`grounded`, a draft must cite at least one of the
    facts' numbers (when they have any) and have ``MIN_WORDS`` words: numberless or
    degenerate output is no better advice than the template.
    """

    def __init__(self, model: str = DEFAULT_MODEL, max_new_tokens: int = 200,
                 local_files_only: bool = True, seed: int = 0) -> None:
        self.model = model
        self.max_new_tokens = max_new_tokens
        self.local_files_only = local_files_only
        self.seed = seed
        self._tokenizer = None
        self._lm = None
        self._load_error: str | None = None
        self._lock = threading.Lock()
        self._fallback = TemplateWriter()

    # -- loading and generation ---------------------------------------------------------------

    def load(self) -> str | None:
        """Load tokenizer and model once; the error message when they cannot be loaded."""
        if self._lm is not None or self._load_error is not None:
            return self._load_error
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            with _one_thread():
                tokenizer = AutoTokenizer.from_pretrained(
                    self.model, local_files_only=self.local_files_only)
                lm = AutoModelForCausalLM.from_pretrained(
                    self.model, local_files_only=self.local_files_only, dtype=torch.float32)
            lm.to("cpu").eval()
            self._tokenizer, self._lm = tokenizer, lm
        except OSError:  # what transformers raises for a model that is not on disk
            self._load_error = (f"{self.model} is not in the local model cache; download it once "
                                "into the Hugging Face cache (huggingface-cli download)")
        except Exception as exc:  # noqa: BLE001 — any failure means: use the template
            first_line = str(exc).splitlines()[0] if str(exc) else ""
            self._load_error = f"could not load {self.model}: {type(exc).__name__}: {first_line}"
        return self._load_error

    def prompt(self, facts: Sequence[Fact]) -> str:
        """The instruction and the facts, in the tokenizer's chat template when it has one."""
        listing = "\n".join(f"- {fact.text}" for fact in facts)
        user = f"Facts:\n{listing}\n\nWrite the advice."
        tokenizer = self._tokenizer
        if tokenizer is not None and getattr(tokenizer, "chat_template", None):
            messages = [{"role": "system", "content": SYSTEM_PROMPT},
                        {"role": "user", "content": user}]
            return tokenizer.apply_chat_template(messages, tokenize=False,
                                                 add_generation_prompt=True)
        return f"{SYSTEM_PROMPT}\n\nFacts:\n{listing}\n\nAdvice:\n"

    def generate(self, prompt: str) -> str:
        """The model's greedy continuation of ``prompt`` (new tokens only, special tokens
        dropped); loads the model first if needed, raising when it cannot."""
        import torch

        error = self.load()
        if error:
            raise RuntimeError(error)
        tokenizer, lm = self._tokenizer, self._lm
        chat = bool(getattr(tokenizer, "chat_template", None))
        encoded = tokenizer(prompt, return_tensors="pt", add_special_tokens=not chat)
        inputs = {k: encoded[k] for k in ("input_ids", "attention_mask") if k in encoded}
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
            else tokenizer.eos_token_id
        with self._lock, _one_thread(), torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(self.seed)
            out = lm.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False,
                              num_beams=1, pad_token_id=pad)
        new = out[0, inputs["input_ids"].shape[1]:]
        return tokenizer.decode(new, skip_special_tokens=True).strip()

    # -- the Writer protocol ------------------------------------------------------------------

    def _refuse(self, facts: list[Fact], why: str, draft: str | None = None) -> Written:
        return Written(self._fallback.write(facts).text, "template", self.model, why, draft)

    def write(self, facts: list[Fact]) -> Written:
        if not facts:
            return self._fallback.write(facts)
        error = self.load()
        if error:
            return self._refuse(facts, error)
        try:
            draft = self.generate(self.prompt(facts))
        except Exception as exc:  # noqa: BLE001
            return self._refuse(facts, f"generation failed: {type(exc).__name__}: {exc}")
        if not draft.strip():
            return self._refuse(facts, "empty draft", draft)
        ok, offending = grounded(draft, facts)
        if not ok:
            shown = ", ".join(dict.fromkeys(offending))
            return self._refuse(facts, f"numbers not in the facts: {shown}", draft)
        if not tokens(draft) and any(fact.numbers for fact in facts):
            return self._refuse(facts, "cites none of the facts' numbers", draft)
        if len(re.findall(r"[^\W\d_]{2,}", draft)) < MIN_WORDS:
            return self._refuse(facts, "too few words", draft)
        return Written(draft, "llm", self.model, None, draft)

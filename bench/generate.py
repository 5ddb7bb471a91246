"""Generate a synthetic bilingual research base for benchmarks.

    python bench/generate.py OUT_DIR --interviews 10000 [--turns 150] [--seed 0]

Half the interviews are Russian, half English; each has ~``turns`` alternating turns, a few highlighted quotes
coded with pains, tags and hypotheses, 1–2 segments and usually an NPS score. Deterministic for a seed.

Text statistics follow natural language rather than a bag of topic words: about a third of the words are function
words, one in eight is a domain word (invoice, оплата, …: each then appears in a few percent of all turns, as the
commonest topic words of a real billing study would), the rest come from a 20,000-word vocabulary of invented
words drawn with a Zipf distribution (s = 1.1).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

SEGMENTS = ["smb-owners", "finance-teams", "agencies", "freelancers", "ecommerce"]
PAINS = [
    ("manual-reconciliation", "billing"), ("late-payments", "billing"), ("invoice-errors", "invoicing"),
    ("slow-reporting", "reporting"), ("export-limits", "reporting"), ("bank-sync", "integrations"),
    ("onboarding-confusion", "onboarding"), ("pricing-opacity", "pricing"), ("support-wait", "support"),
    ("multi-currency", "billing"), ("tax-rules", "invoicing"), ("permissions", "onboarding"),
]
HYPOTHESES = ["pay-for-reconciliation", "self-serve-onboarding", "accountant-channel"]
TAGS = ["value", "billing/invoices", "integrations/1c", "reporting/export", "workaround", "money", "time"]

RU_WORDS = (
    "счёт счета счетов оплата оплаты оплатой клиент клиенты клиентов отчёт отчёты отчётов банк банка выписка "
    "выписки сверка сверку вручную таблица таблицы Excel бухгалтер бухгалтера бухгалтерия месяц каждый неделю "
    "проблема проблемы проблемой долго быстро ошибка ошибки ошибок интеграция интеграции 1С налог налоги деньги "
    "время команда команды менеджер директор договор договоры платёж платежи платежей задержка задержки "
    "поддержка поддержку тариф тарифы цена цены удобно неудобно приходится тратим часов дней отправляем получаем"
).split()
EN_WORDS = (
    "invoice invoices invoicing payment payments paid customer customers client clients report reports reporting "
    "bank statement statements reconcile reconciliation manually spreadsheet spreadsheets Excel accountant "
    "bookkeeper month every week problem problems issue issues slow fast error errors integration integrations "
    "tax taxes money time team manager director contract contracts delay delays support pricing price plan "
    "convenient annoying we have to spend hours days send receive chase follow up late overdue export"
).split()
RU_FUNCTION = "и в не что на я с как а то все так но да у же вы за бы по только мне было вот от меня еще нет о из мы это они".split()
EN_FUNCTION = "the and to of a in that it is was we i for on you with as have be at this but they not are so our".split()
_SYLLABLES_RU = "ба ве ги до ку ла ме ни по ра си ту фа хо це чи ша ще ю ян ор ин ал ек ус им от".split()
_SYLLABLES_EN = "ba ce di fo gu ka le mi no pu ra se ti vo wu ex an or in el um st tr pl gr".split()


def _vocabulary(syllables: list[str], size: int, rnd: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rnd.choice(syllables) for _ in range(rnd.randint(2, 4))))
    ordered = sorted(words)
    rnd.shuffle(ordered)  # Zipf rank must not follow the alphabet
    return ordered


_VOCAB_RNG = random.Random(12345)
RU_FILLER = _vocabulary(_SYLLABLES_RU, 20000, _VOCAB_RNG)
EN_FILLER = _vocabulary(_SYLLABLES_EN, 20000, _VOCAB_RNG)
_ZIPF = [1 / (rank ** 1.1) for rank in range(1, 20001)]
_ZIPF_CUM = list(__import__("itertools").accumulate(_ZIPF))


def _sentence(rnd: random.Random, ru: bool, n_words: int) -> str:
    function, domain, filler = (RU_FUNCTION, RU_WORDS, RU_FILLER) if ru else (EN_FUNCTION, EN_WORDS, EN_FILLER)
    out = []
    picks = rnd.choices(filler, cum_weights=_ZIPF_CUM, k=n_words)
    for n in range(n_words):
        r = rnd.random()
        if r < 0.35:
            out.append(rnd.choice(function))
        elif r < 0.475:
            out.append(rnd.choice(domain))
        else:
            out.append(picks[n])
    return " ".join(out)


RU_NAMES = [("Мария", "Анна Петрова"), ("Ольга", "Игорь Смирнов"), ("Мария", "Елена Козлова"), ("Дмитрий", "Сергей Волков")]
EN_NAMES = [("Kate", "John Miller"), ("Kate", "Sarah Chen"), ("Tom", "Priya Patel"), ("Tom", "Lucas Brown")]


STAGES = ["onboarding", "invoicing", "billing", "reporting", "integrations", "pricing", "support"]


def codebook_yaml() -> str:
    lines = ['currency: "$"', f"stages: [{', '.join(STAGES)}]", "segments:"]
    for n, s in enumerate(SEGMENTS):
        lines += [f"  - slug: {s}", f"    title: {s.replace('-', ' ').title()}", f"    size: {1000 * (n + 1)}", f"    revenue: {2_000_000 + 500_000 * n}"]
    lines.append("pains:")
    for p, stage in PAINS:
        lines += [f"  - slug: {p}", f"    title: {p.replace('-', ' ').capitalize()}", f"    stage: {stage}"]
    lines.append("hypotheses:")
    for h in HYPOTHESES:
        lines += [f"  - slug: {h}", f"    title: {h.replace('-', ' ').capitalize()}"]
    return "\n".join(lines) + "\n"


def interview_text(n: int, turns: int, rnd: random.Random) -> str:
    ru = n % 2 == 0
    interviewer, respondent = rnd.choice(RU_NAMES if ru else EN_NAMES)
    resp_first = respondent.split()[0]
    segs = rnd.sample(SEGMENTS, rnd.choice((1, 1, 1, 2)))
    nps = rnd.randint(0, 10) if rnd.random() < 0.85 else None
    month, day = rnd.randint(1, 12), rnd.randint(1, 28)
    front = [
        "---",
        f"id: gen-{n:05d}",
        f"title: Interview {n}",
        f"date: 2025-{month:02d}-{day:02d}",
        f"interviewer: {interviewer}",
        f"respondent: {respondent}",
        f"company: Company {n % 997}",
        f"role: {'Финансовый директор' if ru else 'Finance lead'}",
        f"segments: [{', '.join(segs)}]",
    ]
    if nps is not None:
        front.append(f"nps: {nps}")
    side = random.Random(n)  # touchpoint scores from their own stream, so the rest of the text stays as it was
    if side.random() < 0.5:
        scores = {s: side.randint(0, 10) for s in side.sample(STAGES, 2)}
        front.append("nps_by_stage: {" + ", ".join(f"{k}: {v}" for k, v in scores.items()) + "}")
    front += [f"language: {'ru' if ru else 'en'}", "---", ""]
    out = front
    t = 0
    quote_turns = set(rnd.sample(range(1, turns, 2), min(6, turns // 2)))
    for k in range(turns):
        t += rnd.randint(4, 30)
        speaker = interviewer if k % 2 == 0 else resp_first
        body = _sentence(rnd, ru, rnd.randint(8, 30))
        if k in quote_turns:
            cut = body.split()
            a = rnd.randint(0, max(0, len(cut) - 6))
            quoted = " ".join(cut[a : a + 6])
            codes = [f"#pain/{rnd.choice(PAINS)[0]}"]
            if rnd.random() < 0.5:
                codes.append(f"#{rnd.choice(TAGS)}")
            if rnd.random() < 0.2:
                codes.append(f"#h/{rnd.choice(HYPOTHESES)}" + ("/against" if rnd.random() < 0.3 else ""))
            body = " ".join(cut[:a]) + f" =={quoted}== " + " ".join(cut[a + 6 :]) + " " + " ".join(codes)
        out.append(f"**[{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}] {speaker}:** {body.strip()}")
        out.append("")
    return "\n".join(out)


def generate_base(root: Path, n_interviews: int, turns: int = 150, seed: int = 0) -> Path:
    """Write a base with ``n_interviews`` synthetic interviews into ``root``; returns ``root``."""
    root = Path(root)
    (root / "interviews").mkdir(parents=True, exist_ok=True)
    (root / "custdev.toml").write_text('[base]\ntitle = "Synthetic benchmark base"\nlanguage = "en"\n', encoding="utf-8")
    (root / "codebook.yml").write_text(codebook_yaml(), encoding="utf-8")
    rnd = random.Random(seed)
    for n in range(1, n_interviews + 1):
        (root / "interviews" / f"gen-{n:05d}.md").write_text(interview_text(n, turns, rnd), encoding="utf-8")
    return root


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--interviews", type=int, default=1000)
    ap.add_argument("--turns", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    generate_base(args.out, args.interviews, args.turns, args.seed)
    print(f"wrote {args.interviews} interviews to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

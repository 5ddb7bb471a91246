"""Writes tests/data/ner/{ru,en}.jsonl: the named-entity test sets (run once; the files are committed).

Each line is {"text": ..., "names": [surface forms of people's names in the text]}. Sentences come from templates
written by hand, with names in every grammatical case (Russian forms inflected by pymorphy3), at the start, middle
and end of a sentence, alone, as first name + surname, first name + patronymic, surname only, in lower case, and
sentences with no name at all but with capitalised look-alikes (cities, tools, months, sentence starts)."""

from __future__ import annotations

import json
from pathlib import Path

import pymorphy3

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "ner"
M = pymorphy3.MorphAnalyzer()

RU_PEOPLE = [
    ("Светлана", "Орлова", "femn"), ("Игорь", "Смирнов", "masc"), ("Ольга", "Кузнецова", "femn"), ("Дмитрий", "Волков", "masc"),
    ("Екатерина", "Соколова", "femn"), ("Алексей", "Морозов", "masc"), ("Наталья", "Лебедева", "femn"), ("Сергей", "Козлов", "masc"),
    ("Ирина", "Новикова", "femn"), ("Андрей", "Фёдоров", "masc"), ("Татьяна", "Васильева", "femn"), ("Михаил", "Павлов", "masc"),
    ("Юлия", "Семёнова", "femn"), ("Павел", "Голубев", "masc"), ("Марина", "Виноградова", "femn"), ("Николай", "Богданов", "masc"),
    ("Анастасия", "Ростова", "femn"), ("Владимир", "Зайцев", "masc"), ("Елена", "Белова", "femn"), ("Артём", "Ковалёв", "masc"),
]
PATR = {"masc": ["Петрович", "Иванович", "Сергеевич"], "femn": ["Андреевна", "Викторовна", "Олеговна"]}

# {X:case} is a full name (first + surname), {F:case} a first name, {S:case} a surname, {FP:case} first + patronymic.
RU_TEMPLATES = [
    "{X:nomn} отвечает у нас за все счета.", "Вчера я созвонилась с {X:ablt}, и она всё подтвердила.",
    "Документы мы отправили {F:datv} ещё в понедельник.", "Без {S:gent} ни один платёж не проходит.",
    "Спросите об этом {FP:accs}, он лучше знает.", "Мы долго говорили о {X:loct} на планёрке.",
    "Счета раньше вёл {X:nomn}, но он уволился.", "Поставщик прислал акт, а {F:nomn} его потеряла.",
    "Я переслала письмо {S:datv} из бухгалтерии.", "Отчёт готовит {FP:nomn}, обычно к пятнице.",
    "У {F:gent} есть таблица со всеми должниками.", "Мы ждём ответа от {X:gent} уже две недели.",
    "Это придумал {S:nomn}, когда мы переходили на новую систему.", "Передайте {FP:datv}, что сверка готова.",
    "Клиенты звонят прямо {F:datv} на мобильный.", "Я доверяю {X:datv} больше, чем банку.",
    "По словам {X:gent}, половина клиентов платит поздно.", "Напоминания рассылает {F:nomn} вручную.",
    "Мы с {F:ablt} сверяем выписку каждый вечер.", "Договор подписывал {X:nomn} от имени фирмы.",
    "Вопросы по оплате решает {S:nomn}.", "Мне посоветовала этот сервис {X:nomn}.",
    "Когда {F:nomn} в отпуске, счета никто не выставляет.", "Про {X:accs} я уже рассказывала.",
    "Бухгалтер {X:nomn} работает у нас на полставки.", "Всё упирается в {F:accs}: только у неё есть доступ.",
    "Я позвонила {FP:datv}, но он не взял трубку.", "Старую программу настраивал {S:nomn} лет пять назад.",
    "Задержки с оплатой — больная тема для {X:gent}.", "{F:nomn}, наш менеджер, ведёт всех оптовиков.",
    "Спасибо, {FP:nomn}, это было полезно.", "Думаю, {S:nomn} согласится на пилот.",
    "Отчёты смотрит только {X:nomn}, остальным некогда.", "Мы с {X:ablt} познакомились на выставке.",
    "Я бы показала это {F:datv} из отдела продаж.", "Новую версию тестировала {X:nomn}.",
    "вчера {x:ablt} обсуждали просрочки", "напишите {f:datv}, она ответит",
    "Если честно, {F:nomn} — единственная, кто понимает эти выписки.", "Счёт выставили на имя {X:gent}.",
]
RU_NEGATIVE = [
    "Каждый месяц мы вручную сверяем счета с выпиской банка.", "Клиенты платят с опозданием на две-три недели.",
    "В Москве и Казани у нас два склада.", "Мы пользуемся Excel и 1С, иногда Google Таблицами.",
    "Вера в продукт у команды есть, а денег нет.", "Роман с этим поставщиком закончился плохо.",
    "Надежда только на автоматические напоминания.", "В понедельник приходит выписка из Сбербанка.",
    "Любовь к таблицам у нас в крови.", "Самое сложное — закрытие месяца в декабре.",
    "Оптовики платят через месяц, а розница сразу.", "Пишите в Телеграм, там быстрее.",
    "Новый сервис стоит дороже, чем мы думали.", "Половина времени уходит на сверку.",
    "Директор требует отчёт каждую неделю.", "Мы открыли точку в Санкт-Петербурге весной.",
    "Бухгалтерия на аутсорсе, это удобно.", "Ошибки в счетах случаются раз в месяц.",
    "Интервьюер спросил про цены, респондент ответил честно.", "Сначала кажется, что всё просто.",
    "Лев Толстой тут ни при чём, это название кофейни.", "Слава богу, налоговая не приходила.",
    "Поля в форме заполняются автоматически.", "Май и июнь — самые тяжёлые месяцы.",
    "Мила из соседнего офиса не в счёт, это шутка.",
]
EN_PEOPLE = [
    ("Sarah", "Mitchell"), ("James", "Carter"), ("Priya", "Nair"), ("Tom", "Becker"), ("Lucy", "Morgan"), ("Daniel", "Okafor"),
    ("Emily", "Watson"), ("Michael", "Brennan"), ("Olivia", "Hughes"), ("David", "Kowalski"), ("Hannah", "Price"),
    ("Robert", "Lindqvist"), ("Grace", "Whitfield"), ("Ahmed", "Rahman"), ("Chloe", "Dubois"), ("Marcus", "Greene"),
    ("Sofia", "Romano"), ("Kevin", "O'Neill"), ("Laura", "Jensen"), ("Peter", "Novak"),
]
EN_TEMPLATES = [
    "{X} handles all of our invoices.", "I spoke with {X} yesterday and she confirmed it.", "We sent the documents to {F} on Monday.",
    "Nothing gets paid without {S} signing off.", "Ask {F} about it, he knows better.", "We talked about {X} at the stand-up.",
    "{X} used to do the books, but he left.", "The supplier sent a statement and {F} lost it.", "I forwarded the e-mail to {S} in accounts.",
    "Mr. {S} prepares the report, usually by Friday.", "{F} has a spreadsheet with every late payer.", "We have been waiting for {X} for two weeks.",
    "{S} came up with it when we moved to the new system.", "Tell {F} the reconciliation is done.", "Customers call {F} directly on her mobile.",
    "I trust {X} more than the bank.", "According to {X}, half of the clients pay late.", "{F} sends the reminders by hand.",
    "{F} and I check the statement every evening.", "{X} signed the contract for the company.", "Payment questions go to Ms. {S}.",
    "{X} recommended this tool to me.", "When {F} is on holiday, nobody sends invoices.", "I already told you about {X}.",
    "Our bookkeeper, {X}, works part-time.", "Everything depends on {F}: only she has access.", "I called {X}, but he didn't pick up.",
    "{S} set up the old software five years ago.", "Late payments are a sore point for {X}.", "{F}, our account manager, looks after the wholesale clients.",
    "Thanks, {F}, that was useful.", "I think {S} will agree to a pilot.", "Only {X} reads the reports; nobody else has time.",
    "{X} and I met at a trade fair.", "I would show this to {F} from sales.", "{X} tested the new version.",
    "yesterday {x} and i went through the overdue list", "email {f}, she will answer", "Honestly, {F} is the only one who understands these statements.",
    "The invoice was made out to {X}.",
]
EN_NEGATIVE = [
    "Every month we reconcile invoices against the bank statement by hand.", "Customers pay two or three weeks late.",
    "We have warehouses in London and Manchester.", "We use Excel and QuickBooks, sometimes Google Sheets.",
    "Will this save us time? Probably.", "Mark the invoice as paid when the money arrives.", "Grace periods are thirty days.",
    "In May and June we are busiest.", "The bank sends a statement on Monday.", "Hope is not a strategy for cash flow.",
    "The director wants a report every week.", "Half of our time goes on reconciliation.", "We opened a shop in Bristol in spring.",
    "The accounting is outsourced, which is convenient.", "Mistakes in invoices happen once a month.",
    "The interviewer asked about prices and the respondent answered honestly.", "At first it looks simple.",
    "Frank feedback from clients helped us.", "Summer is quiet, December is chaos.", "Our Slack channel is where invoices get approved.",
    "The Stripe payout arrives on Thursday.", "Brexit made shipping to France slower.", "Amazon fees went up again this year.",
    "Rose-coloured forecasts never come true.", "The new pricing page went live in April.",
]


def inflect(word: str, case: str, gender: str) -> str:
    parses = [p for p in M.parse(word) if {"Name", "Surn", "Patr"} & set(str(p.tag).replace(" ", ",").split(","))] or M.parse(word)
    p = next((p for p in parses if p.tag.gender == gender or "ms-f" in str(p.tag)), parses[0])
    form = p.inflect({case, "sing"}) if case != "nomn" else p
    out = (form or p).word
    return out[:1].upper() + out[1:] if word[:1].isupper() else out


def ru_sentences() -> list[dict]:
    rows = []
    for rep in range(3):
        for n, t in enumerate(RU_TEMPLATES):
            first, last, g = RU_PEOPLE[(n + rep * 7) % len(RU_PEOPLE)]
            if rep == 2 and n % 3:
                continue
            names: list[str] = []

            def fill(kind: str, case: str) -> str:
                lower = kind.islower()
                k = kind.upper()
                if k == "X":
                    s = f"{inflect(first, case, g)} {inflect(last, case, g)}"
                elif k == "F":
                    s = inflect(first, case, g)
                elif k == "S":
                    s = inflect(last, case, g)
                else:
                    patr = PATR[g][n % 3]
                    s = f"{inflect(first, case, g)} {inflect(patr, case, g)}"
                s = s.lower() if lower else s
                names.append(s)
                return s

            import re

            text = re.sub(r"\{(\w+):(\w+)\}", lambda m: fill(m.group(1), m.group(2)), t)
            text = text[:1].upper() + text[1:] if not t[0].islower() else text
            rows.append({"text": text, "names": names})
    rows += [{"text": t, "names": []} for t in RU_NEGATIVE]
    return rows


def en_sentences() -> list[dict]:
    rows = []
    for rep in range(3):
        for n, t in enumerate(EN_TEMPLATES):
            first, last = EN_PEOPLE[(n + rep * 7) % len(EN_PEOPLE)]
            if rep == 2 and n % 3:
                continue
            names = []
            values = {"X": f"{first} {last}", "F": first, "S": last, "x": f"{first} {last}".lower(), "f": first.lower()}
            text = t
            for key, value in values.items():
                if "{" + key + "}" in text:
                    text = text.replace("{" + key + "}", value)
                    names.append(value)
            rows.append({"text": text, "names": names})
    rows += [{"text": t, "names": []} for t in EN_NEGATIVE]
    return rows


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for lang, rows in (("ru", ru_sentences()), ("en", en_sentences())):
        path = OUT / f"{lang}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"{path}: {len(rows)} sentences, {sum(1 for r in rows if r['names'])} with names")


if __name__ == "__main__":
    main()

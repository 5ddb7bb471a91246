"""Every form a known person's name takes in text: Russian inflection (pymorphy3), diminutives (Света, Светочке),
transliteration both ways (Svetlana Orlova ↔ Светлана Орлова, Orlovoy, Orlovoj), and the handles and e-mail
local parts made of it (svetlana_orlova, sorlova). All forms are normalised: lower case, ё→е."""

from __future__ import annotations

import re
from functools import lru_cache

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
WORD = re.compile(r"[^\W_]+", re.UNICODE)  # words; "client_petrova" is two

# Generic speaker labels (and #14's placeholders such as "Respondent 3", "Speaker 1"): labels, not people.
LABEL = re.compile(
    r"^(?:respondent|interviewer|speaker|participant|moderator|host|guest|customer|client|unknown|"
    r"респондент|интервьюер|спикер|говорящий|участник|модератор|ведущий|гость|клиент|собеседник)(?:\s*\d+)?$",
    re.IGNORECASE,
)

# Common Russian first names and their diminutives (each is inflected again by pymorphy3).
RU_DIMINUTIVES: dict[str, tuple[str, ...]] = {
    "александр": ("саша", "сашенька", "шура", "саня", "алекс"), "александра": ("саша", "сашенька", "шура", "саня"),
    "алексей": ("леша", "лешка", "алеша", "лёша"), "анастасия": ("настя", "настенька", "ася"),
    "анатолий": ("толя", "толик"), "андрей": ("андрюша", "андрюха"), "анна": ("аня", "анечка", "анюта", "нюра", "аннушка"),
    "антон": ("антоша", "тоша"), "борис": ("боря",), "вадим": ("вадик",), "валентина": ("валя",), "валерий": ("валера",),
    "василий": ("вася",), "вера": ("верочка",), "виктор": ("витя",), "виктория": ("вика",), "владимир": ("вова", "володя"),
    "владислав": ("влад", "слава"), "вячеслав": ("слава",), "галина": ("галя",), "геннадий": ("гена",), "георгий": ("жора", "гоша"),
    "григорий": ("гриша",), "дарья": ("даша", "дашенька"), "денис": ("дэн",), "дмитрий": ("дима", "митя", "димочка"),
    "евгений": ("женя",), "евгения": ("женя",), "екатерина": ("катя", "катенька", "катюша"), "елена": ("лена", "леночка"),
    "елизавета": ("лиза",), "иван": ("ваня", "ванечка"), "игорь": ("игорек", "гоша"), "илья": ("илюша",), "ирина": ("ира", "ирочка"),
    "кирилл": ("кирюша",), "константин": ("костя",), "ксения": ("ксюша",), "лариса": ("лара",), "людмила": ("люда", "мила"),
    "максим": ("макс",), "марина": ("мариночка",), "мария": ("маша", "машенька", "маня"), "михаил": ("миша", "мишенька"),
    "надежда": ("надя",), "наталья": ("наташа",), "наталия": ("наташа",), "николай": ("коля",), "нина": ("ниночка",),
    "оксана": ("ксана",), "олег": ("олежка",), "ольга": ("оля", "оленька"), "павел": ("паша",), "петр": ("петя",),
    "полина": ("поля",), "роман": ("рома",), "светлана": ("света", "светочка", "светик", "лана"), "сергей": ("сережа", "серега"),
    "софия": ("соня",), "софья": ("соня",), "станислав": ("стас",), "степан": ("степа",), "татьяна": ("таня", "танечка"),
    "тимофей": ("тима",), "федор": ("федя",), "юлия": ("юля",), "юрий": ("юра",), "ярослав": ("слава",),
}
EN_DIMINUTIVES: dict[str, tuple[str, ...]] = {
    "alexander": ("alex", "sasha"), "andrew": ("andy", "drew"), "anthony": ("tony",), "benjamin": ("ben",), "catherine": ("kate", "cathy"),
    "charles": ("charlie", "chuck"), "christopher": ("chris",), "daniel": ("dan", "danny"), "david": ("dave",), "edward": ("ed", "eddie", "ted"),
    "elizabeth": ("liz", "beth", "lizzie", "betty"), "james": ("jim", "jimmy", "jamie"), "jennifer": ("jen", "jenny"), "john": ("johnny", "jack"),
    "jonathan": ("jon",), "joseph": ("joe", "joey"), "katherine": ("kate", "kathy", "katie"), "kathryn": ("kate", "katie"), "margaret": ("maggie", "meg", "peggy"),
    "matthew": ("matt",), "michael": ("mike", "mikey"), "nicholas": ("nick",), "patricia": ("pat", "patty", "trish"), "peter": ("pete",),
    "rebecca": ("becky", "becca"), "richard": ("rick", "rich", "dick"), "robert": ("rob", "bob", "bobby", "robbie"), "samuel": ("sam",),
    "samantha": ("sam",), "stephen": ("steve",), "steven": ("steve",), "susan": ("sue", "susie"), "thomas": ("tom", "tommy"),
    "timothy": ("tim",), "victoria": ("vicky", "tori"), "william": ("will", "bill", "billy", "liam"), "priya": (), "lucy": ("lu",),
}
# Latin names that are also everyday English words: matched only when capitalised.
EN_COMMON_WORDS = frozenset(
    "will bill mark rose grace hope faith joy pat sue art jack frank may june april summer dawn rob sandy penny ray don "
    "bud guy chuck drew miles lane page hunter carter mason baker cook smith ward bell hill wood young king green white "
    "brown black gray grey long rich rick nick dick tim tom sam ben dan max sky river ash jay kit lu stone love west north".split()
)
# Russian words that are both a name and a common word: matched only when capitalised.
RU_COMMON_WORDS = frozenset("вера надежда любовь роза лев мила слава лана ася макс поля роман соня".split())

_RU2LAT = [
    {"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i", "й": "y", "к": "k",
     "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
     "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya"},
]
_VARIANTS = {"й": ("y", "i", "j"), "х": ("kh", "h"), "ю": ("yu", "iu", "ju"), "я": ("ya", "ia", "ja"), "ц": ("ts", "c", "tz"),
             "щ": ("shch", "sch"), "ж": ("zh", "j"), "е": ("e", "ye"), "ь": ("", "'"), "ы": ("y", "i")}
_LAT2RU = [  # longest first
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("tz", "ц"), ("ch", "ч"), ("sh", "ш"), ("yu", "ю"), ("ya", "я"),
    ("yo", "е"), ("ye", "е"), ("iy", "ий"), ("ey", "ей"), ("ay", "ай"), ("oy", "ой"), ("ij", "ий"), ("ej", "ей"), ("oj", "ой"),
    ("ju", "ю"), ("ja", "я"), ("ph", "ф"), ("th", "т"), ("ee", "и"), ("oo", "у"), ("ck", "к"), ("a", "а"), ("b", "б"), ("c", "к"),
    ("d", "д"), ("e", "е"), ("f", "ф"), ("g", "г"), ("h", "х"), ("i", "и"), ("j", "дж"), ("k", "к"), ("l", "л"), ("m", "м"),
    ("n", "н"), ("o", "о"), ("p", "п"), ("q", "к"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("v", "в"), ("w", "у"),
    ("x", "кс"), ("y", "и"), ("z", "з"),
]


@lru_cache(maxsize=1)
def morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


def norm(word: str) -> str:
    return word.lower().replace("ё", "е")


def _tags(p) -> set[str]:
    return set(str(p.tag).replace(" ", ",").split(","))


@lru_cache(maxsize=50_000)
def inflections(word: str, *, any_word: bool = False) -> frozenset[str]:
    """Every inflected form of a Russian name (or, with ``any_word``, of any word); a Latin word stands for itself."""
    w = norm(word)
    if not CYRILLIC.search(w):
        return frozenset({w})
    parses = morph().parse(w)
    named = [] if any_word else [p for p in parses if {"Name", "Surn", "Patr"} & _tags(p)]
    chosen = named or [p for p in parses if p.score >= 0.1] or parses[:1]
    forms = {w}
    for p in chosen:
        forms.update(norm(f.word) for f in p.lexeme)
    return frozenset(forms)


@lru_cache(maxsize=100_000)
def name_score(word: str) -> float:
    """How sure pymorphy3 is that a Russian word is a first name, surname or patronymic (0..1)."""
    return sum(p.score for p in morph().parse(norm(word)) if {"Name", "Surn", "Patr"} & _tags(p))


_SURNAME_ENDINGS = ("ов", "ова", "ев", "ева", "ёв", "ёва", "ин", "ина", "ын", "ына", "ский", "ская", "цкий", "цкая", "енко",
                    "ук", "юк", "ых", "их")


@lru_cache(maxsize=100_000)
def latin_name_scores(word: str) -> tuple[float, float]:
    """How sure pymorphy3 is that a Latin word is a Russian name written in Latin (Andrey, Svetlana, Orlova), as
    (known, guessed), each 0..1.

    ``known``: its Cyrillic reading is a name the dictionary knows: a first name or patronymic, or a surname of five
    letters or more with a Russian ending. ``guessed``: pymorphy3 only guesses a name, for a word it does not know.
    Guesses are names ("Becker" -> «бекер») as often as English words ("Pains" -> «паинс» 1.0, "When", "Highlighted",
    "Full"), so the redactor takes them only where a capital letter says something: not at a sentence start."""
    first = to_cyrillic(word)
    readings = [first]  # Sofia -> софиа, софия; Dmitri -> дмитри, дмитрий; Dmitry -> дмитри, дмитрий
    if first.endswith("иа"):
        readings.append(first[:-2] + "ия")
    if first.endswith("и"):
        readings.append(first + "й")
    known = guessed = 0.0
    for cyr in readings:
        k = g = 0.0
        for p in morph().parse(cyr):
            tags = _tags(p)
            if p.is_known:
                if {"Name", "Patr"} & tags or ("Surn" in tags and len(cyr) >= 5 and norm(p.normal_form).endswith(_SURNAME_ENDINGS)):
                    k += p.score
            elif {"Name", "Surn", "Patr"} & tags and cyr is first:  # the other readings only for known names
                g += p.score
        known, guessed = max(known, k), max(guessed, g)
    return known, guessed


def to_latin(word: str) -> set[str]:
    """Common Latin spellings of a Cyrillic word (Орловой -> orlovoy, orlovoi, orlovoj)."""
    out = [""]
    for ch in norm(word):
        options = _VARIANTS.get(ch) or ((_RU2LAT[0].get(ch, ch)),)
        out = [o + v for o in out for v in options][:64]
    return set(out)


def to_cyrillic(word: str) -> str:
    """A rough Cyrillic reading of a Latin word (andrey -> андрей, orlova -> орлова)."""
    w, out, i = norm(word), [], 0
    while i < len(w):
        for lat, cyr in _LAT2RU:
            if w.startswith(lat, i):
                out.append(cyr)
                i += len(lat)
                break
        else:
            out.append(w[i])
            i += 1
    return "".join(out)


def person_forms(name: str) -> tuple[set[str], list[list[str]]]:
    """(forms of each word, word sequences) for a person's name as written in the base.

    Forms cover inflection, diminutives and transliteration; sequences are the name's words (for handles and
    e-mail local parts such as svetlana_orlova, sorlova, s.orlova)."""
    forms: set[str] = set()
    words = [w for w in WORD.findall(name or "") if len(w) >= 2 and not w.isdigit()]
    if not words or LABEL.match(" ".join(words)):
        return forms, []
    for w in words:
        n = norm(w)
        bases = {n}
        if CYRILLIC.search(n):
            bases |= set(RU_DIMINUTIVES.get(n, ()))
            cyr_forms: set[str] = set()
            for b in bases:
                cyr_forms |= inflections(b)
            forms |= cyr_forms
            for f in cyr_forms:
                forms |= to_latin(f)
        else:
            bases |= set(EN_DIMINUTIVES.get(n, ()))
            forms |= bases
            for b in bases:
                cyr = to_cyrillic(b)
                forms |= inflections(cyr)
    latin = [sorted(to_latin(w))[0] if CYRILLIC.search(w) else norm(w) for w in words]
    return {f for f in forms if len(f) >= 2}, [latin]


def handle_forms(sequences: list[list[str]]) -> set[str]:
    """Handles and e-mail local parts made of a name: svetlana_orlova, svetlanaorlova, sorlova, s.orlova, orlova.s."""
    out: set[str] = set()
    for seq in sequences:
        if len(seq) < 2:
            continue
        first, last = seq[0], seq[-1]
        for sep in ("", "_", ".", "-"):
            out |= {f"{first}{sep}{last}", f"{last}{sep}{first}", f"{first[0]}{sep}{last}", f"{last}{sep}{first[0]}"}
    return out

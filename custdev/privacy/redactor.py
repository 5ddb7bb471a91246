"""The redactor: replaces people, companies, contact details and identity numbers in text.

Known people and companies come from the base's own rows (respondents, interviewers, speakers, companies) and are
found in every form (:mod:`custdev.privacy.names`): any case unless the lower-case word is an ordinary word
(«роман», "will"), inflected, diminutive, transliterated, as handles and e-mail local parts. Third parties are found
by the named-entity models (:mod:`custdev.privacy.ner`), by pymorphy3's name dictionary for Russian, Russian names
written in Latin letters, and capitalised words standing next to a name («[имя] Ростовой»). Contact details and
identity numbers are found by shape (:mod:`custdev.privacy.patterns`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from custdev.privacy import names as nm
from custdev.privacy.names import CYRILLIC, WORD, norm
from custdev.privacy.patterns import PLACEHOLDERS, find_patterns

LEGAL_FORMS = {
    "ооо", "оао", "зао", "пао", "ао", "ип", "нко", "ано", "гк", "тд", "llc", "ltd", "inc", "gmbh", "llp", "plc", "corp", "co",
    "limited", "company", "group", "&", "and", "the", "и",
}
# Words in company names too generic to redact on their own (they are still redacted inside the full name).
GENERIC_LATIN = {
    "home", "logistics", "bookkeeping", "accounting", "consulting", "services", "service", "solutions", "systems", "group",
    "holdings", "partners", "studio", "digital", "trade", "trading", "capital", "finance", "financial", "media", "global",
    "international", "labs", "tech", "software", "shop", "store", "market", "foods", "food", "bakery", "retail", "agency",
    "design", "health", "energy", "industries", "supply", "online", "plus", "pro", "one", "team", "works", "house",
}
# Tools and platforms people name in interviews: research content, not personal data ([privacy] keep adds more).
KEEP_DEFAULT = frozenset(
    "excel word powerpoint outlook google sheets docs gmail drive zoom teams skype slack telegram whatsapp viber vk "
    "вконтакте телеграм ватсап эксель эксел ворд 1с 1c битрикс bitrix bitrix24 amocrm амо shopify quickbooks xero stripe "
    "paypal notion trello jira confluence asana salesforce hubspot sap oracle microsoft apple android iphone ios windows "
    "linux chatgpt openai yandex яндекс сбер сбербанк тинькофф альфа avito авито ozon озон wildberries".split()
)
# Words that name a kind of organisation, not one (dictionary forms). natasha takes «Банк», «Фонд», «Министерство» or
# «Маркетплейс» at a sentence's start for a company or a person; an entity made only of such words is no one.
GENERIC_ORGS_RU = frozenset(
    "банк фонд министерство ведомство налоговый инспекция суд администрация мэрия правительство компания фирма "
    "организация магазин маркетплейс интернет сервис поддержка бухгалтерия отдел служба склад офис поставщик клиент "
    "партнёр контрагент подрядчик касса казначейство биржа эквайер пенсионный госуслуга фнс пфр фсс цб".split()
)
LABELS = {("name", True): "[имя]", ("name", False): "[name]", ("company", True): "[компания]", ("company", False): "[company]"}
_PLACEHOLDER_TEXT = re.compile(r"\[(?:имя|name|компания|company|email|url|handle|phone|ИНН|СНИЛС|passport|card|address)\]")


def ordinary_word(word: str) -> bool:
    """Is this lower-case word also an everyday word («роман», "will"), so only its capitalised form is a name?"""
    w = norm(word)
    if w in nm.EN_COMMON_WORDS or w in nm.RU_COMMON_WORDS:
        return True
    if CYRILLIC.search(w):
        other = sum(p.score for p in nm.morph().parse(w) if not ({"Name", "Surn", "Patr", "Geox", "Orgn", "UNKN", "Poss"} & nm._tags(p)))
        return other >= 0.4  # «роман» 0.76, «вера» 0.70: words; «петровой» (possessive readings only): a name
    return False


def company_core(company: str) -> list[list[str]]:
    """Word sequences that name the company: the whole name, the part in «quotes», and both without legal forms."""
    candidates = [company]
    candidates += re.findall(r"[«\"“„']([^»\"”“']+)[»\"”“']", company)
    out: list[list[str]] = []
    for c in candidates:
        ws = WORD.findall(c)
        for seq in (ws, [w for w in ws if norm(w) not in LEGAL_FORMS]):
            if seq and seq not in out:
                out.append(seq)
    return out


@dataclass
class Redactor:
    """Replaces known people, companies, third parties, contact details and identity numbers in text."""

    people: set[str] = field(default_factory=set)  # normalised forms of known people's name words
    handles: set[str] = field(default_factory=set)  # svetlana_orlova, sorlova…
    companies_ci: set[str] = field(default_factory=set)  # distinctive company words, any case
    companies_cs: set[str] = field(default_factory=set)  # distinctive Latin company words, capitalised only
    phrases: dict[str, list[list[frozenset[str]]]] = field(default_factory=dict)  # first word form -> phrases
    keep: set[str] = field(default_factory=set)  # words never redacted (product and tool names from the config)
    guess_names: bool = True  # third parties: NER, the name dictionary, neighbours of names
    use_ner: bool = True
    count: int = 0

    @classmethod
    def for_names(cls, people: list[str], companies: list[str], *, guess_names: bool = True, use_ner: bool = True,
                  keep: list[str] | None = None) -> "Redactor":
        r = cls(guess_names=guess_names, use_ner=use_ner and guess_names, keep=set(KEEP_DEFAULT) | {norm(k) for k in (keep or [])})
        for person in people:
            forms, seqs = nm.person_forms(person or "")
            r.people |= forms
            r.handles |= nm.handle_forms(seqs)
        for company in companies:
            if not company:
                continue
            for seq in company_core(company):
                phrase = [nm.inflections(w, any_word=True) for w in seq]
                if len(seq) == 1:
                    w = seq[0]
                    if CYRILLIC.search(w):
                        r.companies_ci |= nm.inflections(w, any_word=True)
                        r.companies_ci |= {t for f in nm.inflections(w, any_word=True) for t in nm.to_latin(f)}
                    elif len(w) >= 3 and norm(w) not in GENERIC_LATIN and not w.isdigit():
                        r.companies_cs.add(norm(w))
                    continue
                for first in phrase[0]:
                    r.phrases.setdefault(first, []).append(phrase)
                for w in seq:
                    n = norm(w)
                    if n in LEGAL_FORMS or w.isdigit() or len(w) < 3:
                        continue
                    if CYRILLIC.search(w):
                        if not nm.morph().word_is_known(n):
                            r.companies_ci |= nm.inflections(w, any_word=True)
                    elif n not in GENERIC_LATIN:
                        r.companies_cs.add(n)
        r.people -= r.keep
        for first in r.phrases:
            r.phrases[first].sort(key=len, reverse=True)
        return r

    def probe(self) -> "Redactor":
        """The same known names without guessing: what the leak check looks for."""
        return Redactor(people=self.people, handles=self.handles, companies_ci=self.companies_ci, companies_cs=self.companies_cs,
                        phrases=self.phrases, keep=self.keep, guess_names=False, use_ner=False)

    def _known_person(self, word: str) -> bool:
        n = norm(word)
        if n not in self.people or n in self.keep:
            return False
        if len(n) < 3 and not word[0].isupper():  # «Ян», «Ли» capitalised; "an", "ли" in lower case are words
            return False
        return word[0].isupper() or not ordinary_word(word)

    def _guess_name(self, word: str, text: str, start: int, strict: bool = False) -> bool:
        """A Russian name the dictionary knows (not at a sentence start unless sure), or a Russian name in Latin.
        ``strict`` (titles, tags, file names) also takes lower-case words that are only names ("Zoom andrey")."""
        if len(word) < 3 or word.isupper() or norm(word) in self.keep:
            return False
        if not word[0].isupper():
            if not strict or ordinary_word(word):
                return False
            if CYRILLIC.search(word):
                return nm.name_score(word) >= 0.9
            return len(word) >= 4 and word.isascii() and norm(word) not in nm.EN_COMMON_WORDS and nm.latin_name_scores(word)[0] >= 0.9
        if CYRILLIC.search(word):
            sure = nm.name_score(word)
        elif len(word) >= 4 and word.isascii():
            if ordinary_word(word) or norm(word) in nm.EN_COMMON_WORDS:
                return False
            # Clear names (Andrey, Svetlana, Orlova) anywhere; a guessed one (Becker) mid-sentence, or opening a sentence
            # as a name does ("Sofia, our account manager", "Sofia Brown said"), not as "When did", "Half of" or "Slow support".
            known, guessed = nm.latin_name_scores(word)
            if known >= 0.9:
                return True
            return guessed >= 0.9 and (not _sentence_start(text, start) or bool(_NAME_OPENS.match(text, start + len(word))))
        else:
            return False
        return sure >= 0.9 or (sure >= 0.5 and not _sentence_start(text, start))

    def find(self, text: str, strict: bool = False) -> list[tuple[int, int, str]]:
        """(start, end, kind) spans to replace; kind is name, company or a pattern kind (email, phone, …)."""
        spans: list[tuple[int, int, str]] = []
        covered = bytearray(len(text))  # 1 where a span already is: free() in O(span length), not O(spans)

        def add(s: int, e: int, kind: str) -> None:
            spans.append((s, e, kind))
            covered[s:e] = b"\x01" * (e - s)

        for s, e, kind in find_patterns(text):
            if not _PLACEHOLDER_TEXT.fullmatch(text[s:e]):
                add(s, e, kind)

        def free(s: int, e: int) -> bool:
            return covered.find(1, s, e) == -1

        tokens = list(WORD.finditer(text))
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            word = tok.group()
            n = norm(word)
            if not free(tok.start(), tok.end()) or _inside_placeholder(text, tok.start(), tok.end()):
                i += 1
                continue
            matched = 0
            for phrase in self.phrases.get(n, ()):
                k = len(phrase)
                if i + k > len(tokens):
                    continue
                ok = all(norm(tokens[i + j].group()) in phrase[j] for j in range(k)) and all(
                    len(text[tokens[i + j].end():tokens[i + j + 1].start()]) <= 3
                    and "\n" not in text[tokens[i + j].end():tokens[i + j + 1].start()]
                    for j in range(k - 1)
                )
                if ok:
                    matched = k
                    break
            if matched:
                add(tok.start(), tokens[i + matched - 1].end(), "company")
                i += matched
                continue
            if n in self.keep:
                pass
            elif n in self.companies_ci or (n in self.companies_cs and word[0].isupper()):
                add(tok.start(), tok.end(), "company")
            elif self._known_person(word) or n in self.handles:
                add(tok.start(), tok.end(), "name")
            elif self.guess_names and self._guess_name(word, text, tok.start(), strict):
                add(tok.start(), tok.end(), "name")
            i += 1
        if self.use_ner:
            from custdev.privacy.ner import entities

            for s, e, kind in entities(text):
                s, e = _trim(text, s, e)
                if (e > s and free(s, e) and not _inside_placeholder(text, s, e) and not self._kept(text[s:e])
                        and not nm.LABEL.match(text[s:e]) and not _generic(text[s:e])):
                    add(s, e, kind)
        if self.guess_names:
            spans = self._neighbours(text, tokens, spans)
        return sorted(spans)

    def _kept(self, phrase: str) -> bool:
        words = [norm(w) for w in WORD.findall(phrase)]
        return bool(words) and all(w in self.keep or w in LEGAL_FORMS for w in words)

    def _neighbours(self, text: str, tokens, spans):
        """A capitalised word right next to a redacted name is part of it: «[имя] Ростовой», "[name] Whitfield"."""
        named = [(s, e) for s, e, k in spans if k == "name"]
        if not named:
            return spans
        taken = [(s, e) for s, e, _ in spans]
        by_start = {t.start(): t for t in tokens}
        by_end = {t.end(): t for t in tokens}
        changed = True
        while changed:
            changed = False
            for s, e in list(named):
                after = re.match(r"[ \t]+", text[e:])
                nxt = by_start.get(e + after.end()) if after else None
                before = re.search(r"[ \t]+$", text[:s])
                prev = by_end.get(before.start()) if before else None
                for tok in (nxt, prev):
                    if tok is None or not tok.group()[0].isupper() or tok.group().isupper() or len(tok.group()) < 2:
                        continue
                    if norm(tok.group()) in self.keep or nm.LABEL.match(tok.group()):
                        continue
                    if tok is prev and _sentence_start(text, tok.start()) and nm.name_score(tok.group()) < 0.5 and CYRILLIC.search(tok.group()):
                        continue
                    if any(not (tok.end() <= a or tok.start() >= b) for a, b in taken):
                        continue
                    spans.append((tok.start(), tok.end(), "name"))
                    taken.append((tok.start(), tok.end()))
                    named.append((tok.start(), tok.end()))
                    changed = True
        return spans

    def prefetch(self, texts) -> None:
        """Look at many texts with the models at once, before :meth:`text` is called on each."""
        if self.use_ner:
            from custdev.privacy.ner import prefetch

            prefetch(texts)

    def label(self, kind: str, original: str) -> str:
        if kind in PLACEHOLDERS:
            return PLACEHOLDERS[kind]
        return LABELS[(kind, bool(CYRILLIC.search(original)))]

    def text(self, text: str, strict: bool = False) -> str:
        spans = self.find(text, strict)
        if not spans:
            return text
        out, pos = [], 0
        for s, e, kind in spans:
            if s < pos:
                continue
            out.append(text[pos:s])
            out.append(self.label(kind, text[s:e]))
            pos = e
        out.append(text[pos:])
        self.count += len(spans)
        return "".join(out)


def _generic(phrase: str) -> bool:
    """An entity that only names a kind of organisation: «Банк», «Клиент-банк», «Пенсионный фонд», "Finance"."""
    words = WORD.findall(phrase)
    if not words:
        return False
    for w in words:
        if CYRILLIC.search(w):
            if nm.morph().parse(w.lower())[0].normal_form not in GENERIC_ORGS_RU:
                return False
        elif norm(w) not in GENERIC_LATIN:
            return False
    return True


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and not text[s].isalnum():
        s += 1
    while e > s and not text[e - 1].isalnum():
        e -= 1
    return s, e


def _inside_placeholder(text: str, s: int, e: int) -> bool:
    return any(m.start() <= s and e <= m.end() for m in _PLACEHOLDER_TEXT.finditer(text, max(0, s - 12), min(len(text), e + 12)))


_NAME_OPENS = re.compile(r",|\s+[A-Z][a-z]")  # after a sentence's first word: a comma, or a capitalised word
_TITLE_BEFORE = re.compile(r"(?:^|[\s(«\"“])(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Mme|г-н|г-жа|Г-н|Г-жа)\.?$")


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t«\"“„'(—-")
    if _TITLE_BEFORE.search(before):  # "Ms. Mitchell": the period is the title's, the word after it a name
        return False
    return not before or before[-1] in ".!?…:\n"

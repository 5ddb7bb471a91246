"""Research base discovery, the base's config file and its codebook.

A base is a folder holding ``custdev.toml`` (config), ``codebook.yml`` (segments, pains, hypotheses) and
``interviews/`` (the markdown source of truth). ``custdev.db`` is built from them and can always be rebuilt.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from custdev.errors import BaseNotFound, ConfigError, CustdevError, Message, UnknownSlug, os_reason
from custdev.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, is_language
from custdev.models import Codebook, CodebookEntry

CONFIG_NAME = "custdev.toml"
CODEBOOK_NAME = "codebook.yml"
INTERVIEWS_DIR = "interviews"
DB_NAME = "custdev.db"
# With [meaning] embeddings = "auto", build embeds bases of at most this many interviews (see README, "Meaning").
EMBEDDINGS_AUTO_MAX = 500
# ... and at most this many respondent turns (500 interviews of the bench base hold about 37,500): a base of a few
# enormous files is as long to embed as one of many interviews
EMBEDDINGS_AUTO_MAX_TURNS = 40_000
AUDIO_DIR = "audio"
PRIVATE_DIR = ".custdev"  # git-ignored: site secret, password hash, audit log
PUBLISHED_MARK = ".custdev-published"  # written by `custdev publish` into the copy
# Recordings the site may serve and interviews may point at: extension -> media type.
MEDIA_TYPES = {
    ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".ogg": "audio/ogg", ".oga": "audio/ogg",
    ".opus": "audio/ogg", ".wav": "audio/wav", ".flac": "audio/flac", ".weba": "audio/webm", ".webm": "video/webm",
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".mkv": "video/x-matroska", ".mka": "audio/x-matroska",
    ".aif": "audio/aiff", ".aiff": "audio/aiff", ".wma": "audio/x-ms-wma", ".amr": "audio/amr", ".3gp": "video/3gpp",
    ".avi": "video/x-msvideo", ".wmv": "video/x-ms-wmv", ".wave": "audio/wav", ".m4b": "audio/mp4", ".3g2": "video/3gpp2",
    ".aifc": "audio/aiff", ".caf": "audio/x-caf", ".mpeg": "video/mpeg", ".mpg": "video/mpeg", ".mpga": "audio/mpeg",
    ".ts": "video/mp2t", ".ac3": "audio/ac3", ".wv": "audio/wavpack", ".spx": "audio/ogg",
}


# The analysis settings' defaults: their one home (the Config fields, the config template, the CLI's help and, through
# the meta table every build writes, the SQL views all read them from here).
ANALYSIS_DEFAULTS = {"systemic_threshold": 0.30, "saturation_window": 3, "hypothesis_min_interviews": 3}


@dataclass
class Config:
    title: str = "CustDev research base"
    description: str = ""
    language: str = DEFAULT_LANGUAGE  # labels of reports, CLI tables and the site: one of i18n.LANGUAGES
    systemic_threshold: float = ANALYSIS_DEFAULTS["systemic_threshold"]
    saturation_window: int = ANALYSIS_DEFAULTS["saturation_window"]
    hypothesis_min_interviews: int = ANALYSIS_DEFAULTS["hypothesis_min_interviews"]
    model: str = "base"
    embeddings: str = "auto"  # [meaning] embeddings: "auto", "on" or "off"
    embeddings_auto_max: int = EMBEDDINGS_AUTO_MAX
    ray: str | None = None  # [transcription] ray: "auto" or a cluster address; None transcribes on this machine
    raw: dict[str, Any] = field(default_factory=dict)

    def analysis_settings(self) -> dict[str, str]:
        """The settings the analysis views read from the database's ``meta`` table (written by every build)."""
        return {
            "analysis.systemic_threshold": repr(float(self.systemic_threshold)),
            "analysis.saturation_window": str(int(self.saturation_window)),
            "analysis.hypothesis_min_interviews": str(int(self.hypothesis_min_interviews)),
        }


@dataclass
class Base:
    root: Path
    config: Config
    codebook: Codebook

    @property
    def interviews_dir(self) -> Path:
        return self.root / INTERVIEWS_DIR

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def codebook_path(self) -> Path:
        return self.root / CODEBOOK_NAME

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def is_published_copy(self) -> bool:
        """A copy written by ``custdev publish``: a database and metadata, no interview files to build from."""
        return (self.root / PUBLISHED_MARK).is_file()


def check_not_published(base: Base) -> None:
    """Refuse to bring interviews or responses into a published copy: it has no interview files, and the files would
    be written before its build refused to run."""
    if base.is_published_copy:
        raise CustdevError(N_("{root} is a published copy (custdev publish): import into the research base it came from, "
                              "then publish again; nothing imported"), root=base.root)


def find_base_root(base: str | Path | None = None) -> Path:
    """``--base DIR``, else ``$CUSTDEV_BASE``, else the current directory."""
    if base is None:
        base = os.environ.get("CUSTDEV_BASE") or Path.cwd()
    root = Path(base).expanduser().resolve()
    if not (root / CONFIG_NAME).is_file():
        raise BaseNotFound(
            N_("{root} is not a custdev research base (no {config}); create one with 'custdev init {root}' or point "
               "--base / CUSTDEV_BASE at one"), root=root, config=CONFIG_NAME,
        )
    return root


def load_base(base: str | Path | None = None) -> Base:
    root = find_base_root(base)
    return Base(root=root, config=load_config(root / CONFIG_NAME), codebook=load_codebook(root / CODEBOOK_NAME))


def language_choices(quote: str = "'") -> Message:
    """The languages as a message: 'en' or 'ru' (said in the base's language where an error shows it); ``quote``:
    the quotation mark around each ('"' in custdev.toml's comment)."""
    q = lambda x: f"{quote}{x}{quote}"  # noqa: E731
    return Message(N_("{choices} or {last}"), choices=", ".join(q(x) for x in LANGUAGES[:-1]), last=q(LANGUAGES[-1]))


def declared_language(path: Path) -> str:
    """The language ``path`` (a custdev.toml) declares, also when the file is otherwise wrong (its errors are then
    said in it); English when it declares none or cannot be read. Never raises."""
    import re

    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            language = tomllib.loads(text).get("base", {}).get("language")
        except (tomllib.TOMLDecodeError, AttributeError):
            m = re.search(r"^\s*language\s*=\s*[\"']([A-Za-z]+)[\"']", text, re.M)
            language = m.group(1) if m else None
    except OSError:
        return DEFAULT_LANGUAGE
    return language if is_language(language) else DEFAULT_LANGUAGE


# The parsers' words for the common slips in a YAML or TOML file a person edits (libyaml's, PyYAML's, tomllib's):
# (their problem, what we say in the base's language, whether the line to name is where the unclosed thing began).
# Other problems are shown as the parser says them.
_YAML_SLIPS = (
    (r"mapping values are not allowed (here|in this context)", N_("a second ':' in the line (put a value that has ': ' in quotes)"), False),
    (r"did not find expected ',' or '\]'", N_("a list in [ ] is not closed with ']'"), True),
    (r"did not find expected ',' or '\}'", N_("a map in { } is not closed with '}'"), True),
    (r"found unexpected end of stream", N_("a quote is not closed"), True),
    (r"found character .*that cannot start any token",
     N_("a value cannot start with this character (a tab, @, ` or %): indent with spaces, put such a value in quotes"), False),
    (r"could not find expected ':'|did not find expected key", N_("a line that is not 'key: value'"), False),
)
_TOML_SLIPS = (
    (r"Illegal character '\\n'|Unterminated string", N_("a quote is not closed")),
    (r"Expected '=' after a key in a key/value pair|Invalid statement", N_("a line that is not 'key = value'")),
    (r"Invalid value", N_("a value that is not a text in quotes, a number or true/false")),
    (r"Unclosed array", N_("a list in [ ] is not closed with ']'")),
    (r"Unescaped '\\' in a string", N_("a '\\' in a \"…\" text (write '\\\\' or put the text in '…' quotes)")),
    (r"Expected '\]\]?' at the end of (a table|an array) declaration", N_("a [section] line is not closed with ']'")),
    (r"Cannot overwrite a value|Cannot declare .* twice", N_("a key or a [section] set twice")),
)


def yaml_problem(exc) -> tuple[str | Message, int | None]:
    """(what is wrong, its 1-based line in the parsed text or None) of a YAML error."""
    import re

    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "invalid YAML"
    for pattern, message, opened in _YAML_SLIPS:
        if re.fullmatch(pattern, problem):
            problem = Message(message)
            if opened and getattr(exc, "context_mark", None) is not None:
                mark = exc.context_mark  # where the list or the quote began, not where the parser gave up
            break
    return problem, (mark.line + 1) if mark else None


def toml_problem(exc: tomllib.TOMLDecodeError) -> tuple[str | Message, int | None]:
    """(what is wrong, its line or None) of a tomllib error ("Invalid value (at line 3, column 9)")."""
    import re

    m = re.fullmatch(r"(.*) \(at (?:line (\d+), column \d+|end of document)\)", str(exc))
    problem, line = (m.group(1), int(m.group(2)) if m.group(2) else None) if m else (str(exc), None)
    for pattern, message in _TOML_SLIPS:
        if re.fullmatch(pattern, problem):
            return Message(message), line
    return problem, line


def load_config(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        problem, line = toml_problem(exc)
        if line is None:
            raise ConfigError(N_("{path}: invalid TOML: {problem}"), path=path, problem=problem) from None
        raise ConfigError(N_("{path}: invalid TOML: {problem}"), path=f"{path}:{line}", problem=problem) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(N_("{path}: invalid TOML ({error})"), path=path, error=exc) from None
    except OSError as exc:
        raise ConfigError(N_("{path}: cannot read ({error})"), path=path, error=os_reason(exc)) from None
    base = data.get("base", {})
    analysis = data.get("analysis", {})
    transcription = data.get("transcription", {})
    cfg = Config(raw=data)
    cfg.title = str(base.get("title", cfg.title))
    cfg.description = str(base.get("description", cfg.description))
    cfg.language = str(base.get("language", cfg.language))
    if not is_language(cfg.language):
        raise ConfigError(N_("{path}: base.language must be {choices}, not {value!r}"), path=path, choices=language_choices(), value=cfg.language)
    try:
        cfg.systemic_threshold = float(analysis.get("systemic_threshold", cfg.systemic_threshold))
        cfg.saturation_window = int(analysis.get("saturation_window", cfg.saturation_window))
    except (TypeError, ValueError):
        raise ConfigError(N_("{path}: analysis.systemic_threshold must be a number and saturation_window an integer"), path=path) from None
    try:
        cfg.hypothesis_min_interviews = int(analysis.get("hypothesis_min_interviews", cfg.hypothesis_min_interviews))
    except (TypeError, ValueError):
        raise ConfigError(N_("{path}: analysis.hypothesis_min_interviews must be a whole number"), path=path) from None
    if not 0 < cfg.systemic_threshold <= 1:
        raise ConfigError(N_("{path}: analysis.systemic_threshold must be between 0 and 1"), path=path)
    if cfg.hypothesis_min_interviews < 1:
        raise ConfigError(N_("{path}: analysis.hypothesis_min_interviews must be at least 1"), path=path)
    cfg.model = str(transcription.get("model", cfg.model))
    meaning = data.get("meaning", {})
    cfg.embeddings = str(meaning.get("embeddings", cfg.embeddings)).strip().lower()
    if cfg.embeddings not in ("auto", "on", "off"):
        raise ConfigError(N_("{path}: meaning.embeddings must be \"auto\", \"on\" or \"off\", not {value!r}"), path=path, value=cfg.embeddings)
    try:
        cfg.embeddings_auto_max = int(meaning.get("auto_max_interviews", cfg.embeddings_auto_max))
    except (TypeError, ValueError):
        raise ConfigError(N_("{path}: meaning.auto_max_interviews must be a whole number"), path=path) from None
    ray = transcription.get("ray")
    if ray is not None and not (isinstance(ray, str) and ray.strip()):
        raise ConfigError(N_("{path}: transcription.ray must be \"auto\" or a Ray address such as \"ray://host:10001\""), path=path)
    cfg.ray = ray.strip() if isinstance(ray, str) and ray.strip() not in ("off", "no") else None
    return cfg


def _entries(path: Path, data: dict, key: str, *, stage: bool = False) -> dict[str, CodebookEntry]:
    items = data.get(key) or []
    if not isinstance(items, list):
        raise ConfigError(N_("{path}: '{key}' must be a list of entries with slug and title"), path=path, key=key)
    out: dict[str, CodebookEntry] = {}
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or not item.get("slug"):
            raise ConfigError(N_("{path}: {key} entry {n} needs a 'slug'"), path=path, key=key, n=n)
        slug = str(item["slug"]).strip()
        if slug in out:
            raise ConfigError(N_("{path}: {key} slug '{slug}' is defined twice"), path=path, key=key, slug=slug)
        money = {}
        if key == "segments":
            for field_ in ("size", "revenue"):
                value = item.get(field_)
                if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                    raise ConfigError(N_("{path}: segment '{slug}': {field} must be a number of at least 0, not {value!r}"),
                                      path=path, slug=slug, field=field_, value=value)
                money[field_] = None if value is None else float(value)
        out[slug] = CodebookEntry(
            slug=slug,
            title=str(item.get("title") or slug),
            description=str(item.get("description") or ""),
            stage=(str(item["stage"]) if stage and item.get("stage") else None),
            **money,
        )
    return out


def _stages(path: Path, data: dict) -> dict[str, CodebookEntry]:
    """Journey stages in order: a list of slugs, or of entries with slug and title."""
    items = data.get("stages") or []
    if not isinstance(items, list):
        raise ConfigError(N_("{path}: 'stages' must be a list of journey stages, in order"), path=path)
    out: dict[str, CodebookEntry] = {}
    for n, item in enumerate(items, 1):
        if isinstance(item, str) and item.strip():
            item = {"slug": item.strip()}
        if not isinstance(item, dict) or not item.get("slug"):
            raise ConfigError(N_("{path}: stages entry {n} needs a 'slug'"), path=path, n=n)
        slug = str(item["slug"]).strip()
        if slug in out:
            raise ConfigError(N_("{path}: stages slug '{slug}' is defined twice"), path=path, slug=slug)
        out[slug] = CodebookEntry(slug=slug, title=str(item.get("title") or slug), description=str(item.get("description") or ""))
    return out


def load_codebook(path: Path) -> Codebook:
    if not path.exists():
        return Codebook()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        problem, line = yaml_problem(exc)
        raise ConfigError(N_("{path}: invalid YAML in the codebook: {problem}"), path=f"{path}:{line}" if line else path,
                          problem=problem) from None
    except UnicodeDecodeError:
        raise ConfigError(N_("{path}: the codebook is not UTF-8 text"), path=path) from None
    if not isinstance(data, dict):
        raise ConfigError(N_("{path}: the codebook must be a mapping with segments, pains and hypotheses"), path=path)
    codebook = Codebook(
        segments=_entries(path, data, "segments"),
        pains=_entries(path, data, "pains", stage=True),
        hypotheses=_entries(path, data, "hypotheses"),
        stages=_stages(path, data),
        currency=str(data.get("currency") or ""),
    )
    if codebook.stages:
        for pain in codebook.pains.values():
            if pain.stage is not None and pain.stage not in codebook.stages:
                close = closest(pain.stage, codebook.stages)
                if close is None:
                    raise ConfigError(N_("{path}: pain '{pain}': unknown stage '{stage}'"), path=path, pain=pain.slug, stage=pain.stage)
                raise ConfigError(N_("{path}: pain '{pain}': unknown stage '{stage}' (did you mean '{close}'?)"),
                                  path=path, pain=pain.slug, stage=pain.stage, close=close)
    return codebook


def closest(word: str, choices) -> str | None:
    """The choice closest to ``word``, or None when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return close[0] if close else None


def suggest(word: str, choices) -> Message:
    """' (did you mean 'x'?)' for the closest choice, or '' (a message: said in the base's language in an error)."""
    close = closest(word, choices)
    return Message(N_(" (did you mean '{close}'?)"), close=close) if close else Message("")


_UNKNOWN_SLUG = {  # (kind, with a closest slug?) -> the message, for the catalogs
    ("segment", False): N_("unknown segment '{slug}'"), ("segment", True): N_("unknown segment '{slug}' (did you mean '{close}'?)"),
    ("pain", False): N_("unknown pain '{slug}'"), ("pain", True): N_("unknown pain '{slug}' (did you mean '{close}'?)"),
    ("hypothesis", False): N_("unknown hypothesis '{slug}'"),
    ("hypothesis", True): N_("unknown hypothesis '{slug}' (did you mean '{close}'?)"),
}


def unknown_slug(kind: str, slug: str, known) -> Message:
    """"unknown segment 'x' (did you mean 'y'?)", as a message the catalogs translate. ``kind``: see check_slug."""
    close = closest(slug, known)
    message = _UNKNOWN_SLUG.get((kind, close is not None))
    if message is None:
        return Message(f"unknown {kind} '{slug}'{suggest(slug, known)}")
    return Message(message, slug=slug, close=close)


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string (a title in custdev.toml): a backslash or a control character must not make the
    file unreadable. JSON's string escapes are all valid in TOML; DEL, which TOML wants escaped, is added."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def check_slug(kind: str, slug: str, known) -> None:
    """Raise UnknownSlug naming the closest known slug. ``kind`` is 'segment', 'pain' or 'hypothesis'."""
    if slug not in known:
        message = unknown_slug(kind, slug, known)
        raise UnknownSlug(message.template, **message.params)


# The files `custdev init` writes. Their comments and example titles go through the catalogs (`_TEMPLATE_TEXTS`),
# so a Russian base starts with a Russian config and codebook; keys, slugs and defaults are the same in every language.
CONFIG_TEMPLATE = """\
# {head}
[base]
title = {title}
description = ""
language = "{language}"     # {language_note}

[analysis]
systemic_threshold = {systemic_threshold:.2f}  # {threshold_note}
saturation_window = {saturation_window}      # {window_note}

[transcription]
model = "base"             # {model_note}

[meaning]
embeddings = "auto"        # {embeddings_note}
                           # {auto_note}
"""

CODEBOOK_TEMPLATE = """\
# {intro}
# {segments_note}
# {pains_note}
# {hypotheses_note}
# {stages_note}
segments:
  - slug: example-segment
    title: {segment_title}
    description: {segment_description}
pains:
  - slug: example-pain
    title: {pain_title}
    description: {pain_description}
    stage: onboarding
hypotheses: []
stages:
  - slug: onboarding
    title: {stage_title}
"""

_TEMPLATE_TEXTS = {
    "head": N_("custdev research base configuration"),
    "language_note": N_("labels in reports, tables and on the site: {languages}"),
    "threshold_note": N_("a pain mentioned in at least this share of interviews is systemic"),
    "window_note": N_("saturation: the last K interviews added no new pain"),
    "model_note": N_("offline default; or a faster-whisper model name / a local CTranslate2 folder"),
    "embeddings_note": N_('sentence embeddings for similar quotes, suggest, clusters: "auto", "on" or "off"'),
    "auto_note": N_("auto = on for bases up to auto_max_interviews interviews"),
    "intro": N_("The codebook: the slugs interviews may use."),
    "segments_note": N_("segments: who the respondent is (front matter `segments: [slug]`)"),
    "pains_note": N_("pains: what hurts (`#pain/slug` next to a ==highlight==); stage = customer journey stage"),
    "hypotheses_note": N_("hypotheses: CustDev hypotheses (`#h/slug` supports, `#h/slug/against` refutes)"),
    "stages_note": N_("stages: the customer journey in order (a pain's `stage:`)"),
    "segment_title": N_("Example segment"),
    "segment_description": N_("Replace with your target segments."),
    "pain_title": N_("Example pain"),
    "pain_description": N_("Replace with the pains you hear."),
    "stage_title": N_("Getting started"),
}


def starter_files(title: str, language: str) -> tuple[str, str]:
    """(custdev.toml, codebook.yml) of a new base in ``language``."""
    from custdev.i18n import translator

    tr = translator(language)
    texts = {key: tr.gettext(text) for key, text in _TEMPLATE_TEXTS.items()}
    texts["language_note"] = texts["language_note"].format(languages=language_choices('"').localized(tr))
    config = CONFIG_TEMPLATE.format(title=toml_string(title.replace('"', "'")), language=language, **ANALYSIS_DEFAULTS, **texts)
    return config, CODEBOOK_TEMPLATE.format(**texts)


def init_base(directory: str | Path, *, title: str | None = None, language: str = DEFAULT_LANGUAGE) -> tuple[Path, list[str]]:
    """Create a base in ``directory``. Returns (root, created paths); an existing base is left untouched."""
    root = Path(directory).expanduser().resolve()
    created: list[str] = []
    if root.exists() and not root.is_dir():
        raise ConfigError(N_("{root} exists and is not a folder"), root=root)
    if not is_language(language):
        raise ConfigError(N_("language must be {choices}, not {value!r}"), choices=language_choices(), value=language)
    try:
        root.mkdir(parents=True, exist_ok=True)
        interviews = root / INTERVIEWS_DIR
        if not interviews.is_dir():
            interviews.mkdir()
            created.append(f"{INTERVIEWS_DIR}/")
        config, codebook = starter_files(title or root.name, language)
        if not (root / CONFIG_NAME).exists():
            atomic_write_text(root / CONFIG_NAME, config)
            created.append(CONFIG_NAME)
        if not (root / CODEBOOK_NAME).exists():
            atomic_write_text(root / CODEBOOK_NAME, codebook)
            created.append(CODEBOOK_NAME)
    except OSError as exc:
        raise ConfigError(N_("{root}: cannot create the base ({error})"), root=root, error=os_reason(exc)) from None
    return root, created


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file in the same folder, then rename: readers never see half a file."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks (recordings and model files can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()

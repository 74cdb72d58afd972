"""The crisis check's phrase rules: what must trigger, what must stay quiet, robustness.

These lists do not depend on the corpus: every message here must get a crisis reply
(urgent or check-in) from the live check, and its phrases must name the kind given; every
ordinary one must get no reply at all. (The corpus measures the whole check:
test_corpus_targets.py and `firststep crisis eval`.)
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.safety import datafiles
from conversations.safety import normalise as normalising
from conversations.safety.check import assess, assess_with
from conversations.safety.datafiles import DataError, load_families
from conversations.safety.kinds import Kind, Tier
from conversations.safety.model import Linear, Model, Thresholds, build_model
from conversations.safety.normalise import normalise
from conversations.safety.phrases import dedupe_letters, phrase_to_regex
from conversations.safety.rules import Engine, build_engine, engine

OD = Kind.OVERDOSE
MIX = Kind.MIXING
FITS = Kind.WITHDRAWAL
NAL = Kind.NALOXONE
SUI = Kind.SUICIDE_SELF_HARM
THREAT = Kind.THREAT
CHILD = Kind.CHILD
PHYS = Kind.PHYSICAL
HELP = Kind.HELP_ASKED


def rule_kind(text: str, rules_engine: Engine | None = None) -> Kind | None:
    """The kind the phrases alone give (the best family), as the old detector did; a
    `kind_only` family ("I'm 15") names the kind only when another family matched."""
    found = [hit.family for hit in (rules_engine or engine()).matched(normalise(text))]
    deciding = [family for family in found if not family.kind_only]
    if not deciding:
        return None
    named = [family.kind for family in found if family.kind_only]
    return named[0] if named else deciding[0].kind


# (message, expected kind). Grouped by kind; each group mixes plain words, UK
# slang, misspellings, capitals, punctuation, emoji and longer messages.
CRISIS_MESSAGES: list[tuple[str, Kind]] = [
    # -- round 2: warning signs with no method, places, a weapon at the throat, poison --
    ("been googling ways to do it", Kind.SUICIDE_SELF_HARM),
    ("wish i had the guts to do it", Kind.SUICIDE_SELF_HARM),
    ("i wont be a problem for anyone much longer", Kind.SUICIDE_SELF_HARM),
    ("soon none of you will have to worry about me", Kind.SUICIDE_SELF_HARM),
    ("i dont see myself being here at christmas", Kind.SUICIDE_SELF_HARM),
    ("just want to go to sleep for good", Kind.SUICIDE_SELF_HARM),
    ("im on the bridge now", Kind.SUICIDE_SELF_HARM),
    ("my dad has a knife to my mums throat", Kind.THREAT),
    ("i drank a load of bleach", OD),
    # -- overdose: the word, its misspellings and "OD" forms -----------------
    ("I think I've overdosed", OD),
    ("my mate OD'd last night", OD),
    ("he od", OD),
    ("I'm ODing", OD),
    ("she's o.d.'d on something", OD),
    ("think i took an over dose", OD),
    ("my friend overdoes on heroin all the time", OD),
    ("he's overdosing!!!", OD),
    ("OVERDOSE", OD),
    ("overdoze", OD),
    ("ovadosed", OD),
    ("0D'd", OD),
    ("I OD’d earlier 😭", OD),
    # -- overdose: too much / all of it --------------------------------------
    ("took too many pills", OD),
    ("I took to many pills", OD),
    ("I think I took too much", OD),
    ("i've taken way too much gear", OD),
    ("took too many of my sleeping pills", OD),
    ("swallowed a whole packet of paracetamol", OD),
    ("I took all my tablets", OD),
    ("necked a load of diazepam", OD),
    ("i took them all at once", OD),
    ("ive taken 30 paracetamol", OD),
    ("took my whole script", OD),
    ("I took everything I had", OD),
    ("I think I took too much stuff", OD),
    # -- overdose: signs ------------------------------------------------------
    ("cant wake him up", OD),
    ("I can't wake my boyfriend", OD),
    ("he's not breathing", OD),
    ("she is NOT BREATHING!!", OD),
    ("his lips are blue", OD),
    ("blue lips and snoring weird", OD),
    ("she's turning blue", OD),
    ("shes blue", OD),
    ("my mate is gouching out and won't wake", OD),
    ("he won't wake up", OD),
    ("she's unconscious", OD),
    ("my dad collapsed", OD),
    ("he's not responding", OD),
    ("his breathing is really slow", OD),
    ("making gurgling noises", OD),
    ("choking on his own vomit", OD),
    ("should I call an ambulance", OD),
    ("I think I'm dying", OD),
    ("alcohol poisoning", OD),
    # -- mixing ---------------------------------------------------------------
    ("I've mixed benzos with my methadone", MIX),
    ("mixing alcohol and pills", MIX),
    ("is it safe to take diazepam with heroin", MIX),
    ("I combined pregabalin and gear", MIX),
    ("had valium on top of a bottle of vodka", MIX),
    ("drinking on my methadone", MIX),
    ("been drinking and taking xanax", MIX),
    ("took heroin and benzos", MIX),
    ("speedballing again", MIX),
    # (a supply cut with a synthetic opioid is an overdose risk first: the corpus's kinds)
    ("I think the gear was cut with fent", OD),
    ("a cocktail of pills and booze", MIX),
    ("i mixed them with vodka", MIX),
    ("my drink was spiked", MIX),
    ("benzos and booze together", MIX),
    ("is diazepam and alcohol dangerous?", MIX),
    ("I mixed everything I had", MIX),
    ("I have a prescription for diazepam and I drink", MIX),
    ("my partner drinks and uses heroin", MIX),
    # -- withdrawal fits ------------------------------------------------------
    ("I had a seizure", FITS),
    ("siezure", FITS),
    ("he's fitting!!", FITS),
    ("shakes and fitting", FITS),
    ("I've got the DTs", FITS),
    ("think i've got the d.t.s", FITS),
    ("delirium tremens", FITS),
    ("alcohol withdrawal fits", FITS),
    ("she had a fit", FITS),
    ("he took a fit this morning", FITS),
    ("convulsions", FITS),
    ("I keep having fits since I stopped drinking", FITS),
    ("shaking and seeing things since I stopped drinking", FITS),
    ("he fitted twice", FITS),
    ("i get fits when i stop drinking", FITS),
    ("hes seizing", FITS),
    # -- naloxone -------------------------------------------------------------
    ("where can I get naloxone", NAL),
    ("do you have narcan", NAL),
    ("nalaxone", NAL),
    ("naloxon kit", NAL),
    ("PRENOXAD", NAL),
    ("nyxoid spray", NAL),
    ("naxolone", NAL),
    # -- suicide and self-harm ------------------------------------------------
    ("I want to die", SUI),
    ("i wanna die", SUI),
    ("i want 2 die", SUI),
    ("I'm going to kill myself", SUI),
    ("going to top myself", SUI),
    ("i'm gonna do myself in", SUI),
    ("end it all", SUI),
    ("I want to end my life", SUI),
    ("suicidal", SUI),
    ("sucidal", SUI),
    ("feeling suicidal tonight", SUI),
    ("self harm", SUI),
    ("selfharm", SUI),
    ("been self-harming again", SUI),
    ("I keep cutting myself", SUI),
    ("no point living", SUI),
    ("there's no point in going on", SUI),
    ("I wish I was dead", SUI),
    ("everyone would be better off without me", SUI),
    ("i'd be better off dead", SUI),
    ("I don't want to be alive any more", SUI),
    ("I can't go on", SUI),
    ("cant do this anymore", SUI),
    ("I've been saving up my pills", SUI),
    ("thinking of jumping off a bridge", SUI),
    ("kms", SUI),
    ("k1ll mys3lf", SUI),
    ("kill meself", SUI),
    ("I'm going to hang myself", SUI),
    ("this is goodbye", SUI),
    ("nothing to live for", SUI),
    ("I'm done with life", SUI),
    ("no one would miss me", SUI),
    ("everyone would be better off if i was dead", SUI),
    ("i've been cutting again", SUI),
    ("i wish i could go to sleep and not wake up", SUI),
    ("tired of living", SUI),
    ("w4nt t0 d1e", SUI),
    ("want2die", SUI),
    ("I want to die 😢😢", SUI),
    ("I WANT TO DIEEEE", SUI),
    ("i want to diiiie", SUI),
    ("I... want... to... die", SUI),
    ("“I want to die”", SUI),
    ("want to die!!!!!!!", SUI),
    ("kill   my   self", SUI),
    ("kill my self", SUI),
    ("self—harm", SUI),
    ("suicide", SUI),
    ("suïcidal", SUI),
    ("ｓｕｉｃｉｄａｌ", SUI),
    ("I'm not suicidal but I can't go on", SUI),
    ("I'm not suicidal yet", SUI),
    # -- physical danger -------------------------------------------------------
    ("my chest is killing me after the coke", PHYS),
    ("crushing pains in my chest", PHYS),
    ("been throwing up blood all morning", PHYS),
    ("he's boiling hot and cant cool down after the pills", PHYS),
    ("her face is drooping on one side", PHYS),
    ("banged his head when he fell and now he keeps being sick", PHYS),
    ("he's talking nonsense and doesnt know where he is", PHYS),
    # -- a threat from another person ---------------------------------------------
    ("my ex is outside with a knife", THREAT),
    ("he had his hands round my neck last night", THREAT),
    ("the dealer said he'll stab me if I don't pay", THREAT),
    ("they've locked me in the flat and taken my phone", THREAT),
    ("he's kicking the door in", THREAT),
    ("some lads have taken over my flat", THREAT),
    # -- a child at risk --------------------------------------------------------
    ("my toddler drank some of my methadone", CHILD),
    ("the baby swallowed one of my tablets", CHILD),
    ("my 4 year old got into the vodka", CHILD),
    ("she left the kids on their own to go and score", CHILD),
    ("I'm 15 and my stepdad hits me", CHILD),
    # -- only asking for help ------------------------------------------------------
    ("help", HELP),
    ("HELP!!!", HELP),
    ("hlep", HELP),
    ("emergency", HELP),
    ("Urgent", HELP),
    ("help me please", HELP),
    ("SOS", HELP),
    # -- inside a longer message ----------------------------------------------
    (
        "Hi, I've been drinking too much for a few years now and I'd like to talk to "
        "someone. Some days I just want to end it all, can you help me find a jobcentre?",
        SUI,
    ),
    (
        "sorry to bother you but my partner has been on the gear again and he's gone "
        "blue and I can't wake him, what do I do",
        OD,
    ),
    (
        "I'm in Hull and I want to stop drinking but last time I stopped I had a "
        "seizure and ended up in hospital",
        FITS,
    ),
    (
        "quick question, does the jobcentre have naloxone kits or do I go to the chemist",
        NAL,
    ),
    (
        "been on methadone for a year and I still have a few cans every night with it, "
        "is that ok? also looking for volunteering",
        MIX,
    ),
]

# Messages that must not trigger: idioms that look dangerous, and everyday
# recovery and job-search talk.
ORDINARY_MESSAGES: list[str] = [
    # round 2's new families: the same words, no danger
    "googling ways to do it cheaper",
    "on the bridge now, traffic is awful",
    "i wont be a problem for the neighbours once the fence is fixed",
    "bleach the sink and the loo every sunday",
    # the traps named in the brief
    "I drink coffee",
    # new kinds' traps, and "help" that is not only "help"
    "my chest infection is better now",
    "my kids are at school today",
    "the baby is asleep upstairs",
    "can you help me find a job",
    "I need help with my CV",
    "is this urgent or can it wait till monday",
    "I'm dead 😂",
    "I'm dead tired",
    "I'm 17 and looking for an apprenticeship",
    "my mate overdid it at the gym",
    "I'm dying to get a job",
    "this form is killing me",
    "I took my prescribed pills",
    "I want to stop drinking",
    "I'm mixing paint",
    "I had a fit of laughter",
    "the jeans fit",
    "I died laughing",
    "cutting down on booze",
    "blue sky",
    # everyday recovery talk
    "I want help with my drinking",
    "I've been clean 3 months",
    "my dad died of drink",
    "I need a job",
    "I'm on methadone",
    "I get my script from the chemist",
    "I go to AA meetings on Tuesdays",
    "I've been sober for a year",
    "I smoke weed every day",
    "I'm worried about my drinking",
    "can I get help with cocaine",
    "I used to inject heroin",
    "I drink about 8 cans a day",
    "I've stopped taking heroin and benzos",
    "I came off methadone last year",
    "I take my tablets with water",
    "I take my meds with food",
    "I want to get off the drink and find work",
    "I'm not suicidal",
    "I've never overdosed",
    "I have mixed feelings about rehab",
    "I'm mixing my drinks tonight",
    "I've been prescribed naltrexone",
    "my methadone dose went up",
    "I'm on a reducing dose of diazepam",
    "I blacked out once years ago",
    "I need help with alcohol and heroin",
    # idioms and traps
    "that's odd",
    "the odds are good",
    "the steak was overdone",
    "my mate overdoes it at the gym",
    "kitchen fitting apprenticeship",
    "I'm looking for a fitting room",
    "I don't fit in",
    "I'm getting fit",
    "one size fits all",
    "I'm killing time before my appointment",
    "my phone died",
    "my phone is going to die",
    "the battery is dead",
    "I'm dead tired",
    "I could murder a cup of tea",
    "feeling blue about losing my job",
    "I cut my hair",
    "I'm cutting myself some slack",
    "I cut myself off from my friends",
    "I cut myself shaving",
    "I hurt myself at the gym",
    "I'm proud of myself",
    "I need to look after myself",
    "I'm seizing the opportunity",
    "police seized my phone",
    "I can't wake up in the mornings",
    "my alarm won't wake me",
    "she won't respond to my texts",
    "I want to take my life back",
    "I'd like to end things with my dealer",
    "the deal collapsed",
    "I took too much time off",
    "I had too much to drink last night",
    "I gave it a shot myself",
    "I've been saving up for a tablet",
    "I killed myself laughing",
    "she'll have a fit when she finds out",
    "I had a fit about it",
    "that's a fitting tribute",
    "the weather is killing me",
    "I'm over the moon",
    "I'm overdue a haircut",
    "unconscious bias training",
    "it's 5 kms from my house",
    "I need a drink of water",
    "my mum is going grey",
    "till I'm blue in the face",
    "I want to end my shift early",
    "where's my nearest jobcentre",
    "PO1 3AX",
    "L20 3",
    "can you help me find a peer mentor",
    "what's the point of this form",
    "I'm a plumber",
    "I feel great today",
    "I took everything I had to the tip",
    "I took all my gear to work",
    "I took all my stuff",
    "I took loads of stuff to the charity shop",
    "I'm tired of living in Hull",
    "I mixed everything together in a bowl",
    "I need to die my hair",
    "Suicide Squad is a good film",
    "I'm done with drinking",
    "I could die for a pizza",
    "Is 20 mg of methadone a lot",
    "I took 2 paracetamol for my headache",
    "I've had 12 years clean",
    "I took my full prescription as normal",
    "I've got a fit note from my GP",
    "My kitchen fitter is coming tomorrow",
    "I'm fit and healthy",
    "I hit my head on the cupboard",
    "I burnt my hand on the oven",
    "Breathing exercises help my anxiety",
    "I'm out of breath after the stairs",
    "My kids won't wake up for school",
    "He's not responding to my emails",
    "I stopped drinking and I'm on methadone now",
    "I'm not drinking and I'm on methadone",
    "I used to take crack and heroin together",
    "Nobody would hire me",
    "I'd be better off if I was working",
    "I've been cutting down",
    "The police are seizing drugs",
    "I take my medication with a glass of water",
    "Can I drink while on antibiotics",
    "I work as a gas fitter",
    "I listen to the blues",
    "I can't carry on drinking like this",
    "I get the shakes in the morning",
    "I take diazepam for anxiety",
    "I'm on a methadone script",
]


# The phrases find these, but issue 11's corpus calls such messages ordinary (a general
# question, a habit of someone else's, a prescription disclosed): the model may confirm
# them or not (`confirm = true` families). Everything else above must get a reply.
QUESTIONS_AND_HABITS = {
    "my friend overdoes on heroin all the time",
    "is it safe to take diazepam with heroin",
    "I have a prescription for diazepam and I drink",
    "quick question, does the jobcentre have naloxone kits or do I go to the chemist",
    "is diazepam and alcohol dangerous?",
    "where can I get naloxone",
    "do you have narcan",
}


@pytest.mark.parametrize(("message", "kind"), CRISIS_MESSAGES)
def test_crisis_messages_are_detected(message: str, kind: Kind) -> None:
    assert rule_kind(message) is kind, normalise(message)
    verdict = assess(message)
    assert verdict is not None or message in QUESTIONS_AND_HABITS, normalise(message)
    if kind in (THREAT, CHILD):  # these pick their own reply
        assert verdict is not None and verdict.kind is kind


@pytest.mark.parametrize("message", ORDINARY_MESSAGES)
def test_ordinary_messages_stay_quiet(message: str) -> None:
    assert rule_kind(message) is None, normalise(message)


def test_ordinary_messages_rarely_get_the_urgent_reply() -> None:
    """The model alone can answer ordinary talk with a check-in (README, "Crisis check":
    the measured rate), but it seldom sends the urgent reply to it."""
    urgent = [m for m in ORDINARY_MESSAGES if (v := assess(m)) and v.tier is Tier.URGENT]
    assert len(urgent) <= 0.05 * len(ORDINARY_MESSAGES), urgent


def test_enough_examples_for_each_kind() -> None:
    assert len(CRISIS_MESSAGES) >= 60
    assert len(ORDINARY_MESSAGES) >= 50
    for kind in Kind:
        assert sum(1 for _, k in CRISIS_MESSAGES if k is kind) >= 5, kind


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        # Acute danger wins over everything else in the same message.
        ("I took all my pills because I want to die", OD),
        ("he's mixed benzos with gear and now he's not breathing", OD),
        ("he OD'd, where do I get narcan", OD),
        ("I've been fitting and I want to die", FITS),
        ("I mixed everything I have, I want to end it all", SUI),
        ("mixing heroin and valium, do I need naloxone", MIX),
    ],
)
def test_priority_when_several_kinds_match(message: str, kind: Kind) -> None:
    assert rule_kind(message) is kind


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # Negation is honoured only for a plain, direct denial of a mention ...
        ("I'm not suicidal", None),
        ("I have never self harmed", None),
        ("I've never had a seizure", None),
        ("no overdose here, just asking", None),
        # ... and never when something follows that takes it back or hedges,
        ("I'm not suicidal but I can't go on", SUI),
        ("I'm not suicidal right now", SUI),
        ("not really suicidal", SUI),
        ("never overdosed but my mate has", OD),
        # never for the acute signs or the intent to die,
        ("I don't want to die", SUI),
        ("he's not breathing", OD),
        ("I'm not going to overdose, am I?", OD),
        # and for mixing only when someone talks about having stopped.
        ("I stopped taking heroin and benzos", None),
        ("I used to drink on methadone", None),
        ("I used to take diazepam and I drank", None),
        ("I'm not sure, I took heroin and benzos", MIX),
        ("I was clean but last night I took heroin and benzos", MIX),
        ("I can't stop taking heroin and benzos", MIX),
    ],
)
def test_negation_only_where_safe(message: str, expected: Kind | None) -> None:
    assert rule_kind(message) is expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("I’m going to kill myself", "im going to kil myself"),
        ("Sooo sad", "so sad"),
        ("OD'd", "overdose"),
        ("k1ll", "kil"),
        ("self-harm", "self harm"),
        ("that's odd", "thats odd"),
        ("off of", "off of"),
        ("it hurts. a lot!", "it hurts . a lot ."),
        ("😢want\u200bto die😢", "want to die"),
        ("wanna", "want to"),
        ("sucidal", "suicidal"),
    ],
)
def test_normalise(message: str, expected: str) -> None:
    assert normalise(message) == expected


def test_explain_names_the_phrase_and_the_negation() -> None:
    def explained(text: str) -> list[tuple[str, Kind, str, bool]]:
        return [
            (hit.family.name, hit.family.kind, hit.text, hit.negated)
            for hit in engine().explain(normalise(text))
        ]

    assert ("suicide_word", SUI, "suicidal", True) in explained("I'm not suicidal")
    assert explained("I want to stop drinking") == []
    found = explained("he's not breathing and I want to die")
    assert {(name, kind) for name, kind, _, _ in found} == {
        ("unresponsive", OD),
        ("wish_to_die", SUI),
    }


def test_empty_and_whitespace() -> None:
    assert assess("") is None
    assert assess("   \n\t ") is None
    assert assess("😀" * 50) is None
    assert rule_kind("") is None


def test_a_long_message_is_scanned_to_the_end() -> None:
    filler = "I need help finding a job near Portsmouth. " * 95
    assert len(filler) > 4000
    assert assess(filler[:4000]) is None
    assert rule_kind(filler[:4000] + " i want to die") is SUI
    assert assess(filler[:4000] + " i want to die") is not None


def test_every_phrase_compiles_and_is_indexed() -> None:
    # Every phrase is reachable: indexed by its first words or tried everywhere.
    shipped = engine()
    indexed = {
        id(phrase)
        for always, by_second in shipped.index.values()
        for group in (always, *by_second.values())
        for phrase in group
    }
    indexed |= {id(phrase) for phrase in shipped.everywhere}
    total = sum(len(f.phrases) for f in shipped.families)
    assert len(indexed) == total == len(shipped.phrases)
    for phrase in shipped.phrases:
        phrase.pattern()  # compiles
    assert not shipped.everywhere, "a phrase starting with any word slows every message"


def test_the_shipped_phrase_index_is_up_to_date() -> None:
    """Edited phrases are worked out live (slower start): retrain to refresh the index."""
    assert build_engine().worked_out_live == 0, "run `make crisis-model` after editing phrases"


def test_families_are_documented() -> None:
    families = load_families()
    for family in families:
        assert family.why.strip(), family.name
        assert family.phrases, family.name
    assert len({f.name for f in families}) == len(families)
    assert {f.kind for f in families} == set(Kind)
    assert {f.tier for f in families} == set(Tier)


def test_bad_phrases_are_refused() -> None:
    vocabulary = engine().vocabulary
    with pytest.raises(KeyError):
        phrase_to_regex("<nonsense> myself", vocabulary)
    with pytest.raises(ValueError, match="lowercase"):
        phrase_to_regex("Kill Myself", vocabulary)


@pytest.mark.parametrize(
    ("phrase", "joined"),
    [("'''(a|b\n   |c) d'''", "(a|b|c) d"), ("'''(a|b)\n   (c|d)'''", None)],
)
def test_a_phrase_broken_over_lines_must_break_before_a_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, phrase: str, joined: str | None
) -> None:
    (tmp_path / "x.toml").write_text(
        '[[family]]\nname = "x"\nkind = "naloxone"\ntier = "checkin"\n'
        f'why = "a test"\nphrases = [{phrase}]\n'
    )
    monkeypatch.setattr(datafiles, "FAMILIES_DIR", tmp_path)
    if joined is not None:
        assert load_families()[0].phrases == (joined,)
    else:
        with pytest.raises(DataError, match="before a"):
            load_families()


_WORD_LIST = Path("/usr/share/dict/british-english")


@pytest.mark.skipif(not _WORD_LIST.exists(), reason="no British English word list installed")
def test_typo_table_does_not_rewrite_real_words() -> None:
    words = {
        dedupe_letters(w.strip().lower())
        for w in _WORD_LIST.read_text(encoding="utf-8").splitlines()
        if re.fullmatch(r"[A-Za-z]+", w.strip())
    }
    aliases = {dedupe_letters(k) for k in datafiles.load_words().aliases}
    table = normalising.word_map()
    rewritten = {w: table[w] for w in words if w in table}
    # Only forms of the keyword itself ("heroins", "suicides") may be rewritten.
    changed_meaning = sorted(
        w for w, target in rewritten.items() if w not in aliases and w[:6] != target[:6]
    )
    assert changed_meaning == []


# -- properties --------------------------------------------------------------

_SAMPLES = [m for m, _ in CRISIS_MESSAGES] + ORDINARY_MESSAGES


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_on_any_text(text: str) -> None:
    verdict = assess(text)
    assert verdict is None or isinstance(verdict.tier, Tier)
    rule_kind(text)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_SAMPLES),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
)
def test_case_insensitive(message: str, before: str, after: str) -> None:
    text = f"{before} {message} {after}"
    expected, verdict = rule_kind(text), assess(text)
    for variant in (text.upper(), text.lower(), text.swapcase(), text.title()):
        assert rule_kind(variant) is expected
        assert assess(variant) == verdict


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([(m, k) for m, k in CRISIS_MESSAGES if k is not HELP]),  # whole messages
    st.sampled_from(ORDINARY_MESSAGES),
)
def test_a_crisis_phrase_is_found_next_to_ordinary_talk(
    case: tuple[str, Kind], ordinary: str
) -> None:
    message, kind = case
    for text in (f"{ordinary}. {message}", f"{message}. {ordinary}"):
        assert kind in {hit.family.kind for hit in engine().matched(normalise(text))}


def _without_index(shipped: Engine, text: str) -> list[str]:
    """Engine.matched the slow way: every phrase tried at every word."""
    normalised = normalise(text)
    starts = [0] + [i + 1 for i, ch in enumerate(normalised) if ch == " "]
    found: dict[int, str] = {}
    for phrase in shipped.phrases:
        for start in starts:
            match = phrase.pattern().match(normalised, start)
            if match and not (phrase.negated and phrase.negated(normalised, match)):
                found[phrase.rank] = phrase.family.name
    return [found[rank] for rank in sorted(found)]


# Words that phrases are made of, so random sentences from them hit many phrases.
_PHRASE_WORDS = sorted(
    {word for message in _SAMPLES for word in normalise(message).split() if word not in {".", "?"}}
)


def _names(text: str) -> list[str]:
    return [hit.family.name for hit in engine().matched(normalise(text))]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PHRASE_WORDS), min_size=1, max_size=12))
def test_the_word_index_never_misses_a_phrase(words: list[str]) -> None:
    text = " ".join(words)
    assert _names(text) == _without_index(engine(), text)


@pytest.mark.parametrize("message", _SAMPLES)
def test_the_word_index_agrees_on_every_example(message: str) -> None:
    assert _names(message) == _without_index(engine(), message)


def test_nothing_is_compiled_at_import() -> None:
    """Start-up: importing the check builds nothing (a fresh interpreter)."""
    code = (
        "import conversations.safety.check, conversations.safety.rules as r, "
        "conversations.safety.model as m, conversations.safety.normalise as n; "
        "print(r.engine.cache_info().currsize, m.model.cache_info().currsize, "
        "n.word_map.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "0", "0"]


def test_no_phrase_needs_two_spaces_in_a_row() -> None:
    """Normalised text never has two spaces together: a space written before a <gap>
    (whose words bring their own spaces) would make the phrase match nothing."""
    vocabulary = engine().vocabulary
    sources = [p for f in load_families() for p in f.phrases]
    sources += [a for alternatives in vocabulary.lists.values() for a in alternatives]
    assert [s for s in sources if " <gap" in s] == []


@pytest.mark.parametrize("message", _SAMPLES)
def test_training_replays_the_live_check_exactly(message: str) -> None:
    """Thresholds are chosen by replaying the check on scores worked out ahead
    (`training.decide`): the replay, the full path and the quick path must agree."""
    from conversations.safety.check import assess_with
    from conversations.safety.model import model
    from conversations.safety.training import decide

    live = assess_with(engine(), model(), message)
    explained = assess_with(engine(), model(), message, explain=True)
    assert live.verdict == explained.verdict == decide(explained, model().thresholds)


def _sure_model(p_help: float) -> Model:
    """A model that gives every message the same P(help) (and never P(urgent))."""
    bias = math.log(p_help / (1 - p_help))
    return build_model(
        help_model=Linear(bias, {}),
        urgent_model=Linear(-20.0, {}),
        kind_models={Kind.SUICIDE_SELF_HARM: Linear(0.0, {})},
        thresholds=Thresholds(checkin=0.5, urgent=0.5, confirm=0.35, urgent_alone=1.0),
        about={},
    )


@pytest.mark.parametrize(
    "text",
    [
        "he used to strangle me every weekend, i'm out now",
        "that eastenders storyline with him strangling her was well done",
        "years ago i had chest pain after coke and ended up in a and e",
    ],
)
def test_a_match_in_talk_about_the_past_or_a_film_needs_the_model(text: str) -> None:
    rules = build_engine()
    doubtful = assess_with(rules, _sure_model(0.2), text, explain=True)
    assert doubtful.found, "the phrase matches"
    assert doubtful.not_now
    assert doubtful.verdict is None, "the model sees no danger: the match does not count"
    confirmed = assess_with(rules, _sure_model(0.4), text, explain=True)
    assert confirmed.verdict is not None, "the model confirms it: it counts"


@pytest.mark.parametrize(
    "text",
    [
        "my ex is strangling me right now in the kitchen",
        "my mate took gear 10 mins ago and now he has gone blue and wont wake up",
        "used to strangle me",  # six words or fewer: taken at its word, whatever they are
    ],
)
def test_a_match_about_now_or_in_a_few_words_counts_without_the_model(text: str) -> None:
    assessed = assess_with(build_engine(), _sure_model(0.01), text, explain=True)
    assert assessed.found
    assert assessed.verdict is not None

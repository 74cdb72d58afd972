"""The crisis check: what must trigger, what must stay quiet, and robustness."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.safety import detector
from conversations.safety.detector import CrisisKind, detect_crisis, normalise

OD = CrisisKind.OVERDOSE
MIX = CrisisKind.MIXING
FITS = CrisisKind.WITHDRAWAL_FITS
NAL = CrisisKind.NALOXONE
SUI = CrisisKind.SUICIDE_SELF_HARM

# (message, expected kind). Grouped by kind; each group mixes plain words, UK
# slang, misspellings, capitals, punctuation, emoji and longer messages.
CRISIS_MESSAGES: list[tuple[str, CrisisKind]] = [
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
    ("I think the gear was cut with fent", MIX),
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
    # the traps named in the brief
    "I drink coffee",
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


@pytest.mark.parametrize(("message", "kind"), CRISIS_MESSAGES)
def test_crisis_messages_are_detected(message: str, kind: CrisisKind) -> None:
    assert detect_crisis(message) is kind, normalise(message)


@pytest.mark.parametrize("message", ORDINARY_MESSAGES)
def test_ordinary_messages_stay_quiet(message: str) -> None:
    assert detect_crisis(message) is None, normalise(message)


def test_enough_examples_for_each_kind() -> None:
    assert len(CRISIS_MESSAGES) >= 60
    assert len(ORDINARY_MESSAGES) >= 50
    for kind in CrisisKind:
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
def test_priority_when_several_kinds_match(message: str, kind: CrisisKind) -> None:
    assert detect_crisis(message) is kind


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
def test_negation_only_where_safe(message: str, expected: CrisisKind | None) -> None:
    assert detect_crisis(message) is expected


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
    assert ("suicide_word", SUI, "suicidal", True) in detector.explain("I'm not suicidal")
    assert detector.explain("I want to stop drinking") == []
    found = detector.explain("he's not breathing and I want to die")
    assert {(name, kind) for name, kind, _, _ in found} == {
        ("unresponsive", OD),
        ("wish_to_die", SUI),
    }


def test_empty_and_whitespace() -> None:
    assert detect_crisis("") is None
    assert detect_crisis("   \n\t ") is None
    assert detect_crisis("😀" * 50) is None


def test_a_long_message_is_scanned_to_the_end() -> None:
    filler = "I need help finding a job near Portsmouth. " * 95
    assert len(filler) > 4000
    assert detect_crisis(filler[:4000]) is None
    assert detect_crisis(filler[:4000] + " i want to die") is SUI


def test_every_phrase_compiles_and_is_indexed() -> None:
    # Every phrase is reachable: indexed by its first words or tried everywhere.
    indexed = {
        id(phrase)
        for always, by_second in detector._INDEX.values()
        for group in (always, *by_second.values())
        for phrase in group
    }
    indexed |= {id(phrase) for phrase in detector._EVERYWHERE}
    total = sum(len(f.phrases) for f in detector.FAMILIES)
    assert len(indexed) == total
    assert not detector._EVERYWHERE, "a phrase starting with any word slows every message"


def test_families_are_documented() -> None:
    for family in detector.FAMILIES:
        assert family.why.strip(), family.name
        assert family.phrases, family.name
    assert len({f.name for f in detector.FAMILIES}) == len(detector.FAMILIES)
    assert {f.kind for f in detector.FAMILIES} == set(CrisisKind)
    assert set(detector.PRIORITY) == set(CrisisKind)


def test_bad_phrases_are_refused() -> None:
    with pytest.raises(KeyError):
        detector._phrase_to_regex("<nonsense> myself")
    with pytest.raises(ValueError, match="lowercase"):
        detector._phrase_to_regex("Kill Myself")


_WORD_LIST = Path("/usr/share/dict/british-english")


@pytest.mark.skipif(not _WORD_LIST.exists(), reason="no British English word list installed")
def test_typo_table_does_not_rewrite_real_words() -> None:
    words = {
        detector._dedupe_letters(w.strip().lower())
        for w in _WORD_LIST.read_text(encoding="utf-8").splitlines()
        if re.fullmatch(r"[A-Za-z]+", w.strip())
    }
    aliases = {detector._dedupe_letters(k) for k in detector.WORD_ALIASES}
    rewritten = {w: detector._WORD_MAP[w] for w in words if w in detector._WORD_MAP}
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
    result = detect_crisis(text)
    assert result is None or isinstance(result, CrisisKind)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_SAMPLES),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
)
def test_case_insensitive(message: str, before: str, after: str) -> None:
    text = f"{before} {message} {after}"
    expected = detect_crisis(text)
    assert detect_crisis(text.upper()) is expected
    assert detect_crisis(text.lower()) is expected
    assert detect_crisis(text.swapcase()) is expected
    assert detect_crisis(text.title()) is expected


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(CRISIS_MESSAGES), st.sampled_from(ORDINARY_MESSAGES))
def test_a_crisis_phrase_is_found_next_to_ordinary_talk(
    case: tuple[str, CrisisKind], ordinary: str
) -> None:
    message, kind = case
    for text in (f"{ordinary}. {message}", f"{message}. {ordinary}"):
        found = detect_crisis(text)
        assert found is not None
        assert detector.PRIORITY.index(found) <= detector.PRIORITY.index(kind)


def _all_phrases() -> list[detector._Phrase]:
    phrases = {
        id(p): p
        for always, by_second in detector._INDEX.values()
        for group in (always, *by_second.values())
        for p in group
    }
    phrases.update((id(p), p) for p in detector._EVERYWHERE)
    return list(phrases.values())


_ALL_PHRASES = _all_phrases()


def _without_index(text: str) -> CrisisKind | None:
    """detect_crisis the slow way: every phrase tried at every word."""
    normalised = normalise(text)
    starts = [0] + [i + 1 for i, ch in enumerate(normalised) if ch == " "]
    best = len(detector.PRIORITY)
    for phrase in _ALL_PHRASES:
        for start in starts:
            match = phrase.pattern.match(normalised, start)
            if match and not (phrase.negated and phrase.negated(normalised, match)):
                best = min(best, phrase.rank)
    return detector.PRIORITY[best] if best < len(detector.PRIORITY) else None


# Words that phrases are made of, so random sentences from them hit many phrases.
_PHRASE_WORDS = sorted(
    {word for message in _SAMPLES for word in normalise(message).split() if word not in {".", "?"}}
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PHRASE_WORDS), min_size=1, max_size=12))
def test_the_word_index_never_misses_a_phrase(words: list[str]) -> None:
    text = " ".join(words)
    assert detect_crisis(text) is _without_index(text)


@pytest.mark.parametrize("message", _SAMPLES)
def test_the_word_index_agrees_on_every_example(message: str) -> None:
    assert detect_crisis(message) is _without_index(message)

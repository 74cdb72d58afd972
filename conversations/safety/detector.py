"""The crisis check: does a free-text message signal danger?

Every free-text message passes through :func:`detect_crisis` before its flow
handler sees it (DESIGN.md §2 step 3). When it returns a :class:`CrisisKind`, the
bot sends the urgent-help reply for that kind first (the sentences live in the
reply catalog, not here), then the flow goes on. This module only classifies.

The rule that shapes everything below: **when in doubt, trigger.** A false
positive shows someone the helpline numbers; a false negative can cost a life.
Ordinary talk (including everyday recovery talk: "I want help with my drinking",
"I've been clean 3 months") must still stay quiet, so phrases are specific and
the few idioms that look dangerous ("I had a fit of laughter", "this form is
killing me") are ruled out explicitly.

How a message is matched
------------------------
1. It is normalised (:func:`normalise`): Unicode compatibility forms, accents
   and case are folded; curly quotes straightened; "OD'd" / "o.d." / "ODing"
   become the word ``overdose`` and "d.t.s" becomes ``dts``; apostrophes are
   dropped ("can't" -> "cant"); sentence punctuation becomes a clause break
   " . " (a question mark " ? "; an ellipsis is just a pause); everything else
   that is not a letter or digit (emoji, hyphens, commas) becomes a space;
   runs of a repeated letter collapse to one ("sooo" -> "so", "kill" -> "kil":
   the phrase lists are collapsed the same way, so this is invisible to
   whoever edits them; only "ff" and "dd" are kept, so that "off" and "of",
   "odd" and "od" stay apart);
   digits inside a word become letters ("k1ll", "h3r0in"); finally each word
   goes through :data:`WORD_ALIASES` and a misspelling table built from
   :data:`FUZZY_KEYWORDS` (a letter missing, extra or wrong, or two letters
   swapped: "sucidal", "naloxnoe", "siezure").
2. Every phrase is a regular expression over that text, matched as whole
   words. At import each phrase is indexed by the first one or two words it
   can begin with (worked out from the phrase itself), so a message is read
   word by word and only the few phrases that can begin at a word are tried
   there.
3. A match that is *safely negated* (see :class:`Negation`) does not count.
   When several kinds match, :data:`PRIORITY` picks one.

Editing the phrase lists (for content designers)
------------------------------------------------
* Write lowercase words with single spaces. Leave out apostrophes ("cant",
  "wont", "im") and write a hyphen as an optional space ("self ?harm").
* Double letters don't matter ("kill" also matches "kil" and "killll").
* ``(a|b)`` means a or b; ``?`` after a letter or a bracket makes it optional;
  ``(?! x| y)`` means "not followed by x or y" (how idioms are ruled out).
* ``<name>`` inserts a shared word list from :data:`VOCAB` (for example
  ``<self>``, ``<opioid>``) or a helper from :data:`HELPERS`: ``<gap>`` is up
  to three words, ``<gap2>`` up to two, ``<end>`` is the end of a sentence.
* Start every phrase with a word, not with ``<gap>``: phrases are indexed by
  the words they begin with (a test checks). ``(?<!x )`` at the start means
  "not straight after x".
* :func:`explain` shows which phrases a message matches, and whether a
  negation cancelled them.
* Each family says why it exists. Add a test for every phrase you add, to
  ``tests/crisis/test_crisis.py``: one that must trigger and, if it is a new idiom
  risk, one that must not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from itertools import accumulate, compress
from typing import Final

__all__ = [
    "FAMILIES",
    "PRIORITY",
    "CrisisKind",
    "Family",
    "Negation",
    "detect_crisis",
    "explain",
    "normalise",
]


class CrisisKind(StrEnum):
    """What kind of danger a message signals; picks the urgent reply."""

    OVERDOSE = "overdose"
    MIXING = "mixing"
    WITHDRAWAL_FITS = "withdrawal_fits"
    NALOXONE = "naloxone"
    SUICIDE_SELF_HARM = "suicide_self_harm"


#: When one message matches several kinds, the first one here wins. Acute
#: physical emergencies where the first action is to call 999 come first (an
#: overdose happening now, a fit); then suicide and self-harm; then the
#: harm-reduction kinds (mixing, naloxone), which give way when a more urgent
#: kind is in the same message. "I took all my pills, I want to die" is an
#: OVERDOSE first.
PRIORITY: Final[tuple[CrisisKind, ...]] = (
    CrisisKind.OVERDOSE,
    CrisisKind.WITHDRAWAL_FITS,
    CrisisKind.SUICIDE_SELF_HARM,
    CrisisKind.MIXING,
    CrisisKind.NALOXONE,
)


class Negation(StrEnum):
    """Which matches of a family may be cancelled by the words before them.

    Negation is only applied where missing a message is low-risk, and never to
    the acute families (not breathing, can't wake him, fitting, intent to die).
    """

    #: Never cancelled.
    NONE = "none"
    #: A *mention* of the word ("suicidal", "overdose", "seizure") directly
    #: denied: "I'm not suicidal", "I've never overdosed", "no seizures". Not
    #: cancelled when a hedge or a "but" follows ("not suicidal yet",
    #: "never overdosed but ...") or when the negator is further away.
    DENIAL = "denial"
    #: A co-occurrence of two substances in recovery talk: "I stopped taking
    #: heroin and benzos", "I used to take methadone with drink". The mixing
    #: reply is harm-reduction advice for someone using now, not someone who
    #: stopped. Only the two-substance families; "mixing" itself is never
    #: cancelled.
    RECOVERY = "recovery"


@dataclass(frozen=True, slots=True)
class Family:
    """A named group of phrases that signal one kind of crisis."""

    kind: CrisisKind
    name: str
    why: str
    phrases: tuple[str, ...]
    negation: Negation = Negation.NONE


# ---------------------------------------------------------------------------
# Shared vocabulary, inserted into phrases as <name>.
# ---------------------------------------------------------------------------

#: Small regex helpers. A "word" after normalisation is letters and digits; a
#: clause break is " . " (or " ? "), so word windows never run across sentences.
HELPERS: Final[Mapping[str, str]] = {
    "gap": "( [a-z0-9]+){0,3}",
    "gap2": "( [a-z0-9]+){0,2}",
    "gap1": "( [a-z0-9]+)?",
    "end": "(?= [.?]|$)",
}

#: Word lists shared by several families. Each entry is one alternative (it may
#: use the phrase syntax itself, including other <names>).
# fmt: off
VOCAB: Final[Mapping[str, tuple[str, ...]]] = {
    # Reflexive pronouns, with UK "meself" and a space typed inside. Third
    # person is included: "he's going to kill himself" is a crisis too.
    # "yourself" is not: "kill yourself" sent to a bot is abuse, not a plea.
    "self": (
        "my ?self", "me ?self", "ma ?self", "mi ?self",
        "him ?self", "her ?self", "them ?selves", "them ?self", "their ?self",
    ),
    # The person someone is worried about, as the subject of a sentence.
    "who": (
        "mate", "mates", "friend", "pal", "bro", "partner", "boyfriend", "girlfriend", "bf", "gf",
        "husband", "wife", "fella", "missus", "son", "daughter", "brother", "sister", "mum",
        "mom", "mam", "dad", "cousin", "flatmate", "housemate", "uncle", "aunt", "auntie",
        "nan", "grandad", "grandma", "kid", "lad", "girl", "guy", "bloke", "man", "woman",
        "someone", "somebody", "baby", "neighbour",
    ),
    "person": (
        "he", "she", "they", "hes", "shes", "theyre", "theyve", "i", "ive", "im",
        "<who>",
    ),
    # Opioids, incl. UK street names and prescribed substitutes. ("brown" and
    # "junk" are left out here: "brown rice with wine" must stay quiet.)
    "opioid": (
        "heroin", "smack", "gear", "skag", "scag", "methadone", "metha", "physeptone",
        "bupe", "bupes", "subutex", "subbies", "buprenorphine", "suboxone", "espranor",
        "buvidal", "morphine", "oramorph", "oxy", "oxys", "oxycodone", "oxycontin", "codeine",
        "co ?codamol", "dihydrocodeine", "dhc", "tramadol", "trammies", "fentanyl", "fent",
        "fent patches", "nitazenes?", "nitas", "opiates?", "opioids?", "opium", "diamorphine",
        "pethidine", "tapentadol",
    ),
    # Benzodiazepines and other sedatives ("blues" = street diazepam in the UK).
    "benzo": (
        "benzos?", "benzodiazepines?", "diazepam", "valium", "vallies", "vals", "blues",
        "street blues", "xanax", "xannies", "xans", "alprazolam", "etizolam", "etizzies",
        "etiz", "clonazepam", "klonopin", "lorazepam", "ativan", "temazepam", "temazies",
        "jellies", "nitrazepam", "librium", "chlordiazepoxide", "zopiclone", "zolpidem",
        "sleeping (pills|tablets|tabs)", "sleepers",
    ),
    # Gabapentinoids: deadly with opioids.
    "gaba": ("pregabalin", "pregab", "pregabs", "gabapentin", "gabapentine", "lyrica", "gabbies"),
    "ghb": ("ghb", "gbl", "geebs", "liquid ecstasy", "liquid e"),
    # Medicines in general. Only "with"/"on top of"-style links or a mixing
    # verb make these a mixing risk: "I take my pills with water" stays quiet.
    "meds": (
        "meds", "medication", "medications", "medicine", "pills", "tablets", "tabs",
        "prescription", "script", "antidepressants", "sertraline", "mirtazapine",
        "amitriptyline", "quetiapine", "olanzapine", "antihistamines", "painkillers",
    ),
    # Named depressants other than alcohol.
    "named": ("<opioid>", "<benzo>", "<gaba>", "<ghb>"),
    # ... plus medicines in general: one side of a mixing pair.
    "rx": ("<named>", "<meds>"),
    # Alcohol as a noun or a drinking verb. "a drink of water" is not alcohol.
    "alcohol": (
        "alcohol", "booze", "drink(?!( of)? (water|milk|juice|tea|coffee|squash|pop|plenty))",
        "(?<!soft )(?<!energy )(?<!fizzy )drinks",
        "drinking(?! (water|milk|juice|tea|coffee|squash|pop|plenty|lots of water))",
        "drank", "drunk", "beers?", "lagers?", "ciders?", "wine", "vodka", "whisky", "whiskey",
        "gin", "rum", "brandy", "cans", "pints?", "spirits", "bevvy", "bevvies", "tinnies",
        "buckfast", "buckie", "white lightning", "frosty jack", "special brew",
    ),
    "depressant": ("<rx>", "<alcohol>"),
    # Stimulants and others: they count for an explicit "mixing" only. Words
    # that are also ordinary English ("speed", "white", "rock", "acid",
    # "charlie", "spice") are left out so "mixing rock music" stays quiet.
    "stim": (
        "coke", "cocaine", "crack", "pingers", "mdma", "ecstasy", "amphetamines?",
        "mephedrone", "mcat", "meow meow", "ket", "ketamine", "crystal meth", "meth", "mamba",
        "monkey dust", "nitrous", "lsd",
    ),
    # Anything one might take, except alcohol on its own ("mixing drinks").
    "substance": ("<rx>", "<stim>", "drugs", "drug", "substances", "downers", "uppers"),
    # Medicines and drugs one could swallow too many of.
    "pills": (
        "<opioid>", "<benzo>", "<gaba>", "<meds>", "paracetamol", "paracetemol", "ibuprofen",
        "aspirin", "insulin",
    ),
    # What an overdose is usually "of".
    "pillish": (
        "<pills>", "<stim>", "doses", "dose", "drugs",
        "stuff(?! to| for| in| on| at| with| from| into| out| away| back| home)",
    ),
    # "die" typed for "dye": "I need to die my hair".
    "dyed": (
        "(my|his|her|your|the|it) (hair|roots|clothes|jeans|shirt|top|beard|eyebrows)",
        "it (blue|red|black|pink|blonde|green|purple)",
    ),
    # Verbs of taking a substance, incl. slang (necked, banged = injected).
    "take": (
        "took", "taken", "take", "takes", "taking", "takin", "had", "having", "done", "doing",
        "did", "necked", "necking", "popped", "popping", "swallowed", "swallowing", "injected",
        "injecting", "banged", "banging", "smoked", "smoking", "snorted", "snorting",
        "dropped", "dropping", "used(?! to)", "use(?! to)", "uses", "using", "downed", "ate",
        "eaten",
    ),
    # Narrower: verbs of swallowing a whole supply ("took all my pills"; not "had
    # all my pills stolen", "used all my script").
    "swallow": (
        "took", "taken", "take", "takes", "taking", "takin", "swallowed", "swallow",
        "swallowing", "necked", "necking", "downed", "downing", "popped", "popping", "ate",
        "eaten", "injected", "banged", "done", "did",
    ),
}
# fmt: on


# ---------------------------------------------------------------------------
# The phrase families.
# ---------------------------------------------------------------------------

OVERDOSE_FAMILIES: Final[tuple[Family, ...]] = (
    Family(
        CrisisKind.OVERDOSE,
        "overdose_word",
        "The word itself and its misspellings: overdosed, over dose, overdoze, ODing "
        "('OD' forms are rewritten to 'overdose' by normalise). 'overdoes' is a common "
        "misspelling, but 'she overdoes it at the gym' is ordinary, so those objects are "
        "ruled out.",
        (
            "(over|ova|ovr|ove|ovre) ?(dose|doses|dosed|dosing|dosin|doseing|dosage|dosd"
            "|doze|dozed|dozing)",
            "(over|ova|ovr)dos",
            "overdoes(?! it| things| everything| that| the| stuff| this| a| his| her| their| my"
            "| your| our)",
        ),
        Negation.DENIAL,
    ),
    Family(
        CrisisKind.OVERDOSE,
        "too_much",
        "Taking too much, all of it, or a whole packet: 'took too many pills', 'I think I "
        "took too much', 'swallowed a whole box of paracetamol', 'necked all my methadone'. "
        "'had too much to drink' and 'took too much time' are ordinary and stay quiet.",
        (
            "<take>( it| them| way| far| a bit| a lot| abit| just){0,2} (to|too) "
            "(many|much)( of)?( my| his| her| their| the| them| these| those| it)?<gap1> "
            "<pillish>",
            "<take>( it| them| way| far| a bit| a lot| abit| just){0,2} (to|too) (many|much)"
            "( of (them|those|these|it|that))?<end>",
            "<take>( a| the| my| his| her| their| two| three| to| 3| a couple of| a few)?"
            "( whole| entire| full)? (packet|pack|box|bottle|strip|tub|blister|sheet)s? of"
            "( my| his| her| the)?<gap1> <pillish>",
            "<take>( a| the)? (handful|handfull|handfuls|fistful|load|loads|bunch|shitload"
            "|lot|lots|stack|mouthful) of( my| his| her| the)?<gap1> <pillish>",
            "<swallow>( about| like| over| around| at least| maybe)? ([1-9][0-9]+|ten|twelve"
            "|fifteen|twenty|thirty|forty|fifty|sixty|hundred|a hundred|dozens|a dozen|a few dozen)"
            "(?! (mg|ml|mls|milligrams|mil|mcg|micrograms|g|grams|years|days|weeks|months"
            "|minutes|hours|times))( of)?( my| the| his| her)?<gap1> <pills>",
            "<swallow>( my| his| her| their| the| a)? (whole|entire|weeks|week s|fortnights"
            "|two weeks)( worth of| of)?( my| his| her| the)? (script|prescription|supply"
            "|stash|methadone|meds|pills|tablets|medication)(?! (today|this morning|tonight"
            "|as prescribed|as normal|as usual|on time))",
            "<swallow> all( of)?( my| his| her| their| the| me| them| those| these)<gap1> "
            "(<pills>|drugs|doses)(?! (to|with|home|back|out|in|into|round|over|away|off|up"
            "|down|from|for))(?!( [a-z0-9]+){0,3} (today|this morning|tonight|as prescribed"
            "|on time|like i should|for today|for the day))",
            "<swallow>( them| it| the lot| everything)?( all)? (at once|in one go)",
            "(took|taken|swallowed|necked|downed|done|injected) (everything|all|every pill"
            "|every tablet) (i had|i ve got|ive got|i have|i could find|in the (cupboard"
            "|house|drawer|cabinet))(?! to| into| with| back| out| off| round| over| for)",
            "(took|taken|had|done|did|used) (a |my )?(double|triple|extra|twice)( my| the)? "
            "(dose|doses|dosage|amount|script)",
            "double (dosed|dosing)",
        ),
    ),
    Family(
        CrisisKind.OVERDOSE,
        "unresponsive",
        "The signs someone is overdosing right now (opioids especially): not breathing, "
        "slow or noisy breathing, blue lips, can't wake them, unconscious, collapsed, "
        "choking on vomit, 'gouching out and won't wake'. These call for 999 now.",
        (
            "(not|isnt|is not|aint|stopped|stoped|stop|barely|hardly|struggling to|cant"
            "|can not|couldnt|trouble|no|not really) (breathing|breathe|breath|breth|breating"
            "|breathin)(?! a word)",
            "breathing( is| has| s| seems| sounds| looks| gone| went| got| getting| very"
            "| really| so| all| dead| proper| a bit| well)* (slow|slowed|shallow|weird|funny"
            "|strange|odd|rattly|rattling|noisy|raspy|gurgly|gurgling|snory|laboured|labored"
            "|irregular|wrong|stopped|faint|weak)",
            "(blue|purple|grey|gray|bluish|blueish) (lips|lip|fingertips|fingers|nails|skin"
            "|face|round the mouth|around the mouth)",
            "(lips|lip|face|fingertips|fingers|nails|skin)( are| is| have| has| s| look| looks"
            "| looking| gone| going| turned| turning| went| getting| all| really| very| so"
            "| a bit| kind of| kinda)* (blue|purple|grey|gray|bluish|blueish)(?! in the face)",
            "(hes|shes|he is|she is|theyre|they are|he s|she s)( really| all| a bit| looking"
            "| gone| going| turning| kind of| kinda| proper)* (blue|purple|bluish|blueish)"
            "(?! in the face| about| with| again| because| today| lately| these days"
            "| at the moment| since| cos| coz)",
            "(turning|turned|gone|going|went|goes)( really| all| a bit"
            "| kind of| kinda)? (blue|purple|bluish|blueish)(?! in the face| with| about"
            "| again| and white| army| team)",
            "(cant|couldnt|could not|cannot|can not|unable to|tried to|trying to|try to"
            "|not able to) (wake|waken|rouse)(?! me| myself| up| early| in| at| on| for"
            "| before| till| until| when| to| it)( up)?",
            # (not "go to sleep and not wake up": that is a wish to die.)
            "(?<!sleep )(?<!bed )(he|she|they|hes|shes|theyre|him|her|them|<who>|and|but"
            "|still|just)( is| s| has| just| still)? (wont|will not|isnt|is not|not|aint|doesnt"
            "|does not|cant|can not|didnt) (wake|waking|waken|wake up|waking up|come round"
            "|coming round|come around"
            "|coming around)(?! me| you| us| early| in time| on time| for| at| to)",
            "(he|she|they|hes|shes|theyre|<who>)( is| s| has| just| still)? (wont|will not"
            "|isnt|is not|not|aint|doesnt|does not|didnt) (respond|responding|responsive|react"
            "|reacting)(?! to| when| with| well| the| much)",
            "unconscious(?! bias| mind| level)",
            "unconcious",
            "unresponsive",
            "non ?responsive",
            "(lost|losing|loses|lose) (consciousness|conciousness)",
            "out cold",
            "passed out and (wont|cant|isnt|not|aint)",
            "<person>( has| have| s| ve| just| has just| is| was)? (collapsed|collapsing"
            "|keeled over)",
            "(foaming|frothing) at the mouth",
            "(choking|choked|chocking) on (his|her|their|my|the)?( own)? ?(vomit|sick|puke"
            "|spew|tongue)",
            "(making|made|makes|make)( a| this| these| that| weird| funny| strange| horrible"
            "| awful| loud| really)* (gurgling|gurgle|gurgly|snoring|rattling|rattly|choking"
            "|wheezing) (noise|noises|sound|sounds)",
            "death rattle",
            "(think|thinks|thought|feel like|feels like|scared|afraid|worried|terrified)"
            "( that)? (i|im|i am|he|hes|he is|she|shes|she is|they|theyre|they are|<who>"
            "|my <who>)( is| s| are| am)? (dying|going to die|about to die)(?! to| for| of"
            "| laughing| if)",
            "(im|i am) (going to|about to) die(?! of| laughing| for| if| without| when| to"
            "| in| at| one day| someday| eventually| <dyed>)",
            "alcohol poisoning",
            "(call|ring|phone|get|need|needs|called|rang|phoned|calling|ringing|should i call"
            "|should i ring) (an |the )?(ambulance|paramedics|999)",
        ),
    ),
)

WITHDRAWAL_FAMILIES: Final[tuple[Family, ...]] = (
    Family(
        CrisisKind.WITHDRAWAL_FITS,
        "seizure_word",
        "Seizures and convulsions, the DTs (delirium tremens) and named fits: alcohol and "
        "benzo withdrawal can kill. Misspellings: siezure, seazure, ceasure, sezure.",
        (
            "(s|c)(e|i|ei|ie|ea|eie|iei)?[sz](ure|ures|ur|urs|or|ors|eure)",
            "convul(sion|sions|sing|sed|se|ses|tion|tions|ting|ted|sive)",
            "(dts|d ts|dt s|d t s)",
            "(delirium|delerium|delirum) ?(tremens)?",
            "tremens",
            "(epileptic|withdrawal|withdrawl|alcohol|alcoholic|benzo|rum|grand mal"
            "|tonic clonic) (fit|fits|fitting|seizure|seizures)",
        ),
        Negation.DENIAL,
    ),
    Family(
        CrisisKind.WITHDRAWAL_FITS,
        "fitting",
        "UK English for a seizure: 'he's fitting', 'shakes and fitting', 'had a fit', "
        "'took a fit', 'he fitted twice'. Ordinary senses ('the jeans fit', 'fitting in', "
        "'a fit of laughter', 'getting fit', 'kitchen fitting', 'she had a fit when I told "
        "her') are ruled out by requiring a seizure-like frame.",
        (
            "(is|s|hes|shes|im|am|are|was|were|been|started|starts|start|starting|keeps|keep"
            "|kept|began|begun|and|he|she|they|theyre|still) fitting(?! in| into| room| rooms"
            "| out| for| with| together| the| a| an| my| his| her| their| new| our| your"
            "| kitchens?| bathrooms?| carpets?| windows?| doors?| tyres?| tributes?| end"
            "| time| description| that| this| it| them| all| well| nicely| properly"
            "| perfectly| fine| right| ok| okay| clothes| jeans| me| you| us| him| people)",
            "(having|had|has|have|took|taken|taking|takes|take|get|gets|getting|got|gone|going"
            "|goes|went|started|start|starts|keeps|keep|kept|suffering|suffered|suffer|been"
            "|into)( a| another| more| some| bad| big| massive| few| these| those| lots of"
            "| loads of| really bad| proper| constant| regular)* fits(?! of| about| and starts"
            "| in| me| you| all| well| perfectly| nicely| the| my| your| his| her)",
            "(having|had|took|taken|taking|takes|take|went into|gone into|go into|going into"
            "|goes into|into|suffered|suffering|started) (a|another|one|his|her|my|their)"
            "( massive| big| bad| huge| full| proper| epileptic| withdrawal| alcohol| real)*"
            " fit(?! of| about| over| when| at| with| because| if| that| cos| coz| to| on"
            "| for| as| and laughed| laughing| and a giggle| in| out)",
            "(shakes|shaking|shakey|shaky|sweats|sweating|vomiting|withdrawal|withdrawals"
            "|withdrawing|hallucinating|rattling|clucking|cold turkey|jerking|twitching)"
            "( and| with| then| into| plus| n)<gap1> (fits|fitting|fit)",
            "(is|s|hes|shes|im|am|are|was|were|been|started|starts|start|keeps|keep|kept|and"
            "|he|she|they|theyre|still) seizing(?! the| on| up| an| this| that| my| your| upon"
            "| control| power| every| it| them| opportunities| moment| assets| property| goods"
            "| drugs| his| her)",
            "(?<![a-z0-9] )seizing<end>",
            "<person>( has| have| ve| s| just| has just| was)? fitted(?! a| an| the| my"
            "| his| her| their| our| your| in| into| out| with| for| new| kitchens?"
            "| carpets?| it| them| this| that| well| nicely| perfectly| properly| fine| me"
            "| you| us| him)",
        ),
    ),
    Family(
        CrisisKind.WITHDRAWAL_FITS,
        "withdrawal_hallucinations",
        "Shaking, sweats or stopping drinking together with hallucinations or "
        "disorientation: the picture of severe alcohol withdrawal before a fit.",
        (
            "(shakes|shaking|shakey|shaky|sweats|sweating|withdrawal|withdrawals|withdrawl"
            "|withdrawing|detoxing|detox|stopped drinking|stoped drinking|off the drink"
            "|without a drink|cold turkey|rattling|clucking)<gap> (hallucinating"
            "|hallucinations|hallucinate|halucinating|seeing things|hearing things"
            "|hearing voices|seeing bugs|seeing spiders|seeing insects|disorientated"
            "|disoriented)",
            "(hallucinating|hallucinations|hallucinate|halucinating|seeing things"
            "|hearing things|seeing bugs|seeing spiders|seeing insects)<gap> (shakes|shaking"
            "|sweats|sweating|withdrawal|withdrawals|withdrawing|detox|detoxing"
            "|stopped drinking|off the drink|cold turkey)",
        ),
    ),
)

SUICIDE_FAMILIES: Final[tuple[Family, ...]] = (
    Family(
        CrisisKind.SUICIDE_SELF_HARM,
        "suicide_word",
        "The words suicide/suicidal and self-harm with their misspellings (sucidal, "
        "suiside, suicdal, selfharm, self-harming, self injury). A mention is enough: "
        "'my brother died by suicide' also gets the reply.",
        (
            "su[ia]?[cs]i?d(e|es|al|ial|le|ing|aly|ally|ly)?(?! squad)",
            "self ?(harm|harming|harmed|harms|harmer|harmers|injury|injure|injuring"
            "|injuries|injured)",
        ),
        Negation.DENIAL,
    ),
    Family(
        CrisisKind.SUICIDE_SELF_HARM,
        "self_directed",
        "Doing something lethal to oneself, incl. UK 'top myself', 'do myself in', "
        "'off myself', 'kms'. Hyperbole ('killing myself laughing', 'killing myself at "
        "the gym', 'shoot myself in the foot', 'take my life back') is ruled out.",
        (
            "(kill|kills|killed) <self>(?! laughing| at work| with work)",
            "killing <self>(?! laughing| at| with work| over| for| to| trying| working"
            "| doing| in the gym)",
            "(top|topping|topped|tops) <self>(?! up| off with)",
            "(want to|going to|might|could|will|ll|should|just|wanna|gona|try to|tried to) "
            "off <self>",
            "(offing|offed) <self>",
            "(hang|hanging|hanged|hung) <self>(?! out| up)",
            "(end|ending|ended) <self>",
            "(finish|finishing|finished) <self> off",
            "(poison|poisoning|poisoned) <self>",
            "(drown|drowning|drowned) <self>(?! in work| in debt| in paperwork| in work)",
            # ("shoot" and "shot" read the same once letters are de-duplicated.)
            "(?<!a )(?<!the )(?<!another )(?<!good )(?<!my )(?<!best )(stab|stabbing"
            "|stabbed|shoot|shooting) <self>(?! in the foot)",
            "(suffocate|suffocating|strangle|strangling|smother|smothering|electrocute|gas"
            "|gassing|starve|starving|starved) <self>",
            "(do|doing|did|done) <self> (in|some harm|harm|damage)",
            "(throw|throwing|threw|chuck|chucking|fling) <self> (off|under|in front|infront"
            "|from|out of|onto)",
            "(?<![0-9] )kms",
            "(end|ending|ended|take|taking|took|taken) (my|his|her|their) (own )?life"
            "(?! back| in| into| seriously| forward| more| around| round)",
            "(end|ending) (it all|this life|my misery|everything)",
            "(want|wanna|going|gonna|ready|plan|planning|think|thinking|thought|decided|about"
            "|tempted|could|should|might|will|ll)( to| of| about)?( just)? (end|ending) "
            "(it|things)(?! with| between| off| for)",
            "(jump|jumping|jumped|throw <self>|throwing <self>|threw <self>|leap|leaping) "
            "(off|from) (a |the |that |this |my |our )?(bridge|building|roof|rooftop|cliff"
            "|balcony|tower|tower block|car park|multi ?storey|carpark|window|top floor)",
            "(jump|jumping|jumped|throw <self>|throwing <self>|threw <self>|step|stepping"
            "|stepped|walk|walking|walked|lie|lying|lay|run|running|ran|dive|diving) "
            "(in front of|infront of|infront|under) (a |the |that |this |an |oncoming )?"
            "(train|trains|tube|bus|buses|lorry|truck|car|cars|traffic|van|motorway)",
            "(walk|walking|walked|wade|wading) into the (sea|river|canal|ocean|lake|water|traffic)",
            "noose",
        ),
    ),
    Family(
        CrisisKind.SUICIDE_SELF_HARM,
        "self_harm_acts",
        "Cutting, burning or hurting oneself on purpose. Accidents and idioms ('cut "
        "myself shaving', 'cut myself off', 'cutting myself some slack', 'hurt myself at "
        "the gym', 'cutting down on booze') are ruled out.",
        (
            "(cut|cuts|cutting|slash|slashing|slashed|burn|burning|burned|burnt|hurt|hurting"
            "|hurts|harm|harming|harmed|hit|hitting|punch|punching) <self>(?! off| out"
            "| short| free| loose| some| a| up| shaving| cooking| on| by accident"
            "| accidentally| while| when| at| doing| playing| lifting| in the| slack| down"
            "| into| back| laughing| with a knife in the kitchen| open)",
            "(cut|cutting|cuts|slit|slitting|slash|slashing|slashed|open|opening|opened|carve"
            "|carving|carved) (my|his|her|their) (wrists?|arms?|legs?|thighs?|skin|throat)"
            "(?! on| at| while| when| by accident| accidentally| shaving| cooking| badly on)",
        ),
    ),
    Family(
        CrisisKind.SUICIDE_SELF_HARM,
        "wish_to_die",
        "Wanting to die or not to be alive, in plain words and despair phrases: 'want to "
        "die', 'wish I was dead', 'better off dead', 'no point living', 'can't go on', "
        "'nothing to live for', 'I'm a burden', 'this is goodbye', stockpiling pills. "
        "'I'm dying to get a job' and 'I died laughing' are not in any of these.",
        (
            "(want|wanted|wants|wanting|would like|d like|ready|planning|plan|deserve"
            "|wish|trying|tried|try|decided|tempted) to( just)? (die|be dead"
            "|not be alive|not be here|not exist|stop existing|disappear forever"
            "|disappear for good|not wake up|never wake up|go to sleep forever"
            "|sleep forever)(?! of| for| laughing| <dyed>)",
            "(dont|do not|didnt|no longer|never|doesnt|dont even|dont really) (want|wish)"
            " to (be alive|exist|be here any ?more|be around any ?more|be on this earth"
            "|be in this world|be here no more|wake up(?! early| at| in| for| to| on)"
            "|live(<end>| like this| any ?more| no more| another day| this life"
            "| in this world| on this earth)|go on(<end>| like this| living| any ?more)"
            "|carry on(<end>| like this| living| any ?more| with life| with my life)"
            "|keep going(<end>| like this| any ?more))",
            "wish (i|id|i d|i had|i could|i would)( was| were| been| be| have| just| had)*"
            " (dead|die|died|never been born|not been born|never born|not born|not here"
            "|disappear|not wake up"
            "|never wake up|gone(<end>| forever| for good))",
            "better off dead",
            "better off without me",
            "(rather|sooner) (be )?(dead|die)",
            "(no|not|any|nothing|zero|whats the|what is the|is there a) (point|reason|purpose)"
            "( in| to| of| for)? (living|being alive|life|existing|being here|waking up|live"
            "|me being here|going on(<end>| like this| any ?more| living)|carrying on(<end>"
            "| like this| any ?more| living)|keep going<end>)",
            "nothing (left )?to live for",
            "(not|isnt|aint) worth living",
            "(life|living)( is| s)?( just| really)? (not|isnt|aint|no longer|hardly) worth"
            " (living|it any ?more|it)",
            "(life|living) (isnt|aint|is not|s not) worth",
            "(its|it s|it is|lifes|life s|life is) not worth (it )?(any ?more|living)",
            "(cant|can not|cannot|couldnt) (go on|carry on|keep going|do this|take it|take this"
            "|cope|live like this|face (another day|tomorrow|life|living))"
            "( any ?more| any longer| no more| like this| living)",
            "(cant|can not|cannot) (go on|carry on|keep going)<end>",
            "(want|wish|need) (it all|all this|all of this|this all|everything|the pain|life"
            "|my life) to (end|stop|be over|go away)(?! with| for| so)",
            "(want|wish|need) (it|this|everything) to (be over|all be over)",
            "(this is|its|it s|saying) (my )?(goodbye|good bye)( forever| for good"
            "| to everyone| to you all)?",
            "goodbye (forever|cruel world|everyone|world)",
            "(im|i am|i feel like|feel like|i feel|i m just|im just|im such|i am such)( such)?"
            "( a)? (burden|waste of space|waste of oxygen)",
            "(stockpiling|stockpiled|hoarding|hoarded|stashing|stashed|saving up|saved up"
            "|been saving|saving all)(?! for| to| money| cash)<gap2> <pills>",
            "(hope|hoping|pray|praying|wish|want|wanna)( that)?( i)? (dont|do not|never|wont"
            "|will not) wake up(?! late| early| in time| on time| for| at| in)",
            "(go|going|went) to sleep (and|n) (never|not) wake up",
            "(im|i am|i m|im just|so) (done|finished) with (life|living|this life|this world"
            "|being alive|existing)(?! on| for| at| in)",
            "better off if i (was|were|had) (dead|gone|never born|not here|not around)",
            "better off if i (wasnt|werent) (here|around|alive)",
            "better off if i (died|d died|had died)",
            "(no ?one|nobody|noone|no body) (would|will|d|is going to|going to)( even| really)?"
            " (miss|notice|care) (me|if i (died|was gone|was dead|disappeared|wasnt here)"
            "|i m gone|im gone)",
            "i (should|might as well|may as well|ought to|need to|could)( just)? (die|be dead"
            "|end it|kill myself|not be here)(?! of| for| laughing| happy| for a| <dyed>)",
            "(suicide|goodbye) (note|notes|letter|letters)",
            "(tired|sick|weary) of (living|being alive|life|existing|being here)"
            "(?! in| at| on| with| like this in)",
            "(life|living|everything|my existence|existence)( is| s| feels| seems)( so| just"
            "| completely| totally| utterly)? (pointless|meaningless)",
            "(been|keep|kept|started|start|starting|back to|relapsed and) cutting( again)?<end>",
            "no way out",
            "cant see a way out",
        ),
    ),
)

MIXING_FAMILIES: Final[tuple[Family, ...]] = (
    Family(
        CrisisKind.MIXING,
        "mixing_verb",
        "Saying 'mixed', 'combined' or 'cocktail' near a drug or medicine: 'mixed benzos "
        "with my methadone', 'mixing alcohol and pills', 'a cocktail of pills'. Needs a "
        "substance, so 'mixing paint', 'mixed feelings about drinking' and 'mixing my "
        "drinks' stay quiet.",
        (
            "(mix|mixed|mixes|mixing|mixin|mixt|combine|combined|combining|combo|combos"
            "|cocktail|cocktails)(?! up with| feelings| emotions| bag| messages| results"
            "| reviews| race| martial| with people| with the wrong)<gap> <substance>",
            "<substance><gap2> (mixed|combined|mixing|mixes) (with|and|in)<gap2> "
            "(<depressant>|<stim>)",
            "(mix|mixed|mixing|mixes|combined|combining)( it| them| those| these| that| em"
            "| the two| both)( together)? (with|and)<gap2> <alcohol>",
            "(took|taken|had|done|used|using|take|taking|necked)( them| both| the two| all)"
            "( together| at the same time)",
            "(mixed|mixing|combined)( all)? (everything|the lot|it all|them all|all of it"
            "|all of them|my stuff|his stuff|her stuff)(?!( together)? in (a|the|my) (bowl"
            "|pan|pot|jug|glass|tin))",
        ),
    ),
    Family(
        CrisisKind.MIXING,
        "depressant_pairs",
        "Two depressants at once (opioids, benzos, gabapentinoids, GHB, alcohol): the "
        "combinations behind most drug deaths. Linked by 'with', 'on top of', 'while on', "
        "'drinking on my methadone', 'after'. Alcohol with alcohol is not a pair.",
        (
            "<named><gap2> (with|on top of|plus|while on|whilst on|while taking|whilst taking"
            "|along with|alongside|at the same time as|same time as|as well as|washed down with"
            "|chased with|and then)<gap> <depressant>",
            "<meds><gap2> (with|on top of|plus|while on|whilst on|while taking|whilst taking"
            "|along with|alongside|at the same time as|same time as|as well as|washed down with"
            "|chased with|and then)<gap> (<named>|<alcohol>)",
            "<alcohol><gap2> (with|on top of|plus|while on|whilst on|while taking"
            "|whilst taking|while using|whilst using|on|along with|alongside"
            "|at the same time as|as well as|after|before|and then|after taking"
            "|after using)<gap> <rx>",
            "<rx><gap2> (after|before)<gap> <alcohol>",
            # A question about a pair: "xanax and alcohol?", "benzos and booze together".
            "<named><gap1> (and|plus|with|or|n) (<alcohol>|<named>)(?=( [a-z0-9]+){0,2} [?]"
            "| together| at the same time| at once| mixed| combined)",
            # On a script and still drinking: "on methadone for a year and I still
            # have a few cans every night". Not when the words between deny it.
            "on( my| a| the| his| her| their)? <named>( script| prescription| programme)?"
            "<gap> (and|but|while|whilst|yet|still|plus)((?! (dont|do not|never|not"
            "|no longer|stopped|quit|havent|cant|wont|without|off))( [a-z0-9]+)){0,5} (drink"
            "|drinking|drank|drunk|booze|boozing|cans|pints|beers|vodka|cider|lager|wine"
            "|spirits|bevvies|alcohol)",
            "<substance>( and| with| plus| n)<gap1> (<substance>|<alcohol>)( [a-z0-9]+)? "
            "(mixed|combined|together)(?! with people| with the wrong)",
        ),
        Negation.RECOVERY,
    ),
    Family(
        CrisisKind.MIXING,
        "taken_together",
        "Two depressants joined by 'and' count when someone says they took them: 'took "
        "heroin and benzos', 'drinking and taking valium', 'pissed and on methadone'. A "
        "bare list ('help with alcohol and heroin') is disclosure, not mixing.",
        (
            "(<take>|on)<gap2> <named><gap2> (and|plus|an)(?! not| no| never| stopped| quit"
            "| off| cut| cutting| staying| stay| avoiding| avoid| without| dont| havent"
            "| no longer)<gap2> <depressant>",
            "(<take>|on)<gap2> <meds><gap2> (and|plus|an)(?! not| no| never| stopped| quit"
            "| off| cut| cutting| staying| stay| avoiding| avoid| without| dont| havent"
            "| no longer)<gap2> (<named>|<alcohol>)",
            "<take><gap2> <alcohol><gap2> (and|plus|an)(?! not| no| never| stopped| quit"
            "| off| cut| cutting| staying| stay| avoiding| avoid| without| dont| havent"
            "| no longer)<gap2> <rx>",
            "<named><gap2> (and|but|plus)( i| he| she| they| we)?( still| also| do| sometimes"
            "| often| then)? (drink|drinks|drank|booze|boozes|boozing)",
            "(drinking|drinks|drink|drank|drunk|boozing|been drinking|on the drink"
            "|on the booze|hammered|wasted|pissed|smashed|steaming|mortal|bladdered|leathered)"
            "<gap2> (and|plus|but|while|whilst|still)( [a-z0-9]+)? (<take>|on)<gap2> <rx>",
        ),
        Negation.RECOVERY,
    ),
    Family(
        CrisisKind.MIXING,
        "named_mixes",
        "Named combinations and a contaminated supply: speedballs (heroin + crack, 'brown "
        "and white'), drugs cut with fentanyl or nitazenes, a spiked drink.",
        (
            "speed ?(ball|balls|balling|baling)",
            "(brown and white|white and brown)",
            "(laced|spiked|contaminated)( [a-z0-9]+){0,2} with (fent|fentanyl|nitazenes?|nitas"
            "|xylazine|tranq|benzos?|something|summat)",
            "(cut|mixed) with (fent|fentanyl|nitazenes?|nitas|xylazine|tranq|benzos?)",
            "(drink|drinks|pint|pints)( was| were| got| has been| s been| been| had been) spiked",
            "spiked (my|his|her|their) (drink|drinks|pint)",
        ),
    ),
)

NALOXONE_FAMILIES: Final[tuple[Family, ...]] = (
    Family(
        CrisisKind.NALOXONE,
        "naloxone_word",
        "Naloxone reverses an opioid overdose; anyone asking about it may need it now. "
        "Brand names (Narcan, Prenoxad, Nyxoid) and spellings like nalaxone, naloxon, "
        "naxolone.",
        (
            "na(l|x)[aeo]?(x|l|ks|z)[aeio]n(e|a)?",
            "narc[aeo]n",
            "narcam",
            "nar can",
            "pre?noxa?d",
            "pre?noxid",
            "n[iy]x[oa]id",
        ),
    ),
)

#: Every family, grouped by kind in PRIORITY order.
FAMILIES: Final[tuple[Family, ...]] = (
    *OVERDOSE_FAMILIES,
    *WITHDRAWAL_FAMILIES,
    *SUICIDE_FAMILIES,
    *MIXING_FAMILIES,
    *NALOXONE_FAMILIES,
)


# ---------------------------------------------------------------------------
# Word-level normalisation data.
# ---------------------------------------------------------------------------

#: Whole words rewritten before matching (after letters are de-duplicated), so
#: the phrases can be written once: texting forms and UK spellings.
WORD_ALIASES: Final[Mapping[str, str]] = {
    # Texting forms.
    "wanna": "want to",
    "wana": "want to",
    "gonna": "going to",
    "gona": "going to",
    "gunna": "going to",
    "guna": "going to",
    "goin": "going",
    "gotta": "got to",
    "2": "to",
    "u": "you",
    "ur": "your",
    "n": "and",
    "nd": "and",
    "tho": "though",
    "cannot": "cant",
    "carnt": "cant",
    "cnt": "cant",
    "dnt": "dont",
    "wnt": "want",
    "anymore": "any more",
    "nomore": "no more",
    "infrontof": "in front of",
    # Run together.
    "killmyself": "kill myself",
    "kilmyself": "kill myself",
    "endit": "end it",
    "want2die": "want to die",
    "wanttodie": "want to die",
    "wanadie": "want to die",
    # UK and Scottish forms of "myself".
    "meself": "myself",
    "mesel": "myself",
    "masel": "myself",
    "myslf": "myself",
    # "OD" forms without an apostrophe ("OD'd" is handled before apostrophes go).
    "od": "overdose",
    "ods": "overdose",
    "oded": "overdose",
    "oding": "overdose",
    # Misspellings further than one letter away, and plurals the typo table
    # leaves alone because they are real words.
    "heroine": "heroin",
    "heroins": "heroin",
    "tabs": "tablets",
    "benzodiazapines": "benzodiazepines",
    "alchohol": "alcohol",
    "alcahol": "alcohol",
    "alchol": "alcohol",
    "alcohal": "alcohol",
    "vomitting": "vomiting",
    "suicidle": "suicidal",
    "suacidal": "suicidal",
    "suicides": "suicide",
    "medications": "medication",
    "methadon": "methadone",
}

#: Longer words whose one-letter typos are common and unambiguous. Every
#: variant at edit distance one (a letter missing, added, changed, or two
#: neighbours swapped) is rewritten to the keyword, except real English words
#: (:data:`NOT_TYPOS`). Keep entries at least six letters long.
# fmt: off
FUZZY_KEYWORDS: Final[tuple[str, ...]] = (
    "suicide", "suicidal", "overdose", "overdosed", "overdosing", "naloxone", "narcan",
    "prenoxad", "nyxoid", "seizure", "seizures", "convulsions", "convulsing", "unconscious",
    "unresponsive", "breathing", "breathe", "myself", "himself", "herself", "themselves",
    "withdrawal", "withdrawals", "delirium", "tremens", "hallucinating", "hallucinations",
    "methadone", "heroin", "fentanyl", "diazepam", "valium", "benzos", "alcohol",
    "pregabalin", "gabapentin", "tramadol", "codeine", "morphine", "paracetamol", "tablets",
    "medication", "collapsed", "ambulance", "wrists", "selfharm", "poisoning",
    "buprenorphine", "subutex", "nitazenes", "etizolam",
)
# fmt: on

#: Real words one edit away from a keyword, which must keep their own meaning
#: ("the steak was overdone", "my mate overdoes it"). Checked against a British
#: English word list when the keywords were chosen; see the test that re-checks
#: it when a word list is installed.
# fmt: off
NOT_TYPOS: Final[frozenset[str]] = frozenset(
    {
        "breaching", "breath", "breathed", "breather", "breathes", "breaths", "breathy",
        "collapse", "collapses", "dedication", "galium", "herein", "heroic", "heron",
        "mediation", "meditation", "overdoes", "overdoing", "overdone", "tables", "tablet",
        "waists", "wreathe", "wreathing", "wrests", "wrist", "writs",
    }
)
# fmt: on


# ---------------------------------------------------------------------------
# Compilation (all at import).
#
# Each phrase is compiled on its own, and indexed by the words it can start
# with (worked out from the phrase itself, below). A message is then checked
# word by word: only the phrases that can start with that word are tried
# there, so a quiet message costs a few dictionary look-ups and a handful of
# anchored matches instead of hundreds of alternatives at every position.
# ---------------------------------------------------------------------------

_PLACEHOLDER: Final = re.compile(r"<([a-z0-9_]+)>")
_BARE_GROUP: Final = re.compile(r"\((?!\?)")
_WORD_START: Final = "(?<![a-z0-9])"
_WORD_END: Final = "(?![a-z0-9])"
# Doubled letters, except "ff" and "dd": "off" and "of", "odd" and "od" (the
# short form of overdose) must stay apart.
_DOUBLES: Final[tuple[tuple[str, str], ...]] = tuple((c + c, c) for c in "abceghijklmnopqrstuvwxyz")


def _dedupe_letters(text: str) -> str:
    """Collapse runs of a repeated letter to one ("fff..." and "ddd..." to two)."""
    for double, single in _DOUBLES:
        if double in text:
            text = text.replace(double, single)
            while double in text:
                text = text.replace(double, single)
    for triple, double in (("fff", "ff"), ("ddd", "dd")):
        while triple in text:
            text = text.replace(triple, double)
    return text


def _expand(source: str, depth: int = 0) -> str:
    """Replace every <name> in a phrase with its helper or vocabulary list."""
    if depth > 8:
        raise ValueError(f"crisis phrases: <name> nesting too deep in {source!r}")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in HELPERS:
            return HELPERS[name]
        if name in VOCAB:
            return "(" + "|".join(_expand(alt, depth + 1) for alt in VOCAB[name]) + ")"
        raise KeyError(f"crisis phrases: unknown <{name}> in {source!r}")

    return _PLACEHOLDER.sub(replace, source)


def _bound_lookaheads(source: str) -> str:
    """Make every "(?! x| y)" mean whole words: "(?! a)" must not rule out " again"."""
    out: list[str] = []
    stack: list[bool] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "(":
            is_negative_lookahead = source.startswith("(?!", i)
            stack.append(is_negative_lookahead)
            if is_negative_lookahead:
                out.append("(?!(?:")
                i += 3
                continue
        elif char == ")":
            if not stack:
                raise ValueError(f"crisis phrases: unbalanced ')' in {source!r}")
            if stack.pop():
                out.append(")(?![a-z0-9]))")
                i += 1
                continue
        out.append(char)
        i += 1
    if stack:
        raise ValueError(f"crisis phrases: unbalanced '(' in {source!r}")
    return "".join(out)


def _phrase_to_regex(phrase: str) -> str:
    if phrase != phrase.lower() or "\\" in phrase:
        raise ValueError(f"crisis phrases are lowercase and use no backslashes: {phrase!r}")
    expanded = _BARE_GROUP.sub("(?:", _expand(phrase))
    return _dedupe_letters(_bound_lookaheads(expanded))


class _Unbounded(Exception):
    """A phrase can start with any word, so it cannot be indexed by its start."""


# The regex subset that phrases compile to, as a small syntax tree.
@dataclass(frozen=True, slots=True)
class _Chars:  # one character out of a set (a literal is a set of one)
    chars: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Empty:  # look-arounds, "^", "$": they match no characters
    pass


@dataclass(frozen=True, slots=True)
class _AnyChar:
    pass


@dataclass(frozen=True, slots=True)
class _Seq:
    items: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Alt:
    branches: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Repeat:
    inner: _Node
    low: int
    high: int | None


_Node = _Chars | _Empty | _AnyChar | _Seq | _Alt | _Repeat
_MAX_STARTS: Final = 20_000
#: Stands for "the rest of this word can be anything" in the strings below.
_ANY_REST: Final = "\x00"


def _cut_after(text: str, spaces: int) -> str:
    """`text` up to and including its `spaces`-th space."""
    parts = text.split(" ", spaces)
    return " ".join(parts[:spaces]) + " " if len(parts) > spaces else text


class _Starts:
    """The ways a phrase can begin: its first one or two words.

    Parses the regex subset that the phrase syntax produces (literals, groups,
    alternation, ``? * + {m,n}``, character classes, look-arounds, <names>)
    and lists the strings each part can match, cut after the `count`-th
    space. Look-arounds count as matching nothing, so the list is a superset:
    a phrase is never left untried where it could match. Shared <names> are
    parsed and listed once for all phrases.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.regex = ""
        self.memo: dict[int, set[str]] = {}
        self.shared: dict[str, _Node] = {}
        self.parsed: list[_Node] = []  # keeps nodes alive: the memo is keyed by id

    def words(self, phrase: str) -> frozenset[tuple[str, ...]]:
        """Every way `phrase` can begin, as a tuple of up to `count` words.

        A shorter tuple means the phrase can end sooner, or that the next word
        could be any word. Raises _Unbounded when the first word could be any.
        """
        node = self._parse(_dedupe_letters(phrase))
        starts: set[tuple[str, ...]] = set()
        for text in self._strings(node):
            words = text.split(" ")[: self.count]
            if words and not words[-1]:
                words.pop()  # the phrase ended after a space
            for i, word in enumerate(words):
                if _ANY_REST in word:
                    words = words[:i]
                    break
            if not words or not words[0]:
                raise _Unbounded(phrase)
            starts.add(tuple(words))
        return frozenset(starts)

    def _parse(self, source: str) -> _Node:
        outer, self.regex = self.regex, source
        try:
            node, end = self._alternation(0)
            if end != len(source):
                raise ValueError(f"crisis phrases: cannot read {source!r} at {end}")
        finally:
            self.regex = outer
        self.parsed.append(node)
        return node

    def _placeholder(self, deduped_name: str) -> _Node:
        # The phrase was de-duplicated with its <names> in it ("<pilish>").
        names = {_dedupe_letters(n): n for n in (*HELPERS, *VOCAB)}
        name = names.get(deduped_name, deduped_name)
        node = self.shared.get(name)
        if node is None:
            if name in HELPERS:
                source = HELPERS[name]
            elif name in VOCAB:
                source = "(" + "|".join(VOCAB[name]) + ")"
            else:
                raise KeyError(f"crisis phrases: unknown <{name}>")
            node = self.shared[name] = self._parse(_dedupe_letters(source))
        return node

    # -- parsing ------------------------------------------------------------

    def _alternation(self, i: int) -> tuple[_Node, int]:
        node, i = self._sequence(i)
        branches = [node]
        while i < len(self.regex) and self.regex[i] == "|":
            node, i = self._sequence(i + 1)
            branches.append(node)
        return _Alt(tuple(branches)), i

    def _sequence(self, i: int) -> tuple[_Node, int]:
        items = []
        while i < len(self.regex) and self.regex[i] not in "|)":
            atom, i = self._atom(i)
            atom, i = self._quantifier(atom, i)
            items.append(atom)
        return _Seq(tuple(items)), i

    def _close(self, i: int) -> int:
        if i >= len(self.regex) or self.regex[i] != ")":
            raise ValueError(f"crisis phrases: missing ')' in {self.regex!r}")
        return i + 1

    def _atom(self, i: int) -> tuple[_Node, int]:
        regex = self.regex
        char = regex[i]
        if char == "(":
            for opener in ("(?<!", "(?<=", "(?!", "(?="):
                if regex.startswith(opener, i):
                    _, end = self._alternation(i + len(opener))
                    return _Empty(), self._close(end)
            if regex.startswith("(?", i) and not regex.startswith("(?:", i):
                raise ValueError(f"crisis phrases: unsupported group in {regex!r}")
            node, end = self._alternation(i + 3 if regex.startswith("(?:", i) else i + 1)
            return node, self._close(end)
        if char == "[":
            end = regex.index("]", i + 1)
            return _Chars(self._class(regex[i + 1 : end])), end + 1
        if char == "<":
            end = regex.index(">", i)
            return self._placeholder(regex[i + 1 : end]), end + 1
        if char in "$^":
            return _Empty(), i + 1
        if char == ".":
            return _AnyChar(), i + 1
        if char in "*+?{}\\":
            raise ValueError(f"crisis phrases: unexpected {char!r} in {regex!r}")
        return _Chars(frozenset(char)), i + 1

    def _class(self, body: str) -> frozenset[str]:
        if body.startswith("^"):
            return frozenset(_ANY_REST)
        chars: set[str] = set()
        i = 0
        while i < len(body):
            if i + 2 < len(body) and body[i + 1] == "-":
                chars.update(chr(c) for c in range(ord(body[i]), ord(body[i + 2]) + 1))
                i += 3
            else:
                chars.add(body[i])
                i += 1
        return frozenset(chars)

    def _quantifier(self, atom: _Node, i: int) -> tuple[_Node, int]:
        regex = self.regex
        if i >= len(regex):
            return atom, i
        char = regex[i]
        if char == "?":
            return _Repeat(atom, 0, 1), i + 1
        if char == "*":
            return _Repeat(atom, 0, None), i + 1
        if char == "+":
            return _Repeat(atom, 1, None), i + 1
        if char == "{":
            end = regex.index("}", i)
            low, comma, high = regex[i + 1 : end].partition(",")
            top = (int(high) if high else None) if comma else int(low)
            return _Repeat(atom, int(low or 0), top), end + 1
        return atom, i

    # -- the strings each part can match, cut after the count-th space -------

    def _then(self, heads: set[str], tails: set[str]) -> set[str]:
        """Every head followed by every tail, cut after the `count`-th space."""
        out: set[str] = set()
        cut_tails: dict[int, set[str]] = {}
        for head in heads:
            room = self.count - head.count(" ")
            if room <= 0 or _ANY_REST in head:
                out.add(head)
                continue
            cut = cut_tails.get(room)
            if cut is None:
                cut = cut_tails[room] = {_cut_after(tail, room) for tail in tails}
            out.update([head + tail for tail in cut])
            if len(out) > _MAX_STARTS:
                raise _Unbounded("too many ways to begin")
        return out

    def _strings(self, node: _Node) -> set[str]:
        known = self.memo.get(id(node))
        if known is None:
            known = self.memo[id(node)] = self._compute(node)
        return known

    def _compute(self, node: _Node) -> set[str]:
        match node:
            case _Chars(chars):
                return set(chars)
            case _Empty():
                return {""}
            case _AnyChar():
                return {_ANY_REST}
            case _Alt(branches):
                return set().union(*(self._strings(b) for b in branches))
            case _Seq(items):
                out = {""}
                for item in items:
                    if all(s.count(" ") >= self.count or _ANY_REST in s for s in out):
                        break
                    out = self._then(out, self._strings(item))
                return out
            case _Repeat(inner, low, high):
                base = self._strings(inner)
                if high is None and any(s and " " not in s for s in base):
                    # A word of any length: whatever follows is unknown too.
                    return {"", _ANY_REST} if low == 0 else {_ANY_REST}
                return self._repeat(base, low, high)
        raise AssertionError(node)  # pragma: no cover

    def _repeat(self, base: set[str], low: int, high: int | None) -> set[str]:
        current = {""}
        result: set[str] = set()
        times = 0
        while True:
            if times >= low:
                before = len(result)
                result |= current
                if high is None and times > low and len(result) == before:
                    return result
            if high is not None and times >= high:
                return result
            current = self._then(current, base)
            times += 1


def _edits1(word: str) -> set[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changes = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return deletes | swaps | changes | inserts


def _build_word_map() -> dict[str, str]:
    mapping: dict[str, str] = {}
    keywords = {_dedupe_letters(k) for k in FUZZY_KEYWORDS}
    protected = {_dedupe_letters(w) for w in NOT_TYPOS} | keywords
    for keyword in FUZZY_KEYWORDS:
        target = _dedupe_letters(keyword)
        # Variants with a doubled letter never meet the (de-duplicated) text,
        # so they need no de-duplicating here.
        for variant in _edits1(target):
            if len(variant) >= 5 and variant not in protected:
                mapping.setdefault(variant, target)
    for word, replacement in WORD_ALIASES.items():
        mapping[_dedupe_letters(word)] = _dedupe_letters(replacement)
    for mark in ".!;\n\r":
        mapping[mark] = "."
    return {k: v for k, v in mapping.items() if k != v}


# Negation, checked on the text just before / after a match.
_DENIAL_BEFORE: Final = re.compile(
    _dedupe_letters(
        r"(?:^| )(?:not|never|no|nor|no longer|aint|isnt|wasnt|werent|arent|dont|didnt"
        r"|doesnt|havent|hasnt|hadnt|without)"
        r"(?: (?:ever|been|feeling|felt|feel|had|having|got|a|an|any|done|did|thought"
        r"|thoughts|of|about|get|gotten|taken|took|take|tried|attempted)){0,2} $"
    )
)
_DENIAL_BLOCKED_AFTER: Final = re.compile(
    _dedupe_letters(
        r" (?:but|yet|though|although|however|right now|at the moment|atm|now|today"
        r"|tonight|just|or|lately|recently|these days|any more but|i think|i dont think"
        r"|i guess|really)(?![a-z0-9])"
    )
)
_RECOVERY_BEFORE: Final = re.compile(
    _dedupe_letters(
        # Recovery words, up to two words before the pair, but not across a
        # contrast ("I'm clean but last night I took heroin and benzos").
        r"(?:^| )(?:(?:(?<!cant )(?<!cannot )(?<!couldnt )(?<!wont )(?<!dont )(?<!didnt )"
        r"(?:stopped|stop|stopping|quit|quitting)|gave up|given up|giving up|give up"
        r"|clean|sober|free from|free of|recovering from|recovery from|recovered from"
        r"|used to|use to|history of|came off|come off|coming off|get off|getting off"
        r"|got off|been off|stayed off|staying off|detoxed|detox from|cut out|cutting out"
        r"|cut down|cutting down|reduce|reducing|avoid|avoiding|away from|instead of"
        r"|rather than)"
        r"(?: (?!(?:but|yet|then|and|now|today|tonight|last|yesterday|though|however|again"
        r"|relapsed|still|until|till)(?![a-z0-9]))[a-z0-9]+){0,2}"
        # Plain negators only directly before: "I'm not drinking and on methadone",
        # but not "I'm not sure, I took heroin and benzos".
        r"|not|never|no longer|havent|hasnt|dont|didnt|no more) $"
    )
)


def _denied(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 48) : match.start()]
    if not _DENIAL_BEFORE.search(before):
        return False
    return _DENIAL_BLOCKED_AFTER.match(text, match.end()) is None


def _in_recovery_talk(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 64) : match.start()]
    return _RECOVERY_BEFORE.search(before) is not None


_NEGATORS: Final[Mapping[Negation, Callable[[str, re.Match[str]], bool]]] = {
    Negation.DENIAL: _denied,
    Negation.RECOVERY: _in_recovery_talk,
}


@dataclass(frozen=True, slots=True)
class _Phrase:
    rank: int  # index in PRIORITY: lower wins
    family: Family
    pattern: re.Pattern[str]
    negated: Callable[[str, re.Match[str]], bool] | None


_Candidates = tuple[_Phrase, ...]
#: first word -> (phrases to try whatever follows, {second word: phrases})
_Index = dict[str, tuple[_Candidates, dict[str, _Candidates]]]


def _build_index() -> tuple[_Index, _Candidates]:
    ranks = [PRIORITY.index(f.kind) for f in FAMILIES]
    if ranks != sorted(ranks):
        raise ValueError("crisis phrases: FAMILIES must be listed in PRIORITY order")
    by_first: dict[str, list[_Phrase]] = {}
    by_two: dict[str, dict[str, list[_Phrase]]] = {}
    everywhere: list[_Phrase] = []
    starts_of = _Starts(2)
    for family in FAMILIES:
        rank = PRIORITY.index(family.kind)
        negated = _NEGATORS.get(family.negation)
        for phrase in family.phrases:
            regex = _phrase_to_regex(phrase)
            compiled = _Phrase(
                rank, family, re.compile(f"{_WORD_START}(?:{regex}){_WORD_END}"), negated
            )
            try:
                starts = starts_of.words(phrase)
            except _Unbounded:
                everywhere.append(compiled)
                continue
            for start in starts:
                if len(start) == 1:
                    by_first.setdefault(start[0], []).append(compiled)
                else:
                    first, second = start
                    by_two.setdefault(first, {}).setdefault(second, []).append(compiled)

    def ordered(phrases: list[_Phrase]) -> _Candidates:
        # FAMILIES is in PRIORITY order, so the phrases already are: drop repeats.
        return tuple({id(p): p for p in phrases}.values())

    index: _Index = {}
    for first in by_first.keys() | by_two.keys():
        always = ordered(by_first.get(first, []))
        always_ids = {id(p) for p in always}
        seconds = {
            second: ordered([p for p in phrases if id(p) not in always_ids])
            for second, phrases in by_two.get(first, {}).items()
        }
        index[first] = (always, {k: v for k, v in seconds.items() if v})
    return index, ordered(everywhere)


_INDEX, _EVERYWHERE = _build_index()
_WORD_MAP: Final[dict[str, str]] = _build_word_map()

# fmt: off
_CHAR_MAP: Final = str.maketrans(
    {
        "\u2019": "'", "\u2018": "'", "\u201b": "'", "\u02bc": "'", "\u00b4": "'",
        "`": "'", "\u2032": "'", "\uff07": "'",
        "&": " and ", "+": " plus ", "\u0131": "i",
        # Joiners and soft hyphens vanish instead of splitting a word; a
        # zero-width space is a space.
        "\u200b": " ", "\u200c": None, "\u200d": None, "\u2060": None, "\ufeff": None,
        "\u00ad": None, "\u180e": None,
        # Cyrillic and Greek look-alikes sometimes typed on a phone keyboard.
        "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c",
        "\u0443": "y", "\u0445": "x", "\u0456": "i", "\u0458": "j", "\u043a": "k",
        "\u043c": "m", "\u0442": "t", "\u0455": "s", "\u03bf": "o", "\u03b1": "a",
    }
)
# fmt: on
_LEET_MAP: Final = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"})
_COMBINING: Final = re.compile(
    r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]+")
# "OD", "o.d.", "OD'd", "OD'ed", "ODing", "od's", "0D" -> overdose. The
# apostrophe is required before a bare "d" so the word "odd" stays itself.
_OD: Final = re.compile(r"[o0](?<![a-z0-9'][o0])\.?d\.?(?:'d|'ed|ed|'?ing|'in|'s|s)?(?![a-z0-9'])")
_DTS: Final = re.compile(r"d(?<![a-z0-9]d)\. ?t\.?'?s(?![a-z0-9])")
_ELLIPSIS: Final = re.compile(r"\.{2,}")


def _byte_table() -> bytes:
    """Letters and digits stay; sentence marks become "." or "?"; all else a space."""
    table = bytearray(b" " * 256)
    for char in b"abcdefghijklmnopqrstuvwxyz0123456789":
        table[char] = char
    table[ord("@")] = ord("a")  # "k@ll", "$uicide"
    table[ord("$")] = ord("s")
    for char in b".!;\n\r":
        table[char] = ord(".")
    table[ord("?")] = ord("?")
    return bytes(table)


_BYTE_TABLE: Final = _byte_table()


def _canonical(text: str) -> str:
    if text.isascii():
        s = text.lower()
        if "`" in s or "&" in s or "+" in s:
            s = s.translate(_CHAR_MAP)
    else:
        s = unicodedata.normalize("NFKD", text).casefold()
        s = _COMBINING.sub("", unicodedata.normalize("NFKD", s)).translate(_CHAR_MAP)
        s = _NON_ASCII.sub(" ", s)
    if "od'" in s or "o.d" in s or "0d'" in s or "0.d" in s:
        s = _OD.sub(" overdose ", s)  # the plain forms ("od", "oding") are aliases
    if "d." in s:
        s = _DTS.sub(" dts ", s)
    if ".." in s:
        s = _ELLIPSIS.sub(" ", s)  # "I... want... to... die" is one sentence
    data = s.encode("ascii").translate(_BYTE_TABLE, b"'")
    if b"." in data:
        data = data.replace(b".", b" . ")
    if b"?" in data:
        data = data.replace(b"?", b" ? ")
    has_digit = len(data.translate(None, b"0123456789")) != len(data)
    text = _dedupe_letters(data.decode("ascii"))
    tokens = text.split()
    if has_digit:
        # Digits standing for letters inside a word: "k1ll", "h3r0in", "t0".
        tokens = [
            _dedupe_letters(t.translate(_LEET_MAP)) if not (t.isalpha() or t.isdigit()) else t
            for t in tokens
        ]
    return " ".join(map(_WORD_MAP.get, tokens, tokens))


def normalise(text: str) -> str:
    """The text as the phrase lists see it (see the module docstring)."""
    return _canonical(text)


def detect_crisis(text: str) -> CrisisKind | None:
    """Classify a free-text message; ``None`` when it signals no danger.

    Pure and fast: only the phrases that can start with each word (and the
    word after it) are tried there. When one message matches several kinds,
    :data:`PRIORITY` decides.
    """
    if not text:
        return None
    normalised = _canonical(text)
    words = normalised.split(" ")
    entries = list(map(_INDEX.get, words))
    ranks = len(PRIORITY)
    best = ranks
    if entries.count(None) != len(entries):
        count = len(words)
        offsets = list(accumulate(map(len, words), initial=0))
        for i in compress(range(count), entries):
            entry = entries[i]
            if entry is None:  # pragma: no cover - compress() skipped these
                continue
            always, by_second = entry
            groups: tuple[_Candidates, ...] = (always,)
            if by_second:
                more = by_second.get(words[i + 1] if i + 1 < count else "")
                if more is not None:
                    groups = (always, more)
            position = offsets[i] + i
            for candidates in groups:
                for phrase in candidates:
                    if phrase.rank >= best:
                        break
                    match = phrase.pattern.match(normalised, position)
                    if match is not None and (
                        phrase.negated is None or not phrase.negated(normalised, match)
                    ):
                        best = phrase.rank
                        break
            if best == 0:
                break
    for phrase in _EVERYWHERE:
        if phrase.rank >= best:
            break
        start = 0
        while (match := phrase.pattern.search(normalised, start)) is not None:
            if phrase.negated is None or not phrase.negated(normalised, match):
                best = phrase.rank
                break
            start = match.start() + 1
    return PRIORITY[best] if best < ranks else None


def explain(text: str) -> list[tuple[str, CrisisKind, str, bool]]:
    """Every phrase match in a message, for content designers and tests.

    Each item is (family name, kind, matched text, cancelled by negation).
    Slower than :func:`detect_crisis`; never used on the live path.
    """
    normalised = _canonical(text)
    found: list[tuple[str, CrisisKind, str, bool]] = []
    phrases = {
        id(p): p
        for always, by_second in _INDEX.values()
        for group in (always, *by_second.values())
        for p in group
    }
    phrases.update((id(p), p) for p in _EVERYWHERE)
    for phrase in sorted(phrases.values(), key=lambda p: p.rank):
        for match in phrase.pattern.finditer(normalised):
            negated = phrase.negated is not None and phrase.negated(normalised, match)
            found.append((phrase.family.name, phrase.family.kind, match.group(), negated))
    return found

"""Support services: national safety net, matched national services, local treatment.

Why: signposting must be honest about what was checked. Every service carries
its verification level; a local row whose contacts were not verified can never
carry a phone number (the loader refuses one), so the bot cannot speak a
number nobody checked. National safety-net services are returned whatever the
person said; others are filtered by substance and ordered by need.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Final

from storage.directory._csv import package_text, parse_rows, yes_no

SERVICES_FILE: Final = "services.csv"


class Substance(StrEnum):
    """What the person is dealing with (the disclosure question's choices)."""

    ALCOHOL = "alcohol"
    OPIOIDS = "opioids"
    CRACK_COCAINE = "crack_cocaine"
    CANNABIS = "cannabis"
    PRESCRIPTION = "prescription"
    OTHER = "other"


class Need(StrEnum):
    """What would help (WORK covers training, volunteering and work)."""

    PEER_MENTOR = "peer_mentor"
    TREATMENT = "treatment"
    WORK = "work"
    INFORMATION = "information"


class Verification(StrEnum):
    """How well a service's contact details were checked (see SOURCES.md)."""

    VERIFIED = "verified"
    SECONDARY = "secondary"  # found in a secondary source only: verify
    UNVERIFIED = "unverified"  # check before use; no phone number is ever shown


class Charges(StrEnum):
    """What a call costs: 0800/0808 and 116/111/999 are free; 03 numbers cost the
    same as a call to an 01/02 number (standard rate, often in bundled minutes)."""

    FREE = "free"
    STANDARD_RATE = "standard_rate"
    NO_PHONE = "no_phone"


class PhoneRole(StrEnum):
    """What the number is: a helpline, or an office line for general requests
    (SMART's), which the bot must not present as a helpline."""

    HELPLINE = "helpline"
    OFFICE = "office"
    NONE = "none"


class Topic(StrEnum):
    """Which list a service belongs to. RECOVERY is the signposting list built from
    what the person disclosed; the others are offered on request."""

    RECOVERY = "recovery"
    BENEFITS = "benefits"  # benefits and sanctions advice
    LEGAL = "legal"  # legal advice on drugs
    FAMILIES = "families"  # support for families and friends
    NALOXONE = "naloxone"  # where to get the overdose antidote
    GAMBLING = "gambling"
    DOMESTIC_ABUSE = "domestic_abuse"


class Fallback(StrEnum):
    """What the bot says for a service with no number and no website: never
    "see the website" where there is none."""

    NONE = "none"  # the row has a number or a website
    GP_OR_FRANK = "gp_or_frank"  # "ask your GP or call FRANK"
    WORK_COACH = "work_coach"  # reached through the work coach at the person's Jobcentre


class ServiceKind(StrEnum):
    NATIONAL = "national"
    LOCAL = "local"


ALL_SUBSTANCES: Final = frozenset(Substance)
FREE_PREFIXES: Final = ("080", "116", "111", "999")  # Ofcom: free from landlines and mobiles
STANDARD_RATE_PREFIXES: Final = ("01", "02", "03")  # charged as a call to an 01/02 number


def charges_for(dial: str | None) -> Charges:
    """What calling ``dial`` costs, from its prefix (Ofcom's UK number ranges)."""
    if not dial:
        return Charges.NO_PHONE
    digits = dial.replace(" ", "")
    if digits.startswith(FREE_PREFIXES):
        return Charges.FREE
    if digits.startswith(STANDARD_RATE_PREFIXES):
        return Charges.STANDARD_RATE
    raise ValueError(f"no charge band known for {dial!r}")


@dataclass(frozen=True, slots=True)
class Service:
    """One row of services.csv; source columns kept as text beside the parsed ones.

    ``dial`` and ``sms_number``/``sms_keyword`` are the clean contact numbers;
    ``phone`` is the source's wording. ``substances`` is every substance for
    services that are not substance-specific. ``charges`` is what a call costs,
    ``phone_role`` whether the number is a helpline or an office line, ``topic``
    which list the service is in, ``fallback`` what to say when there is neither a
    number nor a website, ``source_date`` when the source for its details was
    published (blank for seeded national rows; see SOURCES.md).
    """

    service_id: str
    name: str
    kind: ServiceKind
    substances: frozenset[Substance]
    needs: frozenset[Need]
    local_authorities: frozenset[str]
    verification: Verification
    safety_net: bool
    crisis_rank: int | None
    in_treatment_only: bool
    dial: str | None
    sms_number: str | None
    sms_keyword: str | None
    phone: str | None
    text_sms: str | None
    website: str | None
    opening_hours: str
    what_it_offers: str
    covers_substances: str
    covers_areas: str
    contact_verification: str
    source: str
    charges: Charges
    phone_role: PhoneRole
    topic: Topic
    fallback: Fallback
    source_date: str

    @property
    def check_before_use(self) -> bool:
        """True unless contacts were verified: the bot says "check before use"."""
        return self.verification is not Verification.VERIFIED

    @property
    def url(self) -> str | None:
        """The website as a bare https URL (the source may add a note after it)."""
        if not self.website:
            return None
        first = self.website.split()[0]
        return first if first.startswith("https://") else None


@dataclass(frozen=True, slots=True)
class SupportList:
    """What to signpost: the safety net always, matched national services in order,
    and the local treatment service(s) for the area, flagged unverified."""

    safety_net: tuple[Service, ...]
    national: tuple[Service, ...]
    local: tuple[Service, ...]


def _blank(value: str) -> str | None:
    return value or None


def _check_contacts(sid: str, row: dict[str, str], kind: ServiceKind) -> None:
    """The rules that keep the bot from saying what nobody checked."""
    verification = Verification(row["verification"])
    contacts = any((row["phone"], row["dial"], row["text_sms"], row["sms_number"]))
    if contacts and kind is ServiceKind.LOCAL and verification is not Verification.VERIFIED:
        raise ValueError(f"{sid}: an unverified local service must not carry phone or text")
    dial = row["dial"] or None
    if Charges(row["charges"]) is not charges_for(dial):
        raise ValueError(f"{sid}: charges {row['charges']!r} do not match {dial!r}")
    role = PhoneRole(row["phone_role"])
    if (role is PhoneRole.NONE) is bool(dial):
        raise ValueError(f"{sid}: phone_role {role} does not match {dial!r}")
    reachable = bool(dial or row["sms_number"] or row["website"].startswith("https://"))
    if (Fallback(row["fallback"]) is Fallback.NONE) is not reachable:
        raise ValueError(f"{sid}: a service with no number and no website needs a fallback")
    if kind is ServiceKind.LOCAL and not row["source_date"]:
        raise ValueError(f"{sid}: a local service needs the date of its source")


def parse_services(text: str) -> tuple[Service, ...]:
    """Validate services.csv text: unverified local rows carry no contacts, charges
    match the number, and every row can be acted on or says what to do instead."""
    services: list[Service] = []
    seen: set[str] = set()
    for row in parse_rows(text):
        sid = row["service_id"]
        if not sid or sid in seen:
            raise ValueError(f"{SERVICES_FILE}: bad or duplicate service_id {sid!r}")
        seen.add(sid)
        kind = ServiceKind(row["kind"])
        verification = Verification(row["verification"])
        _check_contacts(sid, row, kind)
        substances = (
            ALL_SUBSTANCES
            if row["substances"] == "all"
            else frozenset(Substance(w) for w in row["substances"].split())
        )
        services.append(
            Service(
                service_id=sid,
                name=row["name"],
                kind=kind,
                substances=substances,
                needs=frozenset(Need(w) for w in row["needs"].split()),
                local_authorities=frozenset(filter(None, row["local_authorities"].split("|"))),
                verification=verification,
                safety_net=yes_no(row["safety_net"], "safety_net"),
                crisis_rank=int(row["crisis_rank"]) if row["crisis_rank"] else None,
                in_treatment_only=yes_no(row["in_treatment_only"], "in_treatment_only"),
                dial=_blank(row["dial"]),
                sms_number=_blank(row["sms_number"]),
                sms_keyword=_blank(row["sms_keyword"]),
                phone=_blank(row["phone"]),
                text_sms=_blank(row["text_sms"]),
                website=_blank(row["website"]),
                opening_hours=row["opening_hours"],
                what_it_offers=row["what_it_offers"],
                covers_substances=row["covers_substances"],
                covers_areas=row["covers_areas"],
                contact_verification=row["contact_verification"],
                source=row["source"],
                charges=Charges(row["charges"]),
                phone_role=PhoneRole(row["phone_role"]),
                topic=Topic(row["topic"]),
                fallback=Fallback(row["fallback"]),
                source_date=row["source_date"],
            )
        )
    return tuple(services)


@cache
def all_services() -> tuple[Service, ...]:
    """Every service row, in file order, loaded once."""
    return parse_services(package_text(SERVICES_FILE))


@cache
def crisis_contacts() -> tuple[Service, ...]:
    """The urgent-help numbers in the order to give them: 999, Samaritans, Shout, NHS 111."""
    ranked = [s for s in all_services() if s.crisis_rank is not None]
    return tuple(sorted(ranked, key=lambda s: s.crisis_rank or 0))


def services_for(
    substances: Iterable[str],
    needs: Iterable[str],
    local_authority: str | None,
    *,
    in_treatment: bool = False,
) -> SupportList:
    """Signposting for what the person chose to share (empty sets: prefer not to say).

    Substance-specific services that do not match are left out (AA for someone
    who named only opioids); the rest are ordered by need, then by substance
    match (narrowest first). IPS appears only for people in treatment who want work.
    """
    chosen = frozenset(Substance(s) for s in substances)
    wanted = frozenset(Need(n) for n in needs)
    services = all_services()
    national: list[tuple[tuple[bool, bool, int, int], Service]] = []
    for index, service in enumerate(services):
        if service.kind is not ServiceKind.NATIONAL or service.safety_net:
            continue
        if service.topic is not Topic.RECOVERY:
            continue  # offered on request: services_on(topic)
        specific = service.substances != ALL_SUBSTANCES
        if chosen and specific and not (service.substances & chosen):
            continue
        if service.in_treatment_only and not (in_treatment and Need.WORK in wanted):
            continue
        matches_substance = specific and bool(service.substances & chosen)
        # Need first, then substance match, the narrowest service first (CA before NA).
        narrowness = len(service.substances) if matches_substance else 0
        rank = (not (service.needs & wanted), not matches_substance, narrowness, index)
        national.append((rank, service))
    area = (local_authority or "").casefold()
    local = [
        s
        for s in services
        if s.kind is ServiceKind.LOCAL and area in {a.casefold() for a in s.local_authorities}
    ]
    return SupportList(
        safety_net=tuple(s for s in services if s.safety_net),
        national=tuple(s for _, s in sorted(national, key=lambda pair: pair[0])),
        local=tuple(local),
    )


def services_on(topic: str) -> tuple[Service, ...]:
    """National services on one topic (benefits advice, families, naloxone…), in file
    order: what the bot offers when the person asks about that topic."""
    wanted = Topic(topic)
    return tuple(s for s in all_services() if s.kind is ServiceKind.NATIONAL and s.topic is wanted)

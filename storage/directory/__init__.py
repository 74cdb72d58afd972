"""Reference data for First Step: pilot Jobcentres, local authorities, places, services.

Pure, in-memory and offline: no Telegram, no database, nothing fetched, nothing
about the person kept. Data files, their sources and the API: see README.md here.
"""

from storage.directory.about import AboutFact, about_fact, about_facts, facts_to_confirm
from storage.directory.authorities import (
    Authority,
    authorities_of,
    authority,
    authority_named,
    pilot_authorities,
)
from storage.directory.geo import LatLon, haversine_miles, osm_link, postcode_table
from storage.directory.offices import (
    Office,
    OfficeMatch,
    all_offices,
    nearest_offices,
    office_by_id,
    offices_by_region,
)
from storage.directory.places import (
    Place,
    PlaceError,
    PlaceErrorReason,
    PlaceKind,
    PlaceQuery,
    gazetteer,
    locate,
    lookup_name,
    parse_place,
)
from storage.directory.search import (
    LIST_RADIUS_MILES,
    MAX_CROW_MILES,
    AreaLookup,
    FinderResult,
    OfficeSearch,
    PilotAnswer,
    answer_for_office,
    crow_miles,
    find_offices,
    find_offices_at,
    locate_point,
    locate_text,
    offices_by_area,
    pilot_answer,
    search_offices,
)
from storage.directory.services import (
    Charges,
    Fallback,
    Need,
    PhoneRole,
    Service,
    ServiceKind,
    Substance,
    SupportList,
    Topic,
    Verification,
    all_services,
    charges_for,
    crisis_contacts,
    services_for,
    services_on,
)

__all__ = [
    "LIST_RADIUS_MILES",
    "MAX_CROW_MILES",
    "AboutFact",
    "AreaLookup",
    "Authority",
    "Charges",
    "Fallback",
    "FinderResult",
    "LatLon",
    "Need",
    "Office",
    "OfficeMatch",
    "OfficeSearch",
    "PhoneRole",
    "PilotAnswer",
    "Place",
    "PlaceError",
    "PlaceErrorReason",
    "PlaceKind",
    "PlaceQuery",
    "Service",
    "ServiceKind",
    "Substance",
    "SupportList",
    "Topic",
    "Verification",
    "about_fact",
    "about_facts",
    "all_offices",
    "all_services",
    "answer_for_office",
    "authorities_of",
    "authority",
    "authority_named",
    "charges_for",
    "crisis_contacts",
    "crow_miles",
    "facts_to_confirm",
    "find_offices",
    "find_offices_at",
    "gazetteer",
    "haversine_miles",
    "locate",
    "locate_point",
    "locate_text",
    "lookup_name",
    "nearest_offices",
    "office_by_id",
    "offices_by_area",
    "offices_by_region",
    "osm_link",
    "parse_place",
    "pilot_answer",
    "pilot_authorities",
    "postcode_table",
    "preload",
    "search_offices",
    "services_for",
    "services_on",
]


def preload() -> None:
    """Read every table now, at start-up, not in a person's first lookup."""
    postcode_table()
    all_offices()
    gazetteer()
    crisis_contacts()
    about_facts()
    locate_text("PO1 2AB")  # and the indexes built on first use
    locate_text("Southsea")
    locate_point(50.7989, -1.0912)
    search_offices("Bootle")

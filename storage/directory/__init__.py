"""Reference data for First Step: pilot Jobcentres, support services, postcode sectors.

Pure, in-memory and offline: no Telegram, no database, nothing fetched, nothing
about the person kept. Data files and their sources: see README.md here.
"""

from storage.directory.finder import (
    AREA_RADIUS_MILES,
    LIST_RADIUS_MILES,
    PILOT_RADIUS_MILES,
    FinderResult,
    find_offices,
    find_offices_at,
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
    parse_place,
)
from storage.directory.services import (
    Need,
    Service,
    ServiceKind,
    Substance,
    SupportList,
    Verification,
    all_services,
    crisis_contacts,
    services_for,
)

__all__ = [
    "AREA_RADIUS_MILES",
    "LIST_RADIUS_MILES",
    "PILOT_RADIUS_MILES",
    "FinderResult",
    "LatLon",
    "Need",
    "Office",
    "OfficeMatch",
    "Place",
    "PlaceError",
    "PlaceErrorReason",
    "PlaceKind",
    "PlaceQuery",
    "Service",
    "ServiceKind",
    "Substance",
    "SupportList",
    "Verification",
    "all_offices",
    "all_services",
    "crisis_contacts",
    "find_offices",
    "find_offices_at",
    "gazetteer",
    "haversine_miles",
    "locate",
    "nearest_offices",
    "office_by_id",
    "offices_by_region",
    "osm_link",
    "parse_place",
    "postcode_table",
    "preload",
    "services_for",
]


def preload() -> None:
    """Read every table now (about 25 ms), at start-up, not in a person's first lookup."""
    postcode_table()
    all_offices()
    gazetteer()
    crisis_contacts()
    find_offices("PO1 2AB")  # and the indexes built on first use

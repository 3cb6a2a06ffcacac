"""File names in the naming patterns of the source datasets, with real-looking places.

`sarlang1m.sources.identify` reads the source (and a DFC2023 image's coordinates) back from these names,
so each generator here must produce only names its source's pattern accepts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

#: DFC2023 cities with the coordinates of their centres (degrees); names use `_` for spaces.
DFC2023_CITIES: tuple[tuple[str, float, float], ...] = (
    ("Darwin", -12.4634, 130.8456),
    ("Sydney", -33.8688, 151.2093),
    ("Melbourne", -37.8136, 144.9631),
    ("Brisbane", -27.4698, 153.0251),
    ("Auckland", -36.8485, 174.7633),
    ("Singapore", 1.3521, 103.8198),
    ("Shanghai", 31.2304, 121.4737),
    ("Beijing", 39.9042, 116.4074),
    ("Guangzhou", 23.1291, 113.2644),
    ("Shenzhen", 22.5431, 114.0579),
    ("Wuhan", 30.5928, 114.3055),
    ("Hong_Kong", 22.3193, 114.1694),
    ("Tokyo", 35.6762, 139.6503),
    ("Seoul", 37.5665, 126.9780),
    ("Barcelona", 41.3874, 2.1686),
    ("Berlin", 52.5200, 13.4050),
    ("Copenhagen", 55.6761, 12.5683),
    ("Rio_de_Janeiro", -22.9068, -43.1729),
    ("Sao_Paulo", -23.5505, -46.6333),
    ("Cairo", 30.0444, 31.2357),
    ("Nairobi", -1.2921, 36.8219),
    ("Los_Angeles", 34.0522, -118.2437),
    ("Chicago", 41.8781, -87.6298),
    ("Mexico_City", 19.4326, -99.1332),
    ("Mumbai", 19.0760, 72.8777),
    ("Dubai", 25.2048, 55.2708),
    ("Istanbul", 41.0082, 28.9784),
    ("Lagos", 6.5244, 3.3792),
)

#: OpenEarthMap-SAR places (country, region, city) with coordinates; regions never hold `_`.
OPENEARTHMAP_PLACES: tuple[tuple[str, str, str, float, float], ...] = (
    ("France", "Alpes-Maritimes", "Nice", 43.7102, 7.2620),
    ("France", "Bouches-du-Rhone", "Marseille", 43.2965, 5.3698),
    ("France", "Gironde", "Bordeaux", 44.8378, -0.5792),
    ("Japan", "Tokyo", "Koto", 35.6727, 139.8171),
    ("Japan", "Osaka", "Sakai", 34.5733, 135.4830),
    ("Japan", "Kanagawa", "Yokohama", 35.4437, 139.6380),
    ("USA", "California", "San_Diego", 32.7157, -117.1611),
    ("USA", "Texas", "Houston", 29.7604, -95.3698),
    ("USA", "Florida", "Miami", 25.7617, -80.1918),
    ("USA", "Washington", "Seattle", 47.6062, -122.3321),
    ("Spain", "Valencia", "Valencia", 39.4699, -0.3763),
    ("Italy", "Liguria", "Genoa", 44.4056, 8.9463),
    ("Germany", "Hamburg", "Hamburg", 53.5511, 9.9937),
    ("Brazil", "Rio-de-Janeiro", "Niteroi", -22.8832, -43.1034),
    ("Egypt", "Alexandria", "Alexandria", 31.2001, 29.9187),
    ("UAE", "Dubai", "Jebel_Ali", 25.0118, 55.0619),
    ("India", "Maharashtra", "Navi_Mumbai", 19.0330, 73.0297),
    ("Chile", "Valparaiso", "Vina_del_Mar", -33.0245, -71.5518),
    ("South-Africa", "Western-Cape", "Cape_Town", -33.9249, 18.4241),
    ("Canada", "British-Columbia", "Vancouver", 49.2827, -123.1207),
    ("Australia", "New-South-Wales", "Newcastle", -32.9283, 151.7817),
    ("Norway", "Vestland", "Bergen", 60.3913, 5.3221),
    ("Portugal", "Lisbon", "Lisbon", 38.7223, -9.1393),
    ("Greece", "Attica", "Piraeus", 37.9430, 23.6470),
    ("Singapore", "Central", "Singapore", 1.2903, 103.8520),
    ("Turkey", "Izmir", "Izmir", 38.4237, 27.1428),
    ("Morocco", "Tanger-Tetouan", "Tangier", 35.7595, -5.8340),
    ("Indonesia", "Jakarta", "Tanjung_Priok", -6.1045, 106.8800),
)

#: Rotterdam in UTM zone 31N (metres): where SpaceNet6 tiles lie.
ROTTERDAM_UTM31N = (592_000.0, 5_751_000.0)
#: SARDet-100K numbers its images up to about this many.
SARDET_MAX_ID = 119_999


@dataclass(frozen=True)
class ImageName:
    """A generated image: its file stem and where on Earth it lies (for GeoTIFF tags and captions)."""

    stem: str
    place: str  # city (and country) for captions; empty for SARDet-100K
    lat: float
    lon: float


class NameFactory:
    """Unique names for every source, drawn from one seeded generator."""

    def __init__(self, rng: random.Random):
        self._rng = rng
        self._taken: set[str] = set()
        self._sn6_numbers = iter(rng.sample(range(1, 20_000), 19_999))
        self._sardet_numbers = iter(rng.sample(range(1, SARDET_MAX_ID + 1), SARDET_MAX_ID))
        self._oem_counters = [rng.randrange(0, 5) for _ in OPENEARTHMAP_PLACES]

    def _claim(self, stem: str) -> bool:
        if stem in self._taken:
            return False
        self._taken.add(stem)
        return True

    def spacenet6(self) -> ImageName:
        stem = f"SN6_Rotterdam_{next(self._sn6_numbers)}"
        self._claim(stem)
        return ImageName(stem, "Rotterdam, Netherlands", 51.9244, 4.4777)

    def dfc2023(self) -> ImageName:
        while True:
            city, lat, lon = self._rng.choice(DFC2023_CITIES)
            sensor = "SV" if self._rng.random() < 0.6 else "GF2"
            lat = round(lat + self._rng.uniform(-0.08, 0.08), 4)
            lon = round(lon + self._rng.uniform(-0.08, 0.08), 4)
            if self._claim(stem := f"{sensor}_{city}_{lat:.4f}_{lon:.4f}"):
                return ImageName(stem, city.replace("_", " "), lat, lon)

    def openearthmap_sar(self) -> ImageName:
        index = self._rng.randrange(len(OPENEARTHMAP_PLACES))
        country, region, city, lat, lon = OPENEARTHMAP_PLACES[index]
        self._oem_counters[index] += 1 + (self._rng.random() < 0.2)
        stem = f"{country}_{region}_{city}_{self._oem_counters[index]}"
        self._claim(stem)
        jitter = self._rng.uniform(-0.03, 0.03)
        return ImageName(stem, f"{city.replace('_', ' ')}, {country.replace('-', ' ')}", lat + jitter, lon - jitter)

    def sardet_100k(self) -> ImageName:
        stem = f"{next(self._sardet_numbers):07d}"
        self._claim(stem)
        return ImageName(stem, "", 0.0, 0.0)

    def for_source(self, source: str) -> ImageName:
        return getattr(self, source)()

"""Generated file names follow each source's naming pattern, as `sources.identify` reads it."""

from __future__ import annotations

import random

import pytest

from sarlang1m.sources import identify
from sarlang1m.synth.names import DFC2023_CITIES, NameFactory


@pytest.mark.parametrize("source", ["spacenet6", "dfc2023", "openearthmap_sar", "sardet_100k"])
def test_names_are_identified_as_their_source(source: str):
    factory = NameFactory(random.Random(1))
    names = [factory.for_source(source) for _ in range(2_000)]
    assert len({n.stem for n in names}) == len(names)
    assert {identify(n.stem).source for n in names} == {source}


def test_dfc2023_names_carry_coordinates_near_a_listed_city():
    factory = NameFactory(random.Random(2))
    cities = {city: (lat, lon) for city, lat, lon in DFC2023_CITIES}
    for _ in range(500):
        name = factory.dfc2023()
        info = identify(name.stem)
        lat, lon = cities[name.stem.split("_", 1)[1].rsplit("_", 2)[0]]
        assert info.lat == pytest.approx(name.lat) and info.lon == pytest.approx(name.lon)
        assert abs(info.lat - lat) <= 0.08 + 1e-9 and abs(info.lon - lon) <= 0.08 + 1e-9
        assert name.stem.startswith(("SV_", "GF2_"))


def test_sardet_names_are_seven_digits_and_openearthmap_names_name_a_place():
    factory = NameFactory(random.Random(3))
    assert all(len(factory.sardet_100k().stem) == 7 for _ in range(100))
    name = factory.openearthmap_sar()
    assert identify(name.stem).location.startswith(name.place.split(",")[0])

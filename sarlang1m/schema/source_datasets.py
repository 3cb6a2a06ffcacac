"""The source datasets of SARLANG-1M, their resolution tiers and the radiometry of their original pixels.

This module says what each source is (sensor, GSD, tier, polarisations, licence, size in the paper);
`sarlang1m.sources` decides which source a file comes from, by its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# Resolution tiers. The paper defines none; these bounds are ours and documented in the card.


@dataclass(frozen=True)
class Tier:
    name: str
    gsd_m: tuple[float, float]
    #: The tier's images as a noun phrase: the card's tables show it, and config descriptions end with it.
    description: str


TIERS: dict[str, Tier] = {
    t.name: t
    for t in (
        Tier("vhr", (0.0, 0.5), "very high resolution images (GSD up to 0.5 m)"),
        Tier("high", (0.5, 2.0), "high resolution images (GSD above 0.5 m, up to 2 m)"),
        Tier("medium", (2.0, 5.0), "medium resolution images (GSD above 2 m, up to 5 m)"),
        Tier("low", (5.0, 25.0), "low resolution images (GSD above 5 m, up to 25 m)"),
        Tier(
            "mixed",
            (0.1, 25.0),
            "images of unknown resolution within 0.1-25 m (SARDet-100K images, whose source dataset is not known)",
        ),
    )
}


# --------------------------------------------------------------------------------------------
# Radiometry of the original SAR pixels (see sarlang1m.sar)

Radiometry = Literal["amplitude", "intensity", "db", "complex", "display"]
RADIOMETRIES: tuple[Radiometry, ...] = get_args(Radiometry)

# --------------------------------------------------------------------------------------------
# Source datasets


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    subset: str
    sensor: str
    gsd_m: tuple[float, float]
    tier: str
    polarizations: tuple[str, ...]
    #: Radiometry of the source's original GeoTIFF when it is documented; None: inferred per file.
    radiometry: Radiometry | None
    license: str
    license_url: str
    commercial_use: bool
    homepage: str
    paper_images: int


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            name="spacenet6",
            title="SpaceNet6 (Rotterdam)",
            subset="sarvqa2",
            sensor="Capella Space airborne X-band, quad-pol",
            gsd_m=(0.5, 0.5),
            tier="vhr",
            polarizations=("HH", "HV", "VH", "VV"),
            radiometry="db",
            license="CC BY-SA 4.0 (reported)",
            license_url="https://creativecommons.org/licenses/by-sa/4.0/",
            commercial_use=True,
            homepage="https://spacenet.ai/sn6-challenge/",
            paper_images=3311,
        ),
        Source(
            name="dfc2023",
            title="IEEE GRSS Data Fusion Contest 2023",
            subset="sarvqa2",
            sensor="Gaofen-3 C-band (reported), single-pol",
            gsd_m=(0.5, 2.0),
            tier="high",
            polarizations=(),
            radiometry=None,
            license="IEEE GRSS DFC2023 terms of use",
            license_url="https://www.grss-ieee.org/community/technical-committees/2023-ieee-grss-data-fusion-contest/",
            commercial_use=False,
            homepage="https://www.grss-ieee.org/community/technical-committees/2023-ieee-grss-data-fusion-contest/",
            paper_images=5222,
        ),
        Source(
            name="openearthmap_sar",
            title="OpenEarthMap-SAR (Umbra)",
            subset="sarvqa2",
            sensor="Umbra X-band spotlight, single-pol",
            gsd_m=(0.15, 0.5),
            tier="vhr",
            polarizations=(),
            radiometry=None,
            license="CC BY 4.0 (Umbra open data)",
            license_url="https://creativecommons.org/licenses/by/4.0/",
            commercial_use=True,
            homepage="https://github.com/cliffbb/OpenEarthMap-SAR",
            paper_images=4813,
        ),
        Source(
            name="sardet_100k",
            title="SARDet-100K",
            subset="sarvqa1",
            sensor="mixed: GF-3, Sentinel-1, TerraSAR-X, TanDEM-X, RadarSat-2, HISEA-1, airborne",
            gsd_m=(0.1, 25.0),
            tier="mixed",
            polarizations=(),
            radiometry="display",
            license="CC BY-NC 4.0",
            license_url="https://creativecommons.org/licenses/by-nc/4.0/",
            commercial_use=False,
            homepage="https://github.com/zcablii/SARDet_100K",
            paper_images=104985,
        ),
        Source(
            name="unknown",
            title="Unrecognised file name",
            subset="sarvqa2",
            sensor="unknown",
            gsd_m=(0.1, 25.0),
            tier="mixed",
            polarizations=(),
            radiometry=None,
            license="unknown",
            license_url="",
            commercial_use=False,
            homepage="",
            paper_images=0,
        ),
    )
}
#: The source datasets a row can come from, without the catch-all for unrecognised file names: what a
#: user picks from (e.g. `sarlang1m prefetch --source`).
NAMED_SOURCES: tuple[str, ...] = tuple(name for name in SOURCES if name != "unknown")

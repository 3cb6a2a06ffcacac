"""The dependency floors have one record, .ci/oldest.txt, and pyproject.toml declares exactly those.

CI installs the package with `-c .ci/oldest.txt` and runs the suite on it: a floor raised or lowered in
pyproject.toml but not there (or the reverse) would be a floor nobody tests.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
OLDEST = ROOT / ".ci" / "oldest.txt"


def declared_floors(pyproject: Path) -> dict[str, Version]:
    """Each direct dependency (and each of the torch extra) -> the version of its `>=` bound."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    floors: dict[str, Version] = {}
    for line in [*project["dependencies"], *project["optional-dependencies"]["torch"]]:
        requirement = Requirement(line)
        bounds = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        assert len(bounds) == 1, f"{line!r} in {pyproject.name}: every dependency needs one floor (>=)"
        floors[canonicalize_name(requirement.name)] = bounds[0]
    return floors


def pinned_floors(constraints: Path) -> dict[str, Version]:
    """Each `name==version` line of a constraints file -> that version."""
    pins: dict[str, Version] = {}
    for raw in constraints.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"{line!r} in {constraints.name}: a floor is pinned with =="
            pins[canonicalize_name(requirement.name)] = Version(spec.version)
    return pins


def floor_mismatches(pyproject: Path, constraints: Path) -> list[str]:
    """Every library whose floor differs between the two files, or that only one of them names."""
    declared, pinned = declared_floors(pyproject), pinned_floors(constraints)
    return [
        f"{name}: {declared.get(name, 'not declared')} in {pyproject.name}, {pinned.get(name, 'not pinned')} in "
        f"{constraints.name}"
        for name in sorted(declared.keys() | pinned.keys())
        if declared.get(name) != pinned.get(name)
    ]


def test_the_floors_file_pins_exactly_the_floors_pyproject_declares() -> None:
    assert floor_mismatches(ROOT / "pyproject.toml", OLDEST) == []


def test_a_floor_changed_or_missing_on_one_side_is_named(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text((ROOT / "pyproject.toml").read_text().replace('"pyarrow>=20.0"', '"pyarrow>=21.0"'))
    constraints = tmp_path / "oldest.txt"
    constraints.write_text(OLDEST.read_text().replace("tqdm==", "# tqdm==") + "rich==14.0\n")
    assert floor_mismatches(pyproject, constraints) == [
        "pyarrow: 21.0 in pyproject.toml, 20.0.0 in oldest.txt",
        "rich: not declared in pyproject.toml, 14.0 in oldest.txt",
        "tqdm: 4.67.1 in pyproject.toml, not pinned in oldest.txt",
    ]

"""constraints.txt pins what scripts/setup.sh installs: every requirement of pyproject.toml must be pinned
there, exactly, at a version its range admits, or a new venv would again pick whatever is newest."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"not an exact pin: {line!r}"
        pins[canonicalize_name(requirement.name)] = Version(specifiers[0].version)
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        listed.extend(extra)
    return [Requirement(text) for text in listed]


def test_every_requirement_is_pinned_within_its_range():
    pins = _pins()
    problems = []
    for requirement in _requirements():
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement.name}: not in constraints.txt")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{requirement.name}: pinned {pinned}, pyproject asks {requirement.specifier}")
    assert not problems, "constraints.txt is out of step with pyproject.toml:\n" + "\n".join(problems)


def test_the_setup_script_installs_with_the_constraints():
    script = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    installs = [line for line in script.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert installs, "scripts/setup.sh installs nothing"
    assert all("-c constraints.txt" in line for line in installs), installs

"""README's table of Terraform resources matches the resources the examples use."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_readme_lists_exactly_the_resources_of_the_examples() -> None:
    used = set()
    for path in (ROOT / "examples" / "terraform").rglob("*.tf"):
        used |= set(re.findall(r'^resource "([a-z0-9_]+)"', path.read_text(), re.M))
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- terraform-resources -->")[1].split("<!-- /terraform-resources -->")[
        0
    ]
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", block, re.M))
    assert listed == used, (
        f"README lists {sorted(listed - used)} not used; misses {sorted(used - listed)}"
    )

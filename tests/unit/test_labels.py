"""Label specs and discovery."""

from __future__ import annotations

import pytest

from dicecli.errors import UsageError
from dicecli.labels import discover_labels, parse_labels, with_background
from dicecli.models import Region


def test_numbers_names_and_unions():
    assert parse_labels("1, 2") == (Region("1", (1,)), Region("2", (2,)))
    assert parse_labels("liver=1,whole tumor=1+2+4") == (
        Region("liver", (1,)),
        Region("whole tumor", (1, 2, 4)),
    )
    assert parse_labels("3+1") == (Region("3+1", (3, 1)),)


@pytest.mark.parametrize("spec", ["liver", "a=", "1,,2", "x=1,x=2", "a=1=2"])
def test_bad_specs_are_usage_errors(spec):
    with pytest.raises(UsageError, match="--labels"):
        parse_labels(spec)


def test_discovery_excludes_background_and_ignored():
    assert discover_labels({0, 3, 1, 255}, ignore=255) == (Region("1", (1,)), Region("3", (3,)))
    assert discover_labels({0, 2}, include_background=True)[0] == Region("0", (0,))
    assert with_background((Region("a", (1,)),), None)[0] == Region("0", (0,))


def test_segment_names_for_dicom_seg_and_rtstruct():
    assert parse_labels("liver=Liver,core=Tumor Core+3") == (
        Region("liver", (), ("Liver",)),
        Region("core", (3,), ("Tumor Core",)),
    )
    assert Region("core", (3,), ("Tumor Core",)).spec == "3+Tumor Core"

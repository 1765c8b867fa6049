"""Every file pydicom and nibabel ship as test data (installed with them): `dicecli info` reads
it or says in one line why not -- never a traceback, never an "unexpected" error; and `dicecli
score` of each file it reads, against itself, the same."""

from __future__ import annotations

import os

import pytest

from dicecli.cli import cli


def shipped_files() -> list[str]:
    import nibabel
    import pydicom.data

    roots = [
        os.path.dirname(pydicom.data.__file__),
        os.path.join(os.path.dirname(nibabel.__file__), "tests", "data"),
    ]
    files = []
    for root in roots:
        for folder, _, names in os.walk(root):
            files += [
                os.path.join(folder, n)
                for n in sorted(names)
                if not n.endswith((".py", ".pyc")) and n != "__init__.py"
            ]
    return sorted(files)


FILES = shipped_files()


def test_the_shipped_test_data_is_there():
    assert len(FILES) > 200  # pydicom ~150, nibabel ~140 files: a pip upgrade may move them


@pytest.mark.parametrize(
    "path", FILES, ids=[os.path.relpath(f, os.path.dirname(os.path.dirname(f))) for f in FILES]
)
def test_info_never_prints_a_traceback(runner, path):
    result = runner.invoke(cli, ["info", path])
    assert result.exit_code in (0, 3), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    if result.exit_code == 3:
        assert len(errors) == 1
        assert errors[0].startswith(f"error: {path}: ")
        assert "unexpected" not in errors[0]
        assert result.stderr.count("\n") == 1  # one line, not a message split over several
    else:
        assert errors == []
        assert result.stdout.startswith(path)
        scored = runner.invoke(
            cli, ["score", path, path, "--labels", "1", "--no-progress", "-j", "1"]
        )
        assert scored.exit_code in (0, 3), scored.output
        assert "Traceback" not in scored.output
        assert "unexpected" not in scored.output
        assert scored.exception is None or isinstance(scored.exception, SystemExit)

#!/usr/bin/env python3
"""Rerun the command of every ```console block in README.md and examples/*/README.md and paste
its real output (stdout and stderr, trailing spaces trimmed) below it.

    python examples/refresh_outputs.py

tests/test_examples.py checks that the pasted outputs are still what the commands print.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BLOCK = re.compile(r"```console\n\$ (?P<command>.*?)\n(?P<output>.*?)```", re.S)


def run(command: str) -> str:
    argv = shlex.split(command)
    if argv[0] == "dicecli":
        argv = [sys.executable, "-m", "dicecli", *argv[1:]]
    elif argv[0] == "python":
        argv = [sys.executable, *argv[1:]]
    done = subprocess.run(
        argv,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "240"},
    )
    return "".join(line.rstrip() + "\n" for line in done.stdout.splitlines())


def main() -> None:
    readmes = [
        os.path.join(ROOT, "README.md"),
        *sorted(glob.glob(os.path.join(ROOT, "examples", "*", "README.md"))),
    ]
    for path in readmes:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new = BLOCK.sub(lambda m: f"```console\n$ {m['command']}\n{run(m['command'])}```", text)
        if new != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
            print(f"updated {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    main()

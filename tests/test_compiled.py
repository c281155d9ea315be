"""The compiled core (orderscope/_compiled.py, setup.py): pure-Python runs, stale builds, and
the one arithmetic difference between mypyc and CPython that the code works around."""

from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from orderscope import _compiled
from orderscope._compiled import COMPILED, NATIVE, stale
from orderscope.fixed import div, to_float

BIG = st.integers(min_value=-(2**70), max_value=2**70)


@given(BIG, BIG.filter(bool))
def test_div_is_cpythons_int_division(a: int, b: int) -> None:
    # mypyc's own int / int rounds twice above 2**53; div must give CPython's result, bit
    # for bit, compiled or not (the build refuses any other int / int in compiled modules)
    assert div(a, b) == a / b


def test_div_beyond_2_53() -> None:
    # converted to doubles first, these would round to another last bit (checked below)
    a, b = 216_766_261_806_883_662, 155_326_366_367_806_641
    assert float(a) / float(b) != a / b
    assert div(a, b) == a / b
    v = 2_008_209_008_136_989_043
    assert float(v) / 1e8 != v / 10**8
    assert to_float(v, 8) == v / 10**8


def _files(env: dict[str, str]) -> list[str]:
    code = (
        "import importlib, sys\n"
        f"for name in {list(COMPILED)!r}:\n"
        "    print(importlib.import_module(name).__file__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def test_orderscope_pure_loads_every_module_from_source() -> None:
    env = {**os.environ, _compiled.PURE_ENV: "1"}
    files = _files(env)
    assert len(files) == len(COMPILED)
    assert all(f.endswith(".py") for f in files)


def test_compiled_or_not_all_modules_agree() -> None:
    # a build compiles every listed module: a mix would mean a stale or partial build
    env = {k: v for k, v in os.environ.items() if k != _compiled.PURE_ENV}
    kinds = {f.endswith(".py") for f in _files(env)}
    assert len(kinds) == 1


def test_an_extension_older_than_its_source_is_stale(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    package = tmp_path / "src" / "orderscope"
    name = COMPILED[0]
    source = tmp_path.joinpath("src", *name.split(".")).with_suffix(".py")
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text("")
    built = source.with_suffix(importlib.machinery.EXTENSION_SUFFIXES[0])
    built.write_text("")
    os.utime(source, (1_000, 1_000))
    os.utime(built, (2_000, 2_000))
    assert stale(package) == []
    os.utime(source, (3_000, 3_000))  # edited after the build
    assert stale(package) == [name]
    (tmp_path / "pyproject.toml").unlink()  # an installed package: never stale
    assert stale(package) == []


def test_a_c_extension_older_than_its_c_file_is_stale(tmp_path: Path) -> None:
    # the hand-written C (NATIVE) follows the same rule: an edited _levels.c makes the run pure
    (tmp_path / "pyproject.toml").write_text("")
    package = tmp_path / "src" / "orderscope"
    package.mkdir(parents=True)
    name, c_file = next(iter(NATIVE.items()))  # the first (each follows the same rule)
    source = package / c_file
    source.write_text("")
    built = package / (Path(c_file).stem + importlib.machinery.EXTENSION_SUFFIXES[0])
    built.write_text("")
    os.utime(source, (1_000, 1_000))
    os.utime(built, (2_000, 2_000))
    assert stale(package) == []
    os.utime(source, (3_000, 3_000))
    assert stale(package) == [name]
    # ... and so does a shared header (_decimal.h) newer than the extension
    os.utime(source, (1_000, 1_000))
    header = package / "_decimal.h"
    header.write_text("")
    os.utime(header, (1_500, 1_500))
    assert stale(package) == []
    os.utime(header, (3_000, 3_000))
    assert stale(package) == [name]

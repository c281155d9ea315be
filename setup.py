"""Compiles the hot modules listed in ``src/orderscope/_compiled.py`` with mypyc.

Everything else about the package is in pyproject.toml. ``ORDERSCOPE_PURE_BUILD=1`` builds
without compiling (a pure-Python install; ``ORDERSCOPE_PURE=1`` at run time does the same for an
installed compiled build). See docs/ARCHITECTURE.md, "Compiled core".
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"


def _listed(name: str) -> Any:
    """A literal (``COMPILED``, ``NATIVE``) of orderscope/_compiled.py, read without importing."""
    tree = ast.parse((SRC / "orderscope" / "_compiled.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == name:
            return ast.literal_eval(node.value)
    raise SystemExit(f"setup.py: no {name} in src/orderscope/_compiled.py")


def compiled_modules() -> list[str]:
    """``COMPILED``: the modules mypyc compiles."""
    return list(_listed("COMPILED"))


def extensions() -> list[object]:
    if os.environ.get("ORDERSCOPE_PURE_BUILD", "") not in ("", "0"):
        return []
    from mypyc.build import mypycify

    paths = [str(Path("src", *name.split(".")).with_suffix(".py")) for name in compiled_modules()]
    # One group: compiled modules call each other's functions directly. The group name fixes
    # the shared library's name (orderscope__mypyc) instead of a hash of the module list.
    modules = mypycify(paths, opt_level="3", group_name="orderscope", target_dir=BUILD)
    refuse_int_true_division()
    return [*modules, *hand_written()]


def hand_written() -> list[Extension]:
    """``NATIVE``: the C extensions written by hand (module -> C file beside the package)."""
    native: dict[str, str] = _listed("NATIVE")
    # Their shared headers (_decimal.h): a change rebuilds every extension.
    headers = sorted(str(h.relative_to(HERE)) for h in (SRC / "orderscope").glob("_*.h"))
    return [
        Extension(
            name,
            [str(Path("src", "orderscope", c_file))],
            depends=headers,
            extra_compile_args=["-O2"],
        )
        for name, c_file in native.items()
    ]


BUILD = "build/mypyc"
#: Compiled functions allowed to divide ints with ``/``, because they do so only where both
#: ints are exact as doubles (one rounding: CPython's result): ``fixed.div`` checks it;
#: ``fixed.parse_float_exact`` divides an int below 2**52 by a power of ten that is either exact
#: as a double (up to 10**22) or beyond 2**62, which mypyc hands to CPython's own division.
DIV_ALLOWED = {"CPyDef_fixed___div", "CPyDef_fixed___parse_float_exact"}


def refuse_int_true_division() -> None:
    """Fail the build if mypyc compiled an ``int / int`` outside ``fixed.div``.

    mypyc divides two ints as doubles, which is not CPython's correctly rounded result above
    2**53: compiled and pure-Python runs would differ in the last bit of a float. The generated
    C names the function of each such division."""
    where = set()
    for c_file in Path(BUILD).glob("__native*.c"):  # the group's code (the rest are shims)
        function = "?"
        for line in c_file.read_text().splitlines():
            defined = re.match(r"^\w[\w \*]*\b(CPyDef_\w+)\(", line)
            if defined:
                function = defined.group(1)
            elif "CPyTagged_TrueDivide(" in line and function not in DIV_ALLOWED:
                where.add(function)
    if where:
        raise SystemExit(
            "setup.py: int / int in compiled modules (use orderscope.fixed.div): "
            + ", ".join(sorted(where))
        )


class BuildExt(build_ext):
    """build_ext, then every compiled module's file stamped with the build's time.

    A module's own extension is a small shim that distutils leaves alone when its C did not
    change, while its code lives in the group's shared library: without the stamp, an edited
    module would look stale next to its unchanged shim (orderscope/_compiled.py compares the
    times to catch extensions older than their sources)."""

    def run(self) -> None:
        super().run()
        for ext in self.extensions:
            built = Path(self.get_ext_fullpath(ext.name))
            if built.exists():
                built.touch()


os.chdir(HERE)  # mypycify takes paths relative to the project
setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})

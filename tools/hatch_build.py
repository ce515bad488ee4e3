"""Hatchling build hook: compiles libpgz with the pinned Zig from the `ziglang` wheel.

The shared object is written into the source tree (``pypgz/libpgz.so``) so that an
editable install finds it beside the Python package, and is declared an artifact so
the wheel carries it even though git ignores it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LIB_NAME = "libpgz.so"


class ZigBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        prefix = root / "zig-out"
        optimize = os.environ.get("PYPGZ_ZIG_OPTIMIZE", "ReleaseFast")
        # The baseline CPU of the architecture, not the build machine's: a wheel must run
        # on any machine of its platform tag (a native build could use AVX-512 and die
        # with SIGILL elsewhere).
        cpu = os.environ.get("PYPGZ_ZIG_CPU", "baseline")
        cmd = [
            sys.executable, "-m", "ziglang", "build",
            f"-Doptimize={optimize}",
            f"-Dcpu={cpu}",
            "--prefix", str(prefix),
        ]
        subprocess.run(cmd, cwd=root, check=True)
        built = prefix / "lib" / LIB_NAME
        dest = root / "pypgz" / LIB_NAME
        # Copy, then rename over the old file: processes that have the old library mapped
        # keep their copy intact (overwriting it in place crashes them).
        tmp = dest.with_name(LIB_NAME + ".tmp")
        shutil.copyfile(built, tmp)
        os.replace(tmp, dest)
        build_data["artifacts"].append(f"pypgz/{LIB_NAME}")
        # A compiled shared object inside: tag the wheel for this platform.
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{_platform_tag()}"


def _platform_tag() -> str:
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")

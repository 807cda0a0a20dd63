"""Run the real Anki desktop (the `aqt` package) under Xvfb with the test add-on (tests/anki_addon).

The base folder is made fresh and pre-seeded the way Anki itself writes it (its own ProfileManager,
in a child process), so no first-run language dialog or profile picker appears: English, one
profile, software rendering (Xvfb has no GPU), no update checks. As root, Qt WebEngine's Chromium
refuses to start with its sandbox on, so it is switched off for this throw-away run only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ADDON = Path(__file__).resolve().parent / "anki_addon"
PROFILE = "test"

SEED = r"""
import sys
from pathlib import Path
from aqt.profiles import ProfileManager, VideoDriver
pm = ProfileManager(Path(sys.argv[1]))
pm.setupMeta()                       # writes prefs21.db: from now on this is not a first run
pm.meta["defaultLang"] = "en_US"     # what the language dialog would have stored
pm.meta["firstRun"] = False
pm.set_update_check(False)
pm.set_check_for_addon_updates(False)
pm.create(sys.argv[2])
pm.load(sys.argv[2])
pm.profile["autoSync"] = False
pm.save()
pm.set_video_driver(VideoDriver.Software)
"""


def anki_executable() -> Path | None:
    """The `anki` entry point of this environment's aqt, if aqt is installed."""
    candidate = Path(sys.executable).parent / "anki"
    if not candidate.exists():
        return None
    probe = subprocess.run([sys.executable, "-c", "import aqt, PyQt6.QtWebEngineWidgets"], capture_output=True)
    return candidate if probe.returncode == 0 else None


def xvfb_executable() -> str | None:
    return shutil.which("Xvfb")


@dataclass
class DesktopRun:
    results: dict
    seconds: float
    log: str


class Xvfb:
    """A virtual X display; Xvfb picks a free display number and tells it on a pipe."""

    def __init__(self, executable: str, size: str = "1600x1200x24"):
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            [executable, "-displayfd", str(write), "-screen", "0", size, "-nolisten", "tcp"],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.close()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_anki(apkg: Path, cards: list[str], combos: list[dict], work: Path, shots: Path, timeout: float) -> DesktopRun:
    """Import `apkg` into a fresh Anki and measure `cards` in its reviewer for every combo."""
    anki, xvfb = anki_executable(), xvfb_executable()
    assert anki and xvfb
    base = work / "anki-base"
    base.mkdir(parents=True)
    subprocess.run([sys.executable, "-c", SEED, str(base), PROFILE], check=True, capture_output=True, timeout=120)
    shutil.copytree(ADDON, base / "addons21" / "ankibuild_desktop_test", ignore=shutil.ignore_patterns("__pycache__"))
    results = work / "results.json"
    job = work / "job.json"
    job.write_text(
        json.dumps(
            {
                "apkg": str(apkg),
                "cards": cards,
                "combos": combos,
                "results": str(results),
                "screenshots": str(shots),
                "probe": str(Path(__file__).resolve().parent / "card_probe.js"),
                "typeset_timeout": 60,
                "watchdog": timeout - 30,
            }
        ),
        encoding="utf-8",
    )
    display = Xvfb(xvfb)
    env = dict(
        os.environ,
        DISPLAY=display.display,
        QT_QPA_PLATFORM="xcb",
        ANKIBUILD_DESKTOP_JOB=str(job),
        LANG="en_US.UTF-8",
    )
    env.pop("WAYLAND_DISPLAY", None)
    if os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    log_path = work / "anki.log"
    start = time.monotonic()
    try:
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [str(anki), "-b", str(base), "-p", PROFILE],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    finally:
        display.close()
    seconds = time.monotonic() - start
    log_text = log_path.read_text(encoding="utf-8", errors="replace")
    data = json.loads(results.read_text(encoding="utf-8")) if results.exists() else {"error": "no results written"}
    return DesktopRun(data, seconds, log_text)

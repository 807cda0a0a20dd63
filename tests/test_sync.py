"""Desktop → AnkiWeb → phone, with Anki's own sync server (the AnkiWeb protocol) on 127.0.0.1.

After the first full upload/download, a rebuilt deck imported on the desktop must reach the phone
through normal syncs only (a full sync would make the learner choose which side to lose), and no
review made on the phone may be lost.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from anki.sync_pb2 import SyncCollectionResponse

from builder.config import load_config
from tests.ankiclient import Learner
from tests.conftest import Project, changed_notetype, guid

DECK = "Fixture Deck"
FULL = {
    SyncCollectionResponse.FULL_SYNC,
    SyncCollectionResponse.FULL_DOWNLOAD,
    SyncCollectionResponse.FULL_UPLOAD,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sync_url(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = dict(
        os.environ,
        SYNC_USER1="learner:secret",
        SYNC_HOST="127.0.0.1",
        SYNC_PORT=str(port),
        SYNC_BASE=str(tmp_path / "server"),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "anki.syncserver"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("anki.syncserver did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=10)


class Device(Learner):
    def __init__(self, path: Path, url: str):
        super().__init__(path)
        self.auth = self.col.sync_login("learner", "secret", url)

    def first_sync(self, upload: bool) -> int:
        required = self.col.sync_collection(self.auth, False).required
        assert required in FULL  # a new collection always starts with a full sync
        self.col.close_for_full_sync()
        self.col.full_upload_or_download(auth=self.auth, server_usn=None, upload=upload)
        self.col.reopen(after_full_sync=True)
        return required

    def sync(self) -> None:
        required = self.col.sync_collection(self.auth, False).required
        assert required not in FULL, f"a full sync was demanded ({required})"
        self.col.models._clear_cache()


@pytest.fixture
def devices(tmp_path: Path, sync_url: str) -> Iterator[tuple[Device, Device]]:
    desktop = Device(tmp_path / "desktop" / "collection.anki2", sync_url)
    phone = Device(tmp_path / "phone" / "collection.anki2", sync_url)
    yield desktop, phone
    desktop.close()
    phone.close()


def start_learning(project: Project, desktop: Device, phone: Device) -> dict:
    desktop.import_apkg(project.build())
    assert desktop.first_sync(upload=True) == SyncCollectionResponse.FULL_UPLOAD
    assert phone.first_sync(upload=False) == SyncCollectionResponse.FULL_DOWNLOAD
    assert phone.review_all(DECK) == 4
    phone.sync()
    desktop.sync()
    reviewed = phone.card_states()
    assert all(s.reps == 1 and s.revlog == 1 for s in reviewed.values())
    assert desktop.card_states() == reviewed  # the reviews reached the desktop too
    return reviewed


def test_edited_card_reaches_the_phone_by_normal_sync(project: Project, devices) -> None:
    desktop, phone = devices
    reviewed = start_learning(project, desktop, phone)

    project.edit("cards/compression.yaml", "Only structured pruning", "Only structured (channel) pruning")
    log = desktop.import_apkg(project.build())
    assert (log.new, log.updated, log.conflicting) == (0, 1, 0)
    desktop.sync()
    phone.sync()

    assert phone.note(guid("pruning-kinds"))["Extra"] == "Only structured (channel) pruning speeds up dense hardware."
    assert phone.card_states() == reviewed
    assert desktop.card_states() == reviewed


@pytest.mark.parametrize("part", ["css", "template"])
def test_note_type_change_reaches_the_phone_by_normal_sync(project: Project, devices, monkeypatch, part) -> None:
    desktop, phone = devices
    reviewed = start_learning(project, desktop, phone)

    with changed_notetype(monkeypatch, part, "ab-synced"):
        log = desktop.import_apkg(project.build())
    assert (log.new, log.conflicting) == (0, 0)
    desktop.sync()
    phone.sync()

    [nt] = phone.notetypes()
    assert nt["id"] == load_config(project.root).notetypes["basic"].id
    assert "ab-synced" in (nt["css"] if part == "css" else nt["tmpls"][0]["afmt"])
    assert phone.card_states() == reviewed
    assert desktop.card_states() == reviewed

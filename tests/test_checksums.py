"""checksums.sha256_file: a file is read once while it is unchanged, and read again after any write."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from newstables import checksums
from newstables.checksums import sha256_file


def settled(path: Path, data: bytes) -> Path:
    """``data`` written to ``path``, then left alone past the racy window."""
    path.write_bytes(data)
    time.sleep(checksums.RACY_NS / 1e9 + 0.05)
    return path


def refuse_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was read again")

    monkeypatch.setattr(Path, "open", refused)


def test_an_unchanged_file_is_hashed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = settled(tmp_path / "data.bin", b"a" * 5000)
    first = sha256_file(path)
    refuse_reads(monkeypatch)
    assert sha256_file(path) == first == hashlib.sha256(b"a" * 5000).hexdigest()


def test_a_file_rewritten_with_the_same_size_is_hashed_again(tmp_path: Path) -> None:
    path = settled(tmp_path / "data.bin", b"a" * 5000)
    assert sha256_file(path) == hashlib.sha256(b"a" * 5000).hexdigest()
    path.write_bytes(b"b" * 5000)  # at once: same size, within the same second
    assert sha256_file(path) == hashlib.sha256(b"b" * 5000).hexdigest()


def test_a_file_just_written_is_not_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its times may not change on a write within the same clock tick: it is read every time.
    path = tmp_path / "data.bin"
    path.write_bytes(b"c" * 10)
    sha256_file(path)
    refuse_reads(monkeypatch)
    with pytest.raises(AssertionError, match="read again"):
        sha256_file(path)

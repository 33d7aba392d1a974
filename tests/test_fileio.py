import os
import threading

import pytest

from toolkit.errors import LockError
from toolkit.fileio import atomic_write_bytes, atomic_write_text, locked, replaced_file, temporary_beside


def test_atomic_write_makes_the_folder_and_replaces_the_file(tmp_path):
    path = tmp_path / "new" / "out.txt"
    atomic_write_text(path, "一\n")
    atomic_write_text(path, "二\n")
    assert path.read_text(encoding="utf-8") == "二\n"
    assert [p.name for p in path.parent.iterdir()] == ["out.txt"]


def test_a_failed_write_keeps_the_old_file_names_it_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "out.bin"
    atomic_write_bytes(path, b"old")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError) as caught:
        atomic_write_bytes(path, b"new")
    assert caught.value.filename == str(path) and path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_device_is_written_in_place(tmp_path):
    assert temporary_beside(os.devnull) is None
    beside = temporary_beside(tmp_path / "x.txt")
    assert beside.parent == tmp_path and beside.name.startswith(".x.txt.") and beside.is_file()


def test_a_link_to_an_open_stream_is_written_in_place_and_stays_a_link(tmp_path):
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")
    also = tmp_path / "also"
    also.symlink_to(stdout)
    assert replaced_file("/dev/stdout") is None and replaced_file(stdout) is None and replaced_file(also) is None


def test_a_link_to_a_file_replaces_the_file_and_keeps_the_link(tmp_path):
    real = tmp_path / "data" / "labels.jsonl"
    real.parent.mkdir()
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "labels.jsonl"
    link.symlink_to("data/labels.jsonl")
    atomic_write_text(link, "new\n")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new\n"
    assert sorted(p.name for p in real.parent.iterdir()) == ["labels.jsonl"]


def test_the_lock_excludes_a_second_holder_until_released(tmp_path, monkeypatch):
    path = tmp_path / "labels.jsonl"
    monkeypatch.setenv("TOOLKIT_LOCK_TIMEOUT", "0.2")
    with locked(path):
        errors = []
        worker = threading.Thread(target=lambda: errors.append(_try_lock(path)))
        worker.start()
        worker.join()
        assert isinstance(errors[0], LockError) and "another writer" in str(errors[0])
    assert _try_lock(path) is None


def test_a_bad_lock_timeout_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_LOCK_TIMEOUT", "soon")
    with pytest.raises(LockError, match="TOOLKIT_LOCK_TIMEOUT='soon' is not a number"):
        with locked(tmp_path / "x"):
            pass


def _try_lock(path):
    try:
        with locked(path):
            return None
    except LockError as exc:
        return exc


def _add_under_lock(args):
    path, rounds = args
    for _ in range(rounds):
        with locked(path):
            value = int(path.read_text()) if path.exists() else 0
            path.write_text(str(value + 1))
    return rounds


def test_the_lock_file_is_gone_once_released_and_writers_still_exclude_each_other(tmp_path):
    """The holder removes the lock file before letting go; a writer that got the lock of a removed
    file tries again, so four processes adding one at a time lose no increment."""
    import multiprocessing

    path = tmp_path / "counter.txt"
    with locked(path):
        assert (tmp_path / ".counter.txt.lock").exists()
    assert not (tmp_path / ".counter.txt.lock").exists()
    with multiprocessing.get_context("fork").Pool(4) as pool:
        done = sum(pool.map(_add_under_lock, [(path, 50)] * 4))
    assert int(path.read_text()) == done == 200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter.txt"]

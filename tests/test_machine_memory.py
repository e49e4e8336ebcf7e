"""The machine's memory facts: a VM that reports freed memory to its host (virtio balloon, free
page reporting) is recognised from a sysfs tree, and the report words it."""

from fastnn.bench import machine
from fastnn.report import facts


def _device(root, name, device, features):
    d = root / name
    d.mkdir(parents=True)
    (d / "device").write_text(device + "\n")
    (d / "features").write_text(features + "\n")


def test_a_balloon_with_free_page_reporting_is_found(tmp_path):
    _device(tmp_path, "virtio0", "0x0002", "1" * 64)  # a block device: its bits say nothing
    _device(tmp_path, "virtio1", "0x0005", "011001" + "0" * 58)
    assert machine.free_page_reporting(str(tmp_path)) is True


def test_a_balloon_without_it_and_no_balloon_are_false(tmp_path):
    _device(tmp_path / "a", "virtio0", "0x0005", "011000" + "0" * 58)
    _device(tmp_path / "b", "virtio0", "0x0001", "1" * 64)
    assert machine.free_page_reporting(str(tmp_path / "a")) is False
    assert machine.free_page_reporting(str(tmp_path / "b")) is False


def test_no_virtio_and_an_unreadable_device_are_unknown(tmp_path):
    assert machine.free_page_reporting(str(tmp_path / "missing")) is None
    _device(tmp_path, "virtio0", "not hex", "1")
    assert machine.free_page_reporting(str(tmp_path)) is None


def test_the_report_words_it():
    m = {"thp_enabled": "madvise", "free_page_reporting": True}
    assert facts.FREE_PAGES in facts._memory(m)
    assert facts.FREE_PAGES not in facts._memory(dict(m, free_page_reporting=False))

"""A matrix cell: its key as sessions store it, its label as the views print it, typed values."""

from __future__ import annotations

import copy

import pytest

from katatui.core.cell import Cell
from katatui.core.events import RunSpec

FIO = {"rw": "randread", "bs": "4k", "iodepth": 8, "numjobs": 1}


def spec(cell: str, variant: dict[str, object], clients: int = 1) -> RunSpec:
    return RunSpec("r1", 0, cell, "runc", "docker", "runc", "local", "fio", "fio", variant, clients, 0)


def test_key_and_label() -> None:
    cell = Cell("fio", "fio", FIO, 2)
    assert cell.key == "fio[rw=randread,bs=4k,iodepth=8,numjobs=1,clients=2]"
    assert cell.label == "fio randread bs=4k iodepth=8 numjobs=1 clients=2"
    assert cell.variant_text == "rw=randread,bs=4k,iodepth=8,numjobs=1"
    assert cell.variant["iodepth"] == 8


def test_a_variant_without_axes() -> None:
    cell = Cell("boot", "boot", {}, 1)
    assert cell.key == "boot[,clients=1]"
    assert cell.label == "boot clients=1"


def test_a_run_gives_its_cell_typed() -> None:
    cell = spec("fio[rw=randread,bs=4k,iodepth=8,numjobs=1,clients=1]", FIO).matrix_cell
    assert cell == Cell("fio", "fio", FIO, 1)
    assert isinstance(cell.variant["iodepth"], int)
    assert hash(cell) == hash(Cell("fio", "fio", dict(FIO), 1))


def test_a_key_spelled_otherwise_is_kept() -> None:
    cell = spec("fio[rw=read,old=1]", {"rw": "read"}).matrix_cell
    assert cell.key == "fio[rw=read,old=1]"
    assert cell.label == "fio read old=1"
    assert cell.variant == {"rw": "read"}


def test_the_variant_is_read_only_and_shared_by_copies() -> None:
    cell = Cell("fio", "fio", FIO, 1)
    assert copy.deepcopy(cell) is cell
    with pytest.raises(TypeError):
        cell.variant["bs"] = "1m"  # type: ignore[index]
    assert cell.variant["bs"] == "4k"

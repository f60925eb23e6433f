"""Asterisk's own records for the reconciler tests: CEL rows and queue_log lines written by the
real Asterisk 22 for the calls in fixtures/ (asterisk_cel.jsonl, asterisk_queue_log), put back
into files shaped exactly as cel_sqlite3_custom and logger.conf write them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.calls.conftest import FIXTURES

CEL_TABLE = (
    "CREATE TABLE cel (AcctId INTEGER PRIMARY KEY, eventtype,eventtime,cidname,cidnum,cidani,"
    "ciddnid,context,exten,channame,appname,appdata,uniqueid,linkedid,peer,userdeftype,"
    "eventextra)"
)


def cel_rows() -> list[dict[str, str]]:
    lines = (FIXTURES / "asterisk_cel.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def queue_lines() -> list[str]:
    return (FIXTURES / "asterisk_queue_log").read_text(encoding="utf-8").splitlines()


def write_cel(path: Path, rows: list[dict[str, str]]) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(CEL_TABLE.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
        for row in rows:
            names = ",".join(row)
            conn.execute(
                f"INSERT INTO cel ({names}) VALUES ({','.join('?' * len(row))})", list(row.values())
            )


def append_queue_log(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.writelines(line + "\n" for line in lines)


def only(linkedids: set[str]) -> Callable[[dict[str, str]], bool]:
    return lambda row: row["linkedid"] in linkedids

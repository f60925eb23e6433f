"""The report as files: the CSV parses, the PDF renders to pages a person can read."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from reports.document import ReportDocument
from reports.render.csv_export import HEADER, to_csv
from reports.render.pdf_export import to_pdf
from tests.reports.test_monthly import report  # noqa: F401  (the October 2560 fixture)


def test_csv_parses_with_both_labels_and_the_comparison(report: ReportDocument) -> None:  # noqa: F811
    text = to_csv(report).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == HEADER
    body = [dict(zip(HEADER, r, strict=True)) for r in rows[1:]]
    total = next(r for r in body if (r["section"], r["item"]) == ("service", "total"))
    assert (total["value"], total["previous"], total["trend"]) == ("16", "5", "↑")
    assert total["item_th"] == "รวมทั้งสิ้น (ราย)" and total["item_en"] == "Total contacts"
    mm = next(r for r in body if (r["section"], r["item"]) == ("international", "MM"))
    assert mm["item_en"] == "Myanmar" and mm["value"] == "2"


@pytest.mark.parametrize("lang", ["th", "en"])
def test_pdf_renders_to_readable_pages(
    report: ReportDocument, lang: str, tmp_path: Path  # noqa: F811
) -> None:
    for tool in ("pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: scripts/install installs Debian's poppler-utils")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(to_pdf(report, lang, datetime(2017, 11, 1, 9, 0)))  # type: ignore[arg-type]
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 3
    with Image.open(pages[0]) as first:
        assert first.size[0] > 350 and first.size[1] > 500  # A4 portrait
        ink = sum(first.convert("L").histogram()[:128])
        assert ink > 2000  # text and bars, not a blank page
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    if lang == "th":
        assert "ตุลาคม 2560" in text and "กันยายน 2560" in text
    else:
        assert "October 2017" in text and "Myanmar" in text

"""The provincial report (seed report 003, Phrae): one province's contacts over a date range, by
district, intake channel, target group, sex and problem type."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

from outcomes.taxonomy import Choice, Choices, Taxonomy
from reports.counts import NONE, Cube, count_cube
from reports.document import NOT_RECORDED, Label, ReportDocument, Row, Section
from reports.facts import RefreshContactFacts
from reports.facts import ReportContactRow as C
from reports.period import DateRange
from reports.trend import Compared
from storage import Database

COLUMNS = ("district", "channel", "target_group", "sex")


class UnknownProvince(ValueError):
    """The province id is not in the taxonomy; `known` lists the ids that are."""

    def __init__(self, province: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown province {province!r}")
        self.province = province
        self.known = known


class BuildProvincialReport:
    def __init__(
        self, db: Database, taxonomy: Taxonomy, tz: ZoneInfo, refresh: RefreshContactFacts
    ) -> None:
        self.db = db
        self.taxonomy = taxonomy
        self.tz = tz
        self.refresh = refresh

    async def execute(self, province_id: str, period: DateRange) -> ReportDocument:
        province = self._province(province_id)
        await self.refresh.execute()
        contacts, problems = await self._count(province.id, period)
        return self._document(province, period, contacts, problems)

    def _province(self, province_id: str) -> Choice:
        province = self.taxonomy.provinces.get(province_id)
        if province is None:
            raise UnknownProvince(province_id, self.taxonomy.provinces.ids)
        return province

    async def _count(self, province_id: str, period: DateRange) -> tuple[Cube, Cube]:
        start, end = period.utc_bounds(self.tz)
        where = [
            C.received_at >= start, C.received_at < end, C.continues.is_(None),
            C.province == province_id,
        ]
        async with self.db.session() as session:
            contacts = await count_cube(session, COLUMNS, where)
            problems = await count_cube(session, ("problem_type",), where, join_problems=True)
        return contacts, problems

    def _document(
        self, province: Choice, period: DateRange, contacts: Cube, problems: Cube
    ) -> ReportDocument:
        tax = self.taxonomy
        total = Compared(contacts.total())
        sections = (
            Section("summary", Label("สรุป", "Summary"), (
                Row("total", Label("รวม (กรณี)", "Total cases"), total),
                *_rows(contacts.by("sex"), tax.sexes, level=1),
            ), total=total, chart=False),
            Section("districts", Label("จำแนกตามอำเภอ", "By district"),
                    _districts(contacts.by("district")), total=total),
            Section("channels", Label("จำแนกตามช่องทางการขอรับความช่วยเหลือ", "By intake channel"),
                    _rows(contacts.by("channel"), tax.intake_channels), total=total),
            Section("target_groups", Label("จำแนกตามกลุ่มเป้าหมาย", "By target group"),
                    _rows(contacts.by("target_group"), tax.target_groups), total=total),
            Section("sex", Label("จำแนกตามเพศ", "By sex"),
                    _rows(contacts.by("sex"), tax.sexes), total=total),
            Section("problems", Label("จำแนกตามสภาพปัญหา", "By problem type"),
                    _rows(problems.by("problem_type"), tax.problem_types, by_count=True)),
        )
        return ReportDocument(
            kind="provincial",
            title=Label(f"รายงานผลการให้ความช่วยเหลือผู้ประสบปัญหาทางสังคม จังหวัด{province.th}",
                        f"Assistance to people facing social problems: {province.en} province"),
            period=Label(f"ข้อมูลตั้งแต่วันที่ {period.label_th()}", period.label_en()),
            previous_period=None,
            sections=sections,
            facts={"province": province.id, "from": period.start.isoformat(),
                   "to": period.end.isoformat()},
        )


def _rows(
    counts: Counter[str], choices: Choices[Choice], *, level: int = 0, by_count: bool = False
) -> tuple[Row, ...]:
    """Every choice (zeros too, as the seed's tables show them), then "not recorded"."""
    rows = [Row(c.id, Label(c.th, c.en), Compared(counts[c.id]), level=level) for c in choices]
    if by_count:
        rows.sort(key=lambda r: -r.figure.current)
    if counts[NONE]:
        rows.append(Row("not_recorded", NOT_RECORDED, Compared(counts[NONE]), level=level))
    return tuple(rows)


def _districts(counts: Counter[str]) -> tuple[Row, ...]:
    named = sorted((d for d in counts if d != NONE), key=lambda d: (-counts[d], d))
    rows = [Row(f"district.{d}", Label(d, d), Compared(counts[d])) for d in named]
    if counts[NONE]:
        rows.append(Row("not_recorded", NOT_RECORDED, Compared(counts[NONE])))
    return tuple(rows)

"""The Ministry's monthly report (seed report 000, "สถิติการให้บริการศูนย์ช่วยเหลือสังคม"), every
figure beside the previous month's.

Sections follow the seed: service statistics, service area, problem details (Bangkok / provinces),
target groups, counselling and advice, referrals, walk-in, mobile team, international line, and
the outcome record behind them. Categories, problem types, groups, departments and channels take
their ids and labels from the taxonomy (config/taxonomy.toml); only the report's own headings
are written here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

from outcomes.taxonomy import Choice, Choices, Taxonomy
from reports.counts import NONE, Cube, PeriodCounts, count_period
from reports.document import NOT_RECORDED, Label, ReportDocument, Row, Section
from reports.facts import RefreshContactFacts
from reports.labels import country_label
from reports.period import Month
from reports.trend import Compared
from storage import Database

ADVICE_GROUP: Final = "advice"
COUNSELLED_GROUPS: Final = frozenset({"advice", "referral", "field"})
HOMELESS_PROBLEMS: Final = frozenset({"homelessness", "begging"})
# A stub's callback status after an attempt that did not reach the caller (the callback placer's
# attempt results, and its final "unanswered"): the seed's "ติดต่อกลับไม่มีผู้รับสาย".
NOT_REACHED: Final = frozenset({"no_answer", "busy", "failed", "unanswered"})
CALLBACK_NOT_ANSWERED: Final = "callback_not_answered"  # taxonomy category id
AREAS: Final = (
    ("bangkok", Label("กทม.", "Bangkok")),
    ("provinces", Label("ตจว.", "Provinces")),
)


@dataclass(frozen=True)
class Pair:
    """The same counts for this month and the previous one."""

    current: PeriodCounts
    previous: PeriodCounts

    def compare(self, pick: Callable[[PeriodCounts], int]) -> Compared:
        return Compared(pick(self.current), pick(self.previous))

    def count(
        self, cube: str, columns: str | tuple[str, ...], key: Any,
        where: dict[str, Any] | None = None,
    ) -> Compared:
        """Both months' count of `key` in `cube` grouped by `columns`."""
        names = (columns,) if isinstance(columns, str) else columns
        return self.compare(lambda c: _cube(c, cube).by(*names, where=where)[key])

    def total(self, cube: str, where: dict[str, Any] | None = None) -> Compared:
        return self.compare(lambda c: _cube(c, cube).total(where))


def _cube(counts: PeriodCounts, name: str) -> Cube:
    cube: Cube = getattr(counts, name)
    return cube


class BuildMonthlyReport:
    """Refresh the contact facts, count both months, lay out the seed report's sections."""

    def __init__(
        self, db: Database, taxonomy: Taxonomy, tz: ZoneInfo, refresh: RefreshContactFacts
    ) -> None:
        self.db = db
        self.taxonomy = taxonomy
        self.tz = tz
        self.refresh = refresh

    async def execute(self, month: Month) -> ReportDocument:
        await self.refresh.execute()
        counts = Pair(await self._count(month), await self._count(month.previous()))
        return self._document(month, counts)

    async def _count(self, month: Month) -> PeriodCounts:
        start, end = month.as_range().utc_bounds(self.tz)
        async with self.db.session() as session:
            return await count_period(session, start, end)

    def _document(self, month: Month, counts: Pair) -> ReportDocument:
        sections = _Sections(self.taxonomy, counts, month)
        previous = month.previous()
        return ReportDocument(
            kind="monthly",
            title=Label("สถิติการให้บริการศูนย์ช่วยเหลือสังคม สายด่วน 1300",
                        "Social Assistance Center hotline 1300: service statistics"),
            period=Label(f"ประจำเดือน{month.label_th()}", month.label_en()),
            previous_period=Label(previous.label_th(), previous.label_en()),
            sections=sections.all(),
            facts={"month": month.iso(), "previous_month": previous.iso(), "days": month.days},
        )


class _Sections:
    def __init__(self, taxonomy: Taxonomy, counts: Pair, month: Month) -> None:
        self.tax = taxonomy
        self.counts = counts
        self.month = month
        self.test_categories = frozenset(c.id for c in taxonomy.categories if c.is_test)

    def all(self) -> tuple[Section, ...]:
        return (
            self.service(), self.area(), self.problems(), self.target_groups(), self.advice(),
            self.referrals(), self.walk_in(), self.mobile_team(), self.international(),
            self.international_results(), self.outcomes(),
        )

    # ---- sections, in the seed report's order

    def service(self) -> Section:
        total = self.counts.total("contacts")
        per_day = Compared(
            round(total.current / self.month.days),
            round((total.previous or 0) / self.month.previous().days),
        )
        channels = self._choices("channel", self.tax.intake_channels)
        return Section("service", Label("สถิติการให้บริการ", "Service statistics"), (
            Row("total", Label("รวมทั้งสิ้น (ราย)", "Total contacts"), total),
            Row("per_day", Label("เฉลี่ยต่อวัน (ราย/วัน)", "Average per day"), per_day),
            *channels,
        ), total=total)

    def area(self) -> Section:
        rows = [
            Row(key, label, self.counts.count("contacts", "area", key)) for key, label in AREAS
        ]
        rows.append(Row("not_recorded", NOT_RECORDED, self.counts.count("contacts", "area", NONE)))
        return Section("area", Label("พื้นที่ให้บริการ", "Service area"), tuple(rows))

    def problems(self) -> Section:
        rows = []
        for problem in self.tax.problem_types:
            parts = tuple(
                Row(key, label, self.counts.count("problems", ("problem_type", "area"),
                                                  (problem.id, key)))
                for key, label in AREAS
            )
            figure = self.counts.count("problems", "problem_type", problem.id)
            rows.append(Row(problem.id, _label(problem), figure, parts=parts))
        rows.append(Row("field_visit", Label("ลงพื้นที่ให้การช่วยเหลือ (กรณี)", "Field visits"),
                        self._category("field_visit")))
        return Section("problems", Label("รายละเอียดปัญหา", "Problem types"), tuple(rows))

    def target_groups(self) -> Section:
        rows = self._choices("target_group", self.tax.target_groups)
        return Section("target_groups", Label("กลุ่มเป้าหมาย", "Target groups"), tuple(rows))

    def advice(self) -> Section:
        rows: list[Row] = []
        for category in self.tax.categories:
            if category.group != ADVICE_GROUP:
                continue
            rows.append(Row(category.id, _label(category), self._category(category.id)))
            for subtype in category.subtypes or ():
                figure = self.counts.count(
                    "contacts", ("category", "subtype"), (category.id, subtype.id)
                )
                rows.append(Row(f"{category.id}.{subtype.id}", _label(subtype), figure, level=1))
        advice = {c.id for c in self.tax.categories if c.group == ADVICE_GROUP}
        total = self.counts.total("contacts", {"category": advice})
        return Section("advice", Label("ให้คำปรึกษาแนะนำ", "Counselling and advice"),
                       tuple(rows), total=total)

    def referrals(self) -> Section:
        where = {"category": "referral"}
        total = self._category("referral")
        urgencies = tuple(
            Row(u.id, _label(u), self.counts.count("contacts", "referral_urgency", u.id, where))
            for u in self.tax.referral_urgency
        )
        rows = [Row("total", Label("รวมประสานส่งต่อ", "All referrals"), total, parts=urgencies)]
        rows.extend(self._referral_kind(kind) for kind in self.tax.destination_kinds)
        rows.append(Row("homeless_beggar", Label(
            "ตามรายงานการรับแจ้งคนไร้ที่พึ่ง/คนขอทาน", "From reports of homeless people or beggars"
        ), self.counts.compare(_homeless_referrals)))
        return Section("referrals", Label("ประสานส่งต่อ", "Referrals"), tuple(rows), total=total)

    def _referral_kind(self, kind: Choice) -> Row:
        where = {"category": "referral", "referral_kind": kind.id}
        parts = tuple(
            Row(u.id, _label(u), self.counts.count("contacts", "referral_urgency", u.id, where))
            for u in self.tax.referral_urgency
        )
        row = Row(f"to.{kind.id}", _label(kind), self.counts.total("contacts", where), parts=parts)
        if kind.id != "department":
            return row
        departments = tuple(
            Row(d.id, Label(str(d.extra.get("abbr") or d.th), d.en),
                self.counts.count("contacts", "referral_destination", d.id, where))
            for d in self.tax.departments
        )
        return Row(row.key, row.label, row.figure, parts=row.parts + departments)

    def walk_in(self) -> Section:
        where = {"channel": "walk_in"}
        total = self.counts.total("contacts", where)
        rows = [
            Row(cat.id, _label(cat), self.counts.count("contacts", "category", cat.id, where))
            for cat in self.tax.categories
        ]
        rows.append(Row("not_recorded", NOT_RECORDED,
                        self.counts.count("contacts", "category", NONE, where)))
        return Section("walk_in", Label("Walk in (มาด้วยตนเอง)", "Walk-in"), tuple(rows),
                       total=total)

    def mobile_team(self) -> Section:
        rows = self._choices("mobile_team_result", self.tax.mobile_team_results, unrecorded=False)
        total = self.counts.compare(_mobile_team_total)
        return Section("mobile_team", Label("หน่วยเคลื่อนที่เร็ว", "Mobile team"), tuple(rows),
                       total=total)

    def international(self) -> Section:
        by_country = [c.international.by("country") for c in (self.counts.current,
                                                               self.counts.previous)]
        countries = sorted(set(by_country[0]) | set(by_country[1]),
                           key=lambda k: (-by_country[0][k], k))
        rows = tuple(
            Row(code or "unknown", country_label(code),
                self.counts.count("international", "country", code))
            for code in countries
        )
        return Section("international", Label("สายต่างประเทศ +66 99 130 1300 ตามประเทศผู้โทร",
                                              "International line +66 99 130 1300 by country"),
                       rows, total=self.counts.total("international"))

    def international_results(self) -> Section:
        current = self._international_results(self.counts.current)
        previous = self._international_results(self.counts.previous)
        rows = tuple(
            Row(result, label, Compared(current[result], previous[result]))
            for result, label in _INTERNATIONAL_RESULTS
        )
        return Section("international_results",
                       Label("สายต่างประเทศ ตามผลการให้บริการ", "International line by result"),
                       rows, total=self.counts.total("international"))

    def outcomes(self) -> Section:
        rows = self._choices("category", self.tax.categories)
        dispositions = self.counts.current.contacts.by("disposition").keys() | \
            self.counts.previous.contacts.by("disposition").keys()
        for disposition in sorted(dispositions):
            rows.append(Row(f"disposition.{disposition}", _DISPOSITIONS.get(
                disposition, Label(disposition, disposition)
            ), self.counts.count("contacts", "disposition", disposition)))
        return Section("outcomes", Label("ผลการบันทึกการให้บริการ", "Outcomes recorded"),
                       tuple(rows), chart=False)

    # ---- helpers

    def _international_results(self, counts: PeriodCounts) -> Counter[str]:
        results: Counter[str] = Counter()
        for key, n in counts.international.counts.items():
            results[self._international_result(dict(zip(counts.international.columns, key,
                                                        strict=True)))] += n
        return results

    def _international_result(self, fact: dict[str, Any]) -> str:
        category = self.tax.categories.get(fact["category"]) if fact["category"] else None
        if fact["test"] or fact["category"] in self.test_categories:
            return "test_call"
        if fact["category"] == CALLBACK_NOT_ANSWERED or (
            category is None and fact["callback_status"] in NOT_REACHED
        ):
            return "callback_not_answered"
        if category is not None and category.group in COUNSELLED_GROUPS:
            return "counselled"
        return "other" if category is not None else "no_outcome"

    def _category(self, category_id: str) -> Compared:
        return self.counts.count("contacts", "category", category_id)

    def _choices(
        self, column: str, choices: Choices[Any], *, unrecorded: bool = True
    ) -> list[Row]:
        rows = [
            Row(choice.id, _label(choice), self.counts.count("contacts", column, choice.id))
            for choice in choices
        ]
        if unrecorded:
            rows.append(Row("not_recorded", NOT_RECORDED,
                            self.counts.count("contacts", column, NONE)))
        return rows


def _homeless_referrals(counts: PeriodCounts) -> int:
    by_problem = counts.problems.by("problem_type", "category")
    return sum(
        n for (p, cat), n in by_problem.items() if cat == "referral" and p in HOMELESS_PROBLEMS
    )


def _mobile_team_total(counts: PeriodCounts) -> int:
    return sum(n for r, n in counts.contacts.by("mobile_team_result").items() if r != NONE)


def _label(choice: Choice) -> Label:
    return Label(choice.th, choice.en)


_INTERNATIONAL_RESULTS: Final[Iterable[tuple[str, Label]]] = (
    ("callback_not_answered", Label("ติดต่อกลับไม่มีผู้รับสาย", "Callback not answered")),
    ("test_call", Label("โทรเพื่อทดสอบระบบ", "Test call")),
    ("counselled", Label("ให้คำปรึกษาแนะนำ", "Counselled")),
    ("other", Label("อื่น ๆ (โทรเงียบ/ก่อกวน)", "Other (silent or prank)")),
    ("no_outcome", Label("ไม่ได้บันทึกผล (วางสายก่อน/ไม่มีผู้รับ)",
                         "No outcome (abandoned or unanswered)")),
)
_DISPOSITIONS: Final = {
    "answered": Label("รับสายแล้ว", "Answered"),
    "abandoned": Label("ผู้โทรวางสายก่อน", "Abandoned by the caller"),
    "callback_requested": Label("ขอให้โทรกลับ", "Callback requested"),
    "no_agent": Label("ไม่มีเจ้าหน้าที่รับสาย", "No agent available"),
    "voicemail": Label("ฝากข้อความ", "Voicemail"),
    "in_queue": Label("ยังรอสาย", "Still waiting"),
    "not_reached": Label("โทรกลับไม่ติด", "Callback not reached"),
}

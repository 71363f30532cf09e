"""What a report covers: a range of whole local days, a platform filter, and the previous period.

The reports' filter is a GET form (links are shareable and the back button works), so it is read
like the orders list's filters: anything unreadable is replaced by a sensible value and a note
says so on the page, never an error.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..models import DeliveryPlatform

MAX_DAYS = 366
DEFAULT_DAYS = 30
# preset -> (label, days ending today)
PRESETS = {
    "today": (_l("Today"), 1),
    "7d": (_l("Last 7 days"), 7),
    "30d": (_l("Last 30 days"), 30),
    "90d": (_l("Last 90 days"), 90),
    "365d": (_l("Last 12 months"), 365),
}
_NUMERALS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


@dataclass
class ReportRange:
    """Whole local days `start`…`end` (inclusive), the platforms shown (empty: all), and notes for the page."""

    start: date
    end: date
    today: date
    platform: str = ""
    preset: str = ""
    notes: list = field(default_factory=list)

    @property
    def days(self):
        return (self.end - self.start).days + 1

    @property
    def previous_start(self):
        """The previous period: as many days, right before this one."""
        return self.start - timedelta(days=self.days)

    @property
    def previous_end(self):
        return self.start - timedelta(days=1)

    @property
    def platforms(self):
        return [DeliveryPlatform(self.platform)] if self.platform else []

    def dates(self):
        """Every day of the range, in order."""
        return [self.start + timedelta(days=offset) for offset in range(self.days)]

    def args(self, **extra):
        """The range as query-string arguments (for links to other reports, exports, the printable report)."""
        args = {"from": self.start.isoformat(), "to": self.end.isoformat(), "platform": self.platform}
        args.update(extra)
        return {key: value for key, value in args.items() if value}


def _parse_day(raw):
    day = datetime.strptime(raw.translate(_NUMERALS).strip(), "%Y-%m-%d").date()
    if not 2000 <= day.year <= 2100:
        raise ValueError(raw)
    return day


def parse_range(args, today):
    """The range a request asked for (`from`, `to`, `preset`, `platform`), relative to the company's today."""
    default_start = today - timedelta(days=DEFAULT_DAYS - 1)
    report = ReportRange(start=default_start, end=today, today=today)
    platform = (args.get("platform") or "").strip().upper()
    if platform in DeliveryPlatform.__members__:
        report.platform = platform
    elif platform and platform != "ALL":
        report.notes.append(_("There is no platform called “%(value)s”, so every platform is shown.",
                              value=platform[:30]))

    preset = args.get("preset") or ""
    if preset in PRESETS and not (args.get("from") or args.get("to")):
        report.preset = preset
        report.start = today - timedelta(days=PRESETS[preset][1] - 1)
        return report

    parsed = {}
    for name, label in (("from", _("From")), ("to", _("To"))):
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        try:
            parsed[name] = _parse_day(raw)
        except ValueError:
            report.notes.append(_("“%(label)s” is not a date (%(value)s), so it was ignored.",
                                  label=label, value=raw[:20]))
    start, end = parsed.get("from"), parsed.get("to")
    if start and end and start > end:
        start, end = end, start
        report.notes.append(_("The dates were the wrong way round, so they were swapped."))
    if end is None:
        end = today if start is None or start <= today else start
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if end > today:
        end = max(today, start) if start <= today else today
        if start > today:
            start = today
            report.notes.append(_("The range was in the future; it now shows today."))
        else:
            report.notes.append(_("The range ended in the future; it now ends today."))
    if (end - start).days + 1 > MAX_DAYS:
        start = end - timedelta(days=MAX_DAYS - 1)
        report.notes.append(_("Reports cover at most %(days)s days, so the range now starts on %(start)s.",
                              days=MAX_DAYS, start=start.isoformat()))
    report.start, report.end = start, end
    for key, (_label, days) in PRESETS.items():
        if end == today and report.days == days:
            report.preset = key
    return report

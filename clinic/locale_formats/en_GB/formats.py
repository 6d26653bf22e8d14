"""How the clinic writes dates and times: one style in a few lengths.

Day first, no leading zero on the day, the month in words, the year in full, a 24-hour clock
("Thursday 3 December 2026", "3 Dec 2026, 09:00"). Django reads this module through
``FORMAT_MODULE_PATH`` for the clinic's language (en-gb); templates name the formats
(``{{ day|date:"LONG_DATE_FORMAT" }}``) and Python goes through :mod:`clinic.formats`.

Machine formats (ISO dates in the API, CSV and URLs, .ics stamps, ``<input type=date>``
values) are not presentation and stay out of here. Input formats are Django's en-GB ones.
"""

# Thursday 3 December 2026: a day in a sentence, a heading, an email.
LONG_DATE_FORMAT = "l j F Y"
# 3 December 2026
DATE_FORMAT = "j F Y"
# 3 Dec 2026: tables and lists.
SHORT_DATE_FORMAT = "j M Y"
# 3 Dec: the first day of a range whose last day carries the year.
MONTH_DAY_FORMAT = "j M"
# Thursday 3 December: a day in a label on a page that shows the year.
LONG_MONTH_DAY_FORMAT = "l j F"
# Thu 3 Dec: calendar columns and day links.
DAY_HEADING_FORMAT = "D j M"
# 09:00
TIME_FORMAT = "H:i"
# Thursday 3 December 2026 at 09:00: an appointment in a sentence or an email.
LONG_DATETIME_FORMAT = r"l j F Y \a\t H:i"
# 3 December 2026, 09:00
DATETIME_FORMAT = "j F Y, H:i"
# 3 Dec 2026, 09:00: tables and lists.
SHORT_DATETIME_FORMAT = "j M Y, H:i"
# 3 Dec 2026, 09:00:05: the audit log, where the second matters.
LOG_DATETIME_FORMAT = "j M Y, H:i:s"

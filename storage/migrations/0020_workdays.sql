-- The working-day calendar (民政部令第67号 Art. 11: records within 10 working days). Only the
-- exceptions are stored: official holidays (off although a weekday may fall in them) and make-up
-- workdays (调休: on although a weekend). Every other day is a workday from Monday to Friday.
--   day:    the local date, 'YYYY-MM-DD' (string order is date order);
--   source: 'package' rows are seeded at start-up from the maintained source (the
--           chinesecalendar package) for every year it covers; 'admin' rows were typed by an
--           administrator and always win: seeding never touches them;
--   name:   the holiday's name (春节, 国庆节 …), empty when none was given.
-- A year with no row at all is a year nobody has entered yet (administrators are warned).
CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY CHECK (length(day) = 10),
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL CHECK (source IN ('package', 'admin')),
    updated_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    updated_at TEXT NOT NULL
);

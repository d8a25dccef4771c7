-- Placeholder (branch wt-requests): keeps the numbering without gaps until the real 0021 lands
-- on main. The lead deletes this file when merging; it changes nothing.
SELECT 1;

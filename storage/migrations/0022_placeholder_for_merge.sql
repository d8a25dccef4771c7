-- Placeholder (branch wt-requests): keeps the numbering without gaps until the real 0022 lands
-- on main. The lead deletes this file when merging; it changes nothing.
SELECT 1;

-- Nothing to change on PostgreSQL. The SQLite migration of the same name gives contacts
-- and organizations integer keys so that its import B-trees stay small; PostgreSQL keeps
-- its text-keyed tables and its own import path (see that file).
SELECT 1;

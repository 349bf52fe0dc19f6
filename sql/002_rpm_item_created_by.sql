-- Who created an item: the JWT subject when svc-cgi adds it, or the
-- --created-by of rpm-week add.
ALTER TABLE rpm_items ADD COLUMN created_by text;

-- While an adapter's latest report says Available=Unknown, the reference conditions use the
-- adapter's last report whose Available was True or False, kept here.
ALTER TABLE adapter_statuses ADD COLUMN last_known jsonb NULL;

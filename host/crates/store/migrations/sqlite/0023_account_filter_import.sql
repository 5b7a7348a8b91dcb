-- Whether a mailbox's filters from its old system were brought over (the
-- "Import / Skip" step when a mailbox is connected): 'pending' for a new
-- account until a filter file is imported for it or the step is skipped.
-- Accounts from before this step existed are 'skipped'.
-- Keep in step with ../postgres/0023_account_filter_import.sql.
ALTER TABLE mail_accounts ADD COLUMN filter_import TEXT NOT NULL DEFAULT 'skipped';

-- Whether a mailbox's filters were brought over; see
-- ../sqlite/0023_account_filter_import.sql. Keep in step with it.
ALTER TABLE mail_accounts ADD COLUMN filter_import TEXT NOT NULL DEFAULT 'skipped';

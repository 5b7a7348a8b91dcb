-- Plugin config values an admin stores as secrets (API keys, tokens a
-- plugin uses): one sealed JSON object per plugin, encrypted with the same
-- key and layout as account credentials and bound to the org and plugin, so
-- a copy of the database reveals none of them. NULL when there are none.
-- Keep in step with ../postgres/0013_plugin_secret_config.sql.
ALTER TABLE plugins ADD COLUMN secret_config BLOB;

-- A plugin's shadow version: installed beside the running one, called on
-- live traffic with its output compared and never applied, until an admin
-- promotes or discards it. NULL: none.
-- ../sqlite/0024_plugin_shadow.sql. Keep in step with it.
ALTER TABLE plugins ADD COLUMN shadow_seq BIGINT;

-- The hosts an admin let a plugin reach over HTTPS, with the grant's CA
-- and caps (JSON, plugin-host's OutboundGrant). NULL: no outbound HTTP.
-- Keep in step with ../postgres/0025_plugin_outbound_http.sql.
ALTER TABLE plugins ADD COLUMN outbound_http TEXT;

-- Up Migration

-- Every change to what a request's principal is read from notifies `<schema>.identity`, whoever
-- makes it (the API, `thodare admin`, a rebuild's merge, SQL by hand): each API process LISTENs
-- and forgets the sessions and API keys it keeps in memory (src/auth/identity-notifications.ts).
-- Row triggers with conditions, so that the writes made on every few requests do not notify: a
-- session's sliding renewal (it only moves `expires_at` later) and a key's `last_used_at`.
-- Notifications with the same channel and payload in one transaction arrive once, at commit.
CREATE FUNCTION identity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_TABLE_SCHEMA || '.identity', '');
  RETURN NULL;
END $$;

-- A sign-in deletes the user's expired sessions: those were never served past their expiry.
CREATE TRIGGER sessions_identity_deleted AFTER DELETE ON sessions
  FOR EACH ROW WHEN (OLD.expires_at > now()) EXECUTE FUNCTION identity_changed();
CREATE TRIGGER sessions_identity_updated AFTER UPDATE ON sessions
  FOR EACH ROW WHEN (NEW.expires_at < OLD.expires_at OR NEW.active_organization_id IS DISTINCT FROM OLD.active_organization_id
    OR NEW.user_id <> OLD.user_id OR NEW.token_hash <> OLD.token_hash) EXECUTE FUNCTION identity_changed();
CREATE TRIGGER memberships_identity AFTER INSERT OR UPDATE OR DELETE ON memberships
  FOR EACH ROW EXECUTE FUNCTION identity_changed();
CREATE TRIGGER api_keys_identity AFTER UPDATE OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION identity_changed();
CREATE TRIGGER api_key_credentials_identity_deleted AFTER DELETE ON api_key_credentials
  FOR EACH ROW EXECUTE FUNCTION identity_changed();
CREATE TRIGGER api_key_credentials_identity_updated AFTER UPDATE ON api_key_credentials
  FOR EACH ROW WHEN (NEW.key_hash <> OLD.key_hash OR NEW.api_key_id <> OLD.api_key_id OR NEW.organization_id <> OLD.organization_id)
  EXECUTE FUNCTION identity_changed();

-- Down Migration
DROP TRIGGER api_key_credentials_identity_updated ON api_key_credentials;
DROP TRIGGER api_key_credentials_identity_deleted ON api_key_credentials;
DROP TRIGGER api_keys_identity ON api_keys;
DROP TRIGGER memberships_identity ON memberships;
DROP TRIGGER sessions_identity_updated ON sessions;
DROP TRIGGER sessions_identity_deleted ON sessions;
DROP FUNCTION identity_changed();

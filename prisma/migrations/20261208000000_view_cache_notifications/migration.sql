-- The settings pages keep the rows they show in memory (lib/db/view-cache.ts). These triggers tell every app process
-- which of those rows a change made stale, from inside the changing transaction: Postgres delivers the NOTIFY when
-- the transaction commits (and never if it rolls back), so a cached row is dropped as its change becomes visible.
-- Payloads: "membership:<user id>", "membership:*", "connection:<organisation id>", "connection:*".

CREATE FUNCTION "gitar_view_cache_notify"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'memberships' THEN
    IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('gitar_view_cache', 'membership:' || OLD.user_id); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('gitar_view_cache', 'membership:' || NEW.user_id); END IF;
  ELSIF TG_TABLE_NAME = 'buildkite_connections' THEN
    IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('gitar_view_cache', 'connection:' || OLD.organization_id); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('gitar_view_cache', 'connection:' || NEW.organization_id); END IF;
  ELSIF TG_TABLE_NAME = 'users' THEN
    -- A person's name and email show in the header and, as who connected or rotated, on any organisation's card.
    PERFORM pg_notify('gitar_view_cache', 'membership:' || NEW.id);
    PERFORM pg_notify('gitar_view_cache', 'connection:*');
  ELSIF TG_TABLE_NAME = 'organizations' THEN
    PERFORM pg_notify('gitar_view_cache', 'membership:*');
  ELSIF TG_TABLE_NAME = 'api_keys' THEN
    -- A key's name shows on its organisation's card when the key connected or rotated the token.
    PERFORM pg_notify('gitar_view_cache', 'connection:' || NEW.organization_id);
  END IF;
  RETURN NULL;
END
$$;

-- Deleting a user, an organisation or an API key changes these tables too (cascades and SET NULL), which notify.
CREATE TRIGGER "memberships_view_cache" AFTER INSERT OR UPDATE OR DELETE ON "memberships"
  FOR EACH ROW EXECUTE FUNCTION "gitar_view_cache_notify"();
CREATE TRIGGER "buildkite_connections_view_cache" AFTER INSERT OR UPDATE OR DELETE ON "buildkite_connections"
  FOR EACH ROW EXECUTE FUNCTION "gitar_view_cache_notify"();
CREATE TRIGGER "users_view_cache" AFTER UPDATE ON "users"
  FOR EACH ROW WHEN (OLD."name" IS DISTINCT FROM NEW."name" OR OLD."email" IS DISTINCT FROM NEW."email")
  EXECUTE FUNCTION "gitar_view_cache_notify"();
CREATE TRIGGER "organizations_view_cache" AFTER UPDATE ON "organizations"
  FOR EACH ROW WHEN (OLD."name" IS DISTINCT FROM NEW."name")
  EXECUTE FUNCTION "gitar_view_cache_notify"();
CREATE TRIGGER "api_keys_view_cache" AFTER UPDATE ON "api_keys"
  FOR EACH ROW WHEN (OLD."name" IS DISTINCT FROM NEW."name")
  EXECUTE FUNCTION "gitar_view_cache_notify"();

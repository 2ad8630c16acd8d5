package postgres_test

import (
	"fmt"

	"github.com/livebind/livebind/sources/postgres"
)

// The trigger a settings table needs so that livebind hears of its
// changes: print it, review it, and run it once (in a migration) as the
// table's owner.
func ExampleTriggerSQL() {
	fmt.Print(postgres.TriggerSQL("settings", "key", "livebind_settings"))
	// Output:
	// CREATE OR REPLACE FUNCTION "livebind_notify_settings"() RETURNS trigger LANGUAGE plpgsql AS $livebind$
	// BEGIN
	//   IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD."key" IS DISTINCT FROM NEW."key") THEN
	//     PERFORM pg_notify(E'livebind_settings', CASE WHEN octet_length(OLD."key"::text) < 8000 THEN OLD."key"::text ELSE '' END);
	//   END IF;
	//   IF TG_OP IN ('INSERT', 'UPDATE') THEN
	//     PERFORM pg_notify(E'livebind_settings', CASE WHEN octet_length(NEW."key"::text) < 8000 THEN NEW."key"::text ELSE '' END);
	//   END IF;
	//   RETURN NULL;
	// END
	// $livebind$;
	// DROP TRIGGER IF EXISTS livebind_notify ON "settings";
	// CREATE TRIGGER livebind_notify AFTER INSERT OR UPDATE OR DELETE ON "settings"
	//   FOR EACH ROW EXECUTE FUNCTION "livebind_notify_settings"();
}

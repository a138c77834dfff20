// The PostgreSQL schema as an ordered list of migrations, applied at open under an advisory lock
// so that processes starting together migrate once.
#pragma once

#include "engine/store/detail/pg_connection.h"

namespace flowpilot::engine::store_detail {

// Brings the database (the connection's search path) up to the newest migration, each migration
// in its own transaction. Throws StoreError when the database is newer than this binary or a
// migration fails.
void migrate_postgres(PgConnection& conn);

// The schema version this binary migrates a PostgreSQL store to.
int postgres_schema_version();

}  // namespace flowpilot::engine::store_detail

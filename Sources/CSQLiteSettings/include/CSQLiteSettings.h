#ifndef CSQLITESETTINGS_H
#define CSQLITESETTINGS_H

struct sqlite3;

/// Turns on SQLite's query planner stability guarantee for `db` (SQLITE_DBCONFIG_ENABLE_QPSG):
/// a prepared statement then keeps its plan whatever values are bound, instead of being
/// compiled again when a bound value changes. Returns SQLite's status code.
/// `sqlite3_db_config` is variadic, which Swift cannot call; hence this C function.
int crm_sqlite3_enable_qpsg(struct sqlite3 *db);

#endif

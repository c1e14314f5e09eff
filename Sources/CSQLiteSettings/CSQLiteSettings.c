#include "CSQLiteSettings.h"

// SQLiteNIO's copy of SQLite, whose functions carry a `sqlite_nio_` prefix. It is linked
// into the same executable; its header is not visible to other packages' C targets, so
// the declaration and the constant (sqlite3.h: SQLITE_DBCONFIG_ENABLE_QPSG) are repeated.
extern int sqlite_nio_sqlite3_db_config(struct sqlite3 *db, int op, ...);
#define CRM_SQLITE_DBCONFIG_ENABLE_QPSG 1007

int crm_sqlite3_enable_qpsg(struct sqlite3 *db) {
    int enabled = 0;
    return sqlite_nio_sqlite3_db_config(db, CRM_SQLITE_DBCONFIG_ENABLE_QPSG, 1, &enabled);
}

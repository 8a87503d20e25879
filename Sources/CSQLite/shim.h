#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast macro Swift cannot import: SQLite copies the bound value.
static inline void (*steward_sqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }

/// SQLITE_STATIC, for the same reason: SQLite uses the bound value where it lies.
static inline void (*steward_sqlite_static(void))(void *) { return SQLITE_STATIC; }

/// Turns off SQLite's memory statistics, which take a global mutex on every allocation. Must be
/// called before the first connection opens; afterwards it returns SQLITE_MISUSE and changes nothing.
static inline int steward_sqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

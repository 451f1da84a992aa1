#include "storage/sqlite/sqlite_error.hpp"

#include <sqlite3.h>

#include <string>

namespace facefuse::storage {

Error sqlite_store_error(int rc, sqlite3* db, const std::filesystem::path& path,
                         std::string_view what) {
    const int primary = rc & 0xff;
    const bool transient = primary == SQLITE_FULL || primary == SQLITE_IOERR ||
                           primary == SQLITE_BUSY || primary == SQLITE_LOCKED ||
                           primary == SQLITE_NOMEM || primary == SQLITE_CANTOPEN;
    const char* reason = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const bool locked = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
    return make_error(
        transient ? ErrorCode::kUnavailable : ErrorCode::kInternal,
        "blob store " + path.string() + ": cannot " + std::string(what) + ": " + reason +
            (locked ? ". Another process holds the file: is a second facefuse serve using the same "
                      "--data-dir? Stop it or use another directory."
                    : ". Check that the data directory is writable and the disk has space."));
}

}  // namespace facefuse::storage

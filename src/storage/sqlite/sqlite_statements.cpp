#include "storage/sqlite/sqlite_statements.hpp"

#include <sqlite3.h>

#include "storage/sqlite/sqlite_error.hpp"
#include "storage/sqlite/sqlite_vfs.hpp"

namespace facefuse::storage {

Result<std::unique_ptr<StatementConn>> StatementConn::open(const std::filesystem::path& file,
                                                           const char* setup, const char* schema,
                                                           std::span<const char* const> sql) {
    auto conn = std::make_unique<StatementConn>(Token{});
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (int rc = sqlite3_open_v2(file.c_str(), &conn->db_, flags, kSqliteVfs); rc != SQLITE_OK)
        return sqlite_store_error(rc, conn->db_, file, "open it");
    sqlite3_extended_result_codes(conn->db_, 1);
    sqlite3_busy_timeout(conn->db_, 5000);
    if (int rc = sqlite3_exec(conn->db_, setup, nullptr, nullptr, nullptr); rc != SQLITE_OK)
        return sqlite_store_error(rc, conn->db_, file, "configure it");
    if (schema != nullptr) {
        if (int rc = sqlite3_exec(conn->db_, schema, nullptr, nullptr, nullptr); rc != SQLITE_OK)
            return sqlite_store_error(rc, conn->db_, file, "create its tables");
    }
    for (const char* text : sql) {
        sqlite3_stmt* stmt = nullptr;
        const int rc =
            sqlite3_prepare_v3(conn->db_, text, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (rc != SQLITE_OK)
            return sqlite_store_error(rc, conn->db_, file, "prepare its statements");
        conn->statements_.push_back(stmt);
    }
    return conn;
}

StatementConn::~StatementConn() {
    for (sqlite3_stmt* s : statements_) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
}

StatementConn::Borrowed::~Borrowed() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

int StatementConn::run(std::size_t which) {
    Borrowed borrowed = borrow(which);
    return sqlite3_step(borrowed.stmt);
}

bool valid_blob_key(const std::string& key) {
    return !key.empty() && key.find('\0') == std::string::npos;
}

Error invalid_blob_key(const std::string& key) {
    return make_error(ErrorCode::kInternal,
                      "blob store: invalid key \"" + key +
                          "\"; keys are non-empty strings built with blob_key().");
}

}  // namespace facefuse::storage

// The RAII wrapper of sqlite_db.hpp: statements, the connection's statement cache, error mapping
// and the in-process wake-up of waiting lease() calls.
#include "tasks/sqlite/sqlite_db.hpp"

#include <utility>

namespace facefuse::tasks {

Error sqlite_error(int rc, sqlite3* db, const std::string& path, std::string_view what) {
    const std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const std::string doing = "could not " + std::string(what) + ": the task database " + path;
    switch (rc & 0xff) {  // the primary code of an extended one
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return make_error(ErrorCode::kUnavailable,
                              doing +
                                  " stayed locked by another connection past the busy "
                                  "timeout (" +
                                  detail +
                                  "); retry later. If another process holds it -- a second "
                                  "facefuse serve on the same --data-dir -- stop that one or use "
                                  "another directory");
        case SQLITE_IOERR:
        case SQLITE_FULL:
        case SQLITE_CANTOPEN:
        case SQLITE_PROTOCOL:
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_NOMEM:
            return make_error(
                ErrorCode::kUnavailable,
                doing + " cannot be read or written (" + detail +
                    "); check that its folder exists, is writable and has free space");
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return make_error(ErrorCode::kUnavailable,
                              doing + " is damaged or not a SQLite database (" + detail +
                                  "); restore it from a backup or use another file");
        case SQLITE_CONSTRAINT:
            return make_error(ErrorCode::kConflict, doing + " refused the change (" + detail + ")");
        default:
            return make_error(ErrorCode::kInternal, doing + " failed (" + detail + ")");
    }
}

// ---------------------------------------------------------------------------------------------
// Stmt

Stmt::Stmt(sqlite3_stmt* stmt, bool* in_use, const SqliteConn* conn, std::string_view what)
    : stmt_(stmt), in_use_(in_use), conn_(conn), what_(what) {}

Stmt::Stmt(Stmt&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      conn_(other.conn_),
      what_(std::move(other.what_)),
      bind_rc_(other.bind_rc_) {}

Stmt::~Stmt() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    if (in_use_ != nullptr) {
        sqlite3_clear_bindings(stmt_);
        *in_use_ = false;
    } else {
        sqlite3_finalize(stmt_);
    }
}

Stmt& Stmt::bind(int index, std::int64_t value) {
    const int rc = sqlite3_bind_int64(stmt_, index, value);
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
}

Stmt& Stmt::bind(int index, double value) {
    const int rc = sqlite3_bind_double(stmt_, index, value);
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
}

Stmt& Stmt::bind(int index, std::string_view value) {
    const int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                       SQLITE_UTF8);
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
}

Stmt& Stmt::bind_null(int index) {
    const int rc = sqlite3_bind_null(stmt_, index);
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
}

Result<bool> Stmt::step() {
    if (bind_rc_ != SQLITE_OK) return sqlite_error(bind_rc_, conn_->handle(), conn_->path(), what_);
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_error(rc, conn_->handle(), conn_->path(), what_);
}

Status Stmt::run() {
    while (true) {
        auto row = step();
        if (!row) return row.error();
        if (!*row) return Status::Ok();
    }
}

std::int64_t Stmt::int_at(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

double Stmt::double_at(int column) const {
    return sqlite3_column_double(stmt_, column);
}

std::string Stmt::text_at(int column) const {
    const auto* text = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (text == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

bool Stmt::is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

// ---------------------------------------------------------------------------------------------
// SqliteConn

SqliteConn::~SqliteConn() {
    for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
    // All statements are finalized, so this closes at once; the last connection to a WAL
    // database checkpoints it and removes the -wal file.
    sqlite3_close(db_);
}

Error SqliteConn::error(int rc, std::string_view what) const {
    return sqlite_error(rc, db_, path_, what);
}

Result<Stmt> SqliteConn::prepare(const std::string& sql, std::string_view what) {
    auto it = cache_.find(sql);
    if (it != cache_.end() && !it->second.in_use) {
        it->second.in_use = true;
        return Stmt(it->second.stmt, &it->second.in_use, this, what);
    }
    sqlite3_stmt* stmt = nullptr;
    const bool keep = it == cache_.end();  // in use (a nested use): a one-off copy
    const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                      keep ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return error(rc, what);
    }
    if (!keep) return Stmt(stmt, nullptr, this, what);
    Cached& cached = cache_[sql];
    cached.stmt = stmt;
    cached.in_use = true;
    return Stmt(stmt, &cached.in_use, this, what);
}

Status SqliteConn::exec(const char* sql, std::string_view what) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
    sqlite3_free(message);  // sqlite3_errmsg still has it
    if (rc != SQLITE_OK) return error(rc, what);
    return Status::Ok();
}

void SqliteConn::rollback() noexcept {
    // Some errors (a full disk, an I/O error) roll the transaction back by themselves.
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

// ---------------------------------------------------------------------------------------------
// SqliteDatabase

namespace {
std::int64_t system_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}
}  // namespace

SqliteDatabase::SqliteDatabase(sqlite3* db, std::string path, SqliteOptions options)
    : conn_(db, std::move(path)),
      now_ms_(options.now_ms ? std::move(options.now_ms) : system_now_ms) {}

void SqliteDatabase::set_checkpointer(std::unique_ptr<storage::WalCheckpointer> checkpointer) {
    checkpointer_ = std::move(checkpointer);
    checkpointer_->watch(conn_.handle(), 1000);  // the default autocheckpoint size: 4 MiB
}

void SqliteDatabase::add_reader(sqlite3* db) { readers_.push_back(std::make_unique<Reader>(db, conn_.path())); }

std::uint64_t SqliteDatabase::work_generation() {
    std::lock_guard lock(work_mu_);
    return work_generation_;
}

void SqliteDatabase::signal_work() {
    {
        std::lock_guard lock(work_mu_);
        ++work_generation_;
    }
    work_cv_.notify_all();
}

void SqliteDatabase::wait_for_work(std::uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock lock(work_mu_);
    work_cv_.wait_for(lock, timeout, [&] { return work_generation_ != seen; });
}

}  // namespace facefuse::tasks

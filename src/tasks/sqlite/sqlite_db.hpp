#pragma once
// A small RAII layer over the SQLite C API, private to the SQLite task backend.
//
// SqliteConn owns one sqlite3 connection and a cache of prepared statements; Stmt borrows one of
// them and resets it when it goes out of scope. SqliteDatabase puts a mutex in front of the
// writer connection and offers three ways in: write(), which runs a function inside BEGIN
// IMMEDIATE ... COMMIT (rolled back if the function fails or throws; concurrent writes share
// one transaction, each in its own savepoint: sqlite_group_commit.cpp); read(), for single
// statements that only read, on one of a few reader connections (WAL lets them read while the
// writer writes, so polling clients and workers' reads do not queue behind commits); and
// on_writer(), for statements outside a transaction that must run on the writer (PRAGMAs).
// IMMEDIATE matters: it takes the write lock up front, where the busy timeout applies, instead
// of upgrading a read transaction midway, which fails at once with SQLITE_BUSY under contention.
//
// SQLite result codes become our codes in one place (sqlite_error): locked or busy beyond the
// timeout, I/O errors, a full disk -> kUnavailable; constraint violations -> kConflict; the rest
// -> kInternal. Messages name the file and what we were doing.
#include <sqlite3.h>

#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "storage/sqlite/wal_checkpointer.hpp"
#include "tasks/sqlite/sqlite_backend.hpp"

namespace facefuse::tasks {

class SqliteConn;

// A borrowed prepared statement. Bind parameters are 1-based, columns 0-based.
class Stmt {
  public:
    Stmt(sqlite3_stmt* stmt, bool* in_use, const SqliteConn* conn, std::string_view what);
    Stmt(Stmt&& other) noexcept;
    Stmt& operator=(Stmt&&) = delete;
    Stmt(const Stmt&) = delete;
    ~Stmt();

    Stmt& bind(int index, std::int64_t value);
    Stmt& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Stmt& bind(int index, double value);
    Stmt& bind(int index, std::string_view value);
    Stmt& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Stmt& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    Stmt& bind_null(int index);

    // true: a row is ready to read; false: done.
    Result<bool> step();
    // Steps to the end (statements without result rows).
    Status run();

    std::int64_t int_at(int column) const;
    double double_at(int column) const;
    std::string text_at(int column) const;
    bool is_null(int column) const;

  private:
    sqlite3_stmt* stmt_;
    bool* in_use_;  // the cache's flag; null for a one-off statement that we finalize
    const SqliteConn* conn_;
    std::string what_;
    int bind_rc_ = SQLITE_OK;  // first bind failure, reported by step()
};

class SqliteConn {
  public:
    SqliteConn(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
    SqliteConn(const SqliteConn&) = delete;
    SqliteConn& operator=(const SqliteConn&) = delete;
    ~SqliteConn();

    // The cached statement for `sql` (prepared on first use); `what` names the operation for
    // error messages ("lease tasks").
    Result<Stmt> prepare(const std::string& sql, std::string_view what);
    // Runs one or more statements without parameters.
    Status exec(const char* sql, std::string_view what);
    // Rows changed by the last INSERT, UPDATE or DELETE.
    std::int64_t changes() const { return sqlite3_changes64(db_); }
    // Rolls back the open transaction, if any; never fails.
    void rollback() noexcept;

    Error error(int rc, std::string_view what) const;
    const std::string& path() const { return path_; }
    sqlite3* handle() const { return db_; }

  private:
    struct Cached {
        sqlite3_stmt* stmt = nullptr;
        bool in_use = false;
    };
    sqlite3* db_;
    std::string path_;
    std::unordered_map<std::string, Cached> cache_;
};

// Maps a SQLite result code to our Error; `db` (may be null) supplies sqlite3_errmsg.
Error sqlite_error(int rc, sqlite3* db, const std::string& path, std::string_view what);

class SqliteDatabase {
  public:
    // Takes ownership of `db` (the writer connection).
    SqliteDatabase(sqlite3* db, std::string path, SqliteOptions options);
    SqliteDatabase(const SqliteDatabase&) = delete;
    SqliteDatabase& operator=(const SqliteDatabase&) = delete;

    // Adds a connection (opened by the caller) that read() spreads over. Called before the
    // database is shared between threads.
    void add_reader(sqlite3* db);
    // Hands checkpoints to a background thread (storage/sqlite/wal_checkpointer.hpp); the
    // writer's own automatic checkpoints must be off.
    void set_checkpointer(std::unique_ptr<storage::WalCheckpointer> checkpointer);

    std::int64_t now_ms() const { return now_ms_(); }
    const std::string& path() const { return conn_.path(); }

    // Runs fn(SqliteConn&) -> Status or Result<T> in an IMMEDIATE transaction on the writer
    // connection and returns once that transaction committed. If fn fails or throws, none of
    // its changes are kept. Writes that arrive while another commits share the next transaction
    // (group commit, sqlite_group_commit.cpp), each in its own savepoint: one commit for many
    // writers, and a failing fn still undoes only its own changes. fn must not call write().
    template <typename Fn>
    std::invoke_result_t<Fn&, SqliteConn&> write(std::string_view what, Fn&& fn);

    // Runs fn(SqliteConn&) on a reader connection (the writer if there is none), outside a
    // transaction: each statement is its own atomic read of the latest commit.
    template <typename Fn>
    std::invoke_result_t<Fn&, SqliteConn&> read(std::string_view what, Fn&& fn);

    // Runs fn(SqliteConn&) on the writer connection, holding its mutex, outside a transaction.
    template <typename Fn>
    std::invoke_result_t<Fn&, SqliteConn&> on_writer(std::string_view what, Fn&& fn);

    // In-process wake-up of lease() calls waiting for work.
    std::uint64_t work_generation();
    void signal_work();
    // Returns when signal_work() moved the generation past `seen`, or after `timeout`.
    void wait_for_work(std::uint64_t seen, std::chrono::milliseconds timeout);

  private:
    // One write() waiting for its group's commit; the functions are write()'s type-erased halves.
    struct GroupWrite {
        std::string_view what;
        std::function<bool(SqliteConn&)> run;     // runs fn, keeps its result; true if it succeeded
        std::function<void(const Error&)> fail;  // the transaction did not commit: this is the result
        bool done = false;                        // guarded by group_mu_
        // Woken alone: when its group has committed, or when it is first in the queue and the
        // leader has finished (it then leads the next group). Never for someone else's commit.
        std::condition_variable wake;
    };
    // Queues `op`; one waiting writer at a time takes the queue and commits it as one group.
    void commit_in_group(GroupWrite& op);
    void run_group(const std::vector<GroupWrite*>& group);

    template <typename R>
    static R internal_error(std::string_view what, const char* why);

    template <typename Fn>
    static std::invoke_result_t<Fn&, SqliteConn&> run_guarded(std::mutex& mu, SqliteConn& conn,
                                                              std::string_view what, Fn& fn);

    struct Reader {
        Reader(sqlite3* db, const std::string& path) : conn(db, path) {}
        SqliteConn conn;
        std::mutex mu;  // guards conn
    };

    SqliteConn conn_;
    std::function<std::int64_t()> now_ms_;
    std::mutex mu_;  // guards conn_
    std::vector<std::unique_ptr<Reader>> readers_;
    std::atomic<unsigned> next_reader_{0};
    std::unique_ptr<storage::WalCheckpointer> checkpointer_;  // after the connections: stops first

    std::mutex work_mu_;
    std::condition_variable work_cv_;
    std::uint64_t work_generation_ = 0;

    std::mutex group_mu_;
    std::vector<GroupWrite*> group_queue_;  // guarded by group_mu_
    bool group_leader_ = false;             // someone is committing a group; guarded by group_mu_
};

template <typename R>
R SqliteDatabase::internal_error(std::string_view what, const char* why) {
    return R(make_error(ErrorCode::kInternal,
                        "unexpected failure while trying to " + std::string(what) + ": " + why));
}

template <typename Fn>
std::invoke_result_t<Fn&, SqliteConn&> SqliteDatabase::write(std::string_view what, Fn&& fn) {
    using R = std::invoke_result_t<Fn&, SqliteConn&>;
    std::optional<R> result;
    GroupWrite op;
    op.what = what;
    op.run = [&](SqliteConn& conn) {
        try {
            result.emplace(fn(conn));
        } catch (const std::exception& e) {
            result.emplace(internal_error<R>(what, e.what()));
        } catch (...) {
            result.emplace(internal_error<R>(what, "unknown exception"));
        }
        return result->ok();
    };
    op.fail = [&](const Error& error) { result.emplace(R(error)); };
    commit_in_group(op);
    if (!result) return internal_error<R>(what, "the write's outcome was lost (out of memory)");
    return std::move(*result);
}

template <typename Fn>
std::invoke_result_t<Fn&, SqliteConn&> SqliteDatabase::read(std::string_view what, Fn&& fn) {
    if (readers_.empty()) return run_guarded(mu_, conn_, what, fn);
    Reader& reader = *readers_[next_reader_.fetch_add(1, std::memory_order_relaxed) % readers_.size()];
    return run_guarded(reader.mu, reader.conn, what, fn);
}

template <typename Fn>
std::invoke_result_t<Fn&, SqliteConn&> SqliteDatabase::on_writer(std::string_view what, Fn&& fn) {
    return run_guarded(mu_, conn_, what, fn);
}

template <typename Fn>
std::invoke_result_t<Fn&, SqliteConn&> SqliteDatabase::run_guarded(std::mutex& mu, SqliteConn& conn,
                                                                   std::string_view what, Fn& fn) {
    using R = std::invoke_result_t<Fn&, SqliteConn&>;
    std::lock_guard lock(mu);
    try {
        return fn(conn);
    } catch (const std::exception& e) {
        return internal_error<R>(what, e.what());
    } catch (...) {
        return internal_error<R>(what, "unknown exception");
    }
}

}  // namespace facefuse::tasks

#pragma once
// Shared by the SQLite backend tests: a fake clock (tests move time, never sleep to synchronise)
// and a fixture that opens databases in a fresh temporary folder.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "storage/sqlite/sqlite_vfs.hpp"
#include "support/test_support.hpp"
#include "tasks/sqlite/sqlite_backend.hpp"

namespace facefuse::tasks::testing {

inline constexpr std::int64_t kStartMs = 1'700'000'000'000;  // 2023-11-14

// "prefix" + i (spelled out: GCC 12 gives a false -Wrestrict for "literal" + std::string).
inline std::string numbered(std::string prefix, int i) {
    return prefix.append(std::to_string(i));
}

// A plain connection to a test database, beside the backend's own: it must use the same VFS
// (storage/sqlite/sqlite_vfs.hpp), or it would not see the in-memory WAL index.
inline int open_raw(const std::string& path, sqlite3** db) {
    return sqlite3_open_v2(path.c_str(), db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, storage::kSqliteVfs);
}

class FakeClock {
  public:
    std::int64_t now() const { return now_.load(); }
    void advance(std::int64_t ms) { now_.fetch_add(ms); }

  private:
    std::atomic<std::int64_t> now_{kStartMs};
};

class SqliteTest : public ::testing::Test {
  protected:
    std::string db_path(const std::string& name = "tasks.db") const {
        return (dir_ / name).string();
    }

    // A new connection to the file (as another process would have); null after a test failure.
    std::shared_ptr<SqliteDatabase> open(const std::string& name = "tasks.db") {
        SqliteOptions options;
        options.now_ms = [clock = clock_] { return clock->now(); };
        auto db = open_sqlite(db_path(name), options);
        if (!db) {
            ADD_FAILURE() << "open_sqlite: " << db.error().message;
            return nullptr;
        }
        return *db;
    }

    static Task make_task(const std::string& tenant, const std::string& id = {}) {
        Task task;
        task.id = id.empty() ? new_task_id() : id;
        task.tenant = tenant;
        task.kind = "swap";
        task.options_json = R"({"processors":["face_swapper"]})";
        const std::string prefix = std::string("tenants/").append(tenant).append("/tasks/");
        task.source_key = prefix + task.id + "/source.jpg";
        task.target_key = prefix + task.id + "/target.png";
        task.request_hash = std::string("hash-").append(task.id);
        task.expires_at_ms = kStartMs + 86'400'000;
        return task;
    }

    test::TempDir dir_;
    std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
};

}  // namespace facefuse::tasks::testing

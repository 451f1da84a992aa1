// The SQLite backend across crashes, restarts and several connections to one file.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "sqlite_fixture.hpp"

namespace facefuse::tasks::testing {
namespace {

using namespace std::chrono_literals;
using DurabilityTest = SqliteTest;

// Runs raw SQL on the file through a separate plain connection.
void raw_exec(const std::string& path, const std::string& sql) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(open_raw(path, &raw), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(raw);
    sqlite3_close(raw);
}

std::string raw_pragma(const std::string& path, const std::string& pragma) {
    sqlite3* raw = nullptr;
    std::string value;
    if (open_raw(path, &raw) == SQLITE_OK) {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(raw, pragma.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW)
            value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        sqlite3_finalize(stmt);
    }
    sqlite3_close(raw);
    return value;
}

TEST_F(DurabilityTest, CreatesWalDatabaseWithSchemaVersion) {
    ASSERT_NE(open(), nullptr);
    EXPECT_EQ(raw_pragma(db_path(), "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(raw_pragma(db_path(), "PRAGMA user_version"), "3");
    ASSERT_NE(open(), nullptr) << "reopening an existing database";
}

// A version-1 file (before the moderation column) is brought to the current version in place.
TEST_F(DurabilityTest, MigratesAVersionOneDatabase) {
    ASSERT_NE(open(), nullptr);
    raw_exec(db_path(),
             "ALTER TABLE tasks DROP COLUMN moderation; DROP TRIGGER tenant_queued_insert; "
             "DROP TRIGGER tenant_queued_leave; DROP TRIGGER tenant_queued_enter; DROP TRIGGER tenant_queued_delete; "
             "DROP TABLE tenant_queued; PRAGMA user_version = 1");
    EXPECT_EQ(raw_pragma(db_path(), "PRAGMA user_version"), "1");
    auto db = open_sqlite(db_path());
    ASSERT_TRUE(db.ok()) << db.error().message;
    EXPECT_EQ(raw_pragma(db_path(), "PRAGMA user_version"), "3");
    EXPECT_EQ(raw_pragma(db_path(), "SELECT count(*) FROM pragma_table_info('tasks') WHERE name = 'moderation'"), "1");
    EXPECT_EQ(raw_pragma(db_path(), "SELECT count(*) FROM sqlite_master WHERE name LIKE 'tenant_queued%'"), "5");
}

// A version-2 file with tasks waiting, one of them leased, gets lane counts that match its rows.
TEST_F(DurabilityTest, MigratesAVersionTwoQueueWithItsWaitingCounts) {
    {
        auto db = open();
        ASSERT_NE(db, nullptr);
        SqliteTaskQueue queue(db);
        for (const char* id : {"n1", "n2", "n3"}) ASSERT_TRUE(queue.enqueue(id, Priority::kNormal, 0).ok());
        ASSERT_TRUE(queue.enqueue("b1", Priority::kBatch, 0).ok());
        auto leased = queue.lease("w", 1, std::chrono::seconds(60), std::chrono::milliseconds(0));
        ASSERT_TRUE(leased.ok() && leased->size() == 1);
    }
    raw_exec(db_path(),
             "DROP TRIGGER lane_waiting_insert; DROP TRIGGER lane_waiting_delete; DROP TRIGGER lane_waiting_leased; "
             "DROP TRIGGER lane_waiting_released; DROP TABLE lane_waiting; PRAGMA user_version = 2");
    ASSERT_NE(open(), nullptr);
    EXPECT_EQ(raw_pragma(db_path(), "PRAGMA user_version"), "3");
    EXPECT_EQ(raw_pragma(db_path(), "SELECT waiting FROM lane_waiting WHERE priority = 1"), "2");
    EXPECT_EQ(raw_pragma(db_path(), "SELECT waiting FROM lane_waiting WHERE priority = 2"), "1");
    EXPECT_EQ(raw_pragma(db_path(), "SELECT waiting FROM lane_waiting WHERE priority = 0"), "0");
}

TEST_F(DurabilityTest, RefusesNewerSchemaAndNonDatabases) {
    ASSERT_NE(open(), nullptr);
    raw_exec(db_path(), "PRAGMA user_version = 99");
    auto newer = open_sqlite(db_path());
    ASSERT_FALSE(newer.ok());
    EXPECT_EQ(newer.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(newer.error().message.find("99"), std::string::npos) << newer.error().message;

    std::ofstream(dir_ / "junk.db") << std::string(4096, 'x');
    auto junk = open_sqlite(db_path("junk.db"));
    ASSERT_FALSE(junk.ok());
    EXPECT_EQ(junk.error().code, ErrorCode::kUnavailable);

    auto nowhere = open_sqlite((dir_ / "no" / "such" / "dir" / "tasks.db").string());
    ASSERT_FALSE(nowhere.ok());
    EXPECT_EQ(nowhere.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(nowhere.error().message.find("no/such/dir"), std::string::npos);
}

TEST_F(DurabilityTest, TasksSurviveObjectsDestroyedWithoutAck) {
    std::string leased_id;
    {
        auto db = open();
        SqliteTaskStore store(db);
        SqliteTaskQueue queue(db);
        for (int i = 0; i < 3; ++i) {
            Task task = make_task("acme");
            ASSERT_TRUE(store.create(task, 0).ok());
            ASSERT_TRUE(queue.enqueue(task.id, Priority::kNormal, 0).ok());
        }
        auto got = queue.lease("old-worker", 1, 60s, 0ms);
        ASSERT_TRUE(got.ok());
        ASSERT_EQ(got->size(), 1u);
        leased_id = got->front().task_id;
        // No ack: the objects go away as in a crash.
    }
    auto db = open();
    SqliteTaskQueue queue(db);
    SqliteTaskStore store(db);
    EXPECT_TRUE(store.get("acme", leased_id).ok());
    EXPECT_EQ(*queue.depth(Priority::kNormal), 2);
    auto released = queue.release_all_leases();
    ASSERT_TRUE(released.ok());
    EXPECT_EQ(*released, 1);
    auto all = queue.lease("new-worker", 10, 60s, 0ms);
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 3u);
    for (const Lease& l : *all) EXPECT_EQ(l.deliveries, l.task_id == leased_id ? 2 : 1);
}

TEST_F(DurabilityTest, LeaseOfADeadProcessExpiresWithoutRecover) {
    {
        auto db = open();
        SqliteTaskQueue queue(db);
        ASSERT_TRUE(queue.enqueue("t", Priority::kVip, 0).ok());
        ASSERT_EQ(queue.lease("dead", 1, 60s, 0ms)->size(), 1u);
    }
    SqliteTaskQueue queue(open());
    EXPECT_TRUE(queue.lease("w", 1, 60s, 0ms)->empty());
    clock_->advance(60'000);
    auto again = queue.lease("w", 1, 60s, 0ms);
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->size(), 1u);
    EXPECT_EQ(again->front().deliveries, 2);
}

TEST_F(DurabilityTest, KilledProcessLosesNoCommittedWork) {
    const std::string path = db_path();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The child: enqueue ten tasks, lease one, and die by SIGKILL mid-work (no destructor,
        // no close, no checkpoint). Only async-safe exits from here on.
        SqliteOptions options;
        options.now_ms = [] { return kStartMs; };
        auto db = open_sqlite(path, options);
        if (!db) ::_exit(2);
        SqliteTaskStore store(*db);
        SqliteTaskQueue queue(*db);
        for (int i = 0; i < 10; ++i) {
            Task task = make_task("acme", numbered("task-", i));
            if (!store.create(task, 0) || !queue.enqueue(task.id, Priority::kNormal, 0)) ::_exit(3);
        }
        auto leased = queue.lease("doomed", 1, 3600s, 0ms);
        if (!leased || leased->size() != 1) ::_exit(4);
        ::kill(::getpid(), SIGKILL);
        ::_exit(5);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    ASSERT_EQ(WTERMSIG(status), SIGKILL);

    auto db = open();
    ASSERT_NE(db, nullptr);
    SqliteTaskStore store(db);
    SqliteTaskQueue queue(db);
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(store.get("acme", numbered("task-", i)).ok());
    EXPECT_EQ(*queue.depth(Priority::kNormal), 9);
    ASSERT_EQ(*queue.release_all_leases(), 1);  // the restarting server takes its leases back
    auto all = queue.lease("w", 20, 60s, 0ms);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->size(), 10u);
}

TEST_F(DurabilityTest, TwoConnectionsSeeEachOthersWrites) {
    auto db_a = open();
    auto db_b = open();
    SqliteTaskQueue queue_a(db_a), queue_b(db_b);
    SqliteTaskStore store_a(db_a), store_b(db_b);

    Task task = make_task("acme");
    ASSERT_TRUE(store_a.create(task, 0).ok());
    ASSERT_TRUE(queue_a.enqueue(task.id, Priority::kVip, 0).ok());
    EXPECT_TRUE(store_b.get("acme", task.id).ok());
    EXPECT_EQ(*queue_b.depth(Priority::kVip), 1);
    auto got = queue_b.lease("b", 1, 30s, 0ms);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 1u);
    EXPECT_TRUE(queue_a.lease("a", 1, 30s, 0ms)->empty()) << "held by the other connection";
    ASSERT_TRUE(store_b
                    .transition(task.id, {TaskState::kQueued},
                                [](Task& t) { t.state = TaskState::kRunning; })
                    .ok());
    ASSERT_TRUE(queue_b.ack(got->front()).ok());
    EXPECT_EQ(store_a.get("acme", task.id)->state, TaskState::kRunning);
    EXPECT_EQ(*queue_a.depth(Priority::kVip), 0);
}

TEST_F(DurabilityTest, BusyBeyondTheTimeoutIsUnavailable) {
    SqliteOptions options;
    options.busy_timeout = 50ms;
    auto db = open_sqlite(db_path(), options);
    ASSERT_TRUE(db.ok());
    SqliteTaskQueue queue(*db);
    // Another connection holds the write lock for the whole attempt.
    sqlite3* raw = nullptr;
    ASSERT_EQ(open_raw(db_path(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    auto blocked = queue.enqueue("t", Priority::kNormal, 0);
    ASSERT_FALSE(blocked.ok());
    EXPECT_EQ(blocked.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(*queue.depth(Priority::kNormal), 0) << "WAL readers are not blocked";
    ASSERT_EQ(sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
    EXPECT_TRUE(queue.enqueue("t", Priority::kNormal, 0).ok());
}

}  // namespace
}  // namespace facefuse::tasks::testing

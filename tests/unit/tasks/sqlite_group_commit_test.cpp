// Group commit (sqlite_group_commit.cpp): many concurrent write() calls share transactions, yet
// each keeps the contract of its own transaction -- its changes stand if and only if it
// succeeded, and they are committed (visible to a fresh connection) when write() returns.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "sqlite_fixture.hpp"
#include "tasks/sqlite/sqlite_db.hpp"

namespace facefuse::tasks::testing {
namespace {

class SqliteGroupCommitTest : public SqliteTest {};

Status insert(SqliteConn& conn, int value) {
    auto stmt = conn.prepare("INSERT INTO scratch (v) VALUES (?1)", "insert");
    if (!stmt) return stmt.error();
    return stmt->bind(1, value).run();
}

std::int64_t count_where(SqliteDatabase& db, const char* sql) {
    auto n = db.read("count", [&](SqliteConn& conn) -> Result<std::int64_t> {
        auto stmt = conn.prepare(sql, "count");
        if (!stmt) return stmt.error();
        auto row = stmt->step();
        if (!row) return row.error();
        return stmt->int_at(0);
    });
    EXPECT_TRUE(n) << n.error().message;
    return n ? *n : -1;
}

TEST_F(SqliteGroupCommitTest, ConcurrentWritersKeepExactlyTheChangesOfThoseThatSucceeded) {
    auto db = open();
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->on_writer("create", [](SqliteConn& c) { return c.exec("CREATE TABLE scratch (v INTEGER)", "create"); }));

    constexpr int kThreads = 16, kPerThread = 200;
    std::atomic<int> failures_seen{0}, invisible_after_return{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            auto reader = open();  // another connection: sees only what was committed
            for (int i = 0; i < kPerThread; ++i) {
                const int value = t * kPerThread + i;
                // Every third write inserts, then fails (error or exception): none of it may stay.
                Status done = db->write("write", [&](SqliteConn& conn) -> Status {
                    if (Status st = insert(conn, value); !st) return st;
                    if (value % 3 == 1) return make_error(ErrorCode::kConflict, "refused after inserting");
                    if (value % 3 == 2 && value % 2 == 0) throw std::runtime_error("thrown after inserting");
                    return Status::Ok();
                });
                if (!done) {
                    ++failures_seen;
                    continue;
                }
                const std::string sql = "SELECT count(*) FROM scratch WHERE v = " + std::to_string(value);
                if (reader && count_where(*reader, sql.c_str()) != 1) ++invisible_after_return;
            }
        });
    }
    for (auto& th : threads) th.join();

    int expected_failures = 0;
    for (int v = 0; v < kThreads * kPerThread; ++v) expected_failures += (v % 3 == 1) || (v % 3 == 2 && v % 2 == 0);
    EXPECT_EQ(failures_seen.load(), expected_failures);
    EXPECT_EQ(invisible_after_return.load(), 0) << "write() returned before its commit";
    EXPECT_EQ(count_where(*db, "SELECT count(*) FROM scratch"), kThreads * kPerThread - expected_failures);
    EXPECT_EQ(count_where(*db, "SELECT count(*) FROM scratch WHERE v % 3 = 1"), 0);
    EXPECT_EQ(count_where(*db, "SELECT count(*) FROM scratch WHERE v % 3 = 2 AND v % 2 = 0"), 0);
}

TEST_F(SqliteGroupCommitTest, AWriteSeesTheChangesOfThoseCommittedBeforeIt) {
    auto db = open();
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->on_writer("create", [](SqliteConn& c) {
        return c.exec("CREATE TABLE scratch (v INTEGER); INSERT INTO scratch VALUES (0)", "create");
    }));
    // Read-modify-write increments from many threads: lost updates would show as a smaller sum.
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 250; ++i) {
                Status st = db->write("increment", [](SqliteConn& conn) -> Status {
                    auto get = conn.prepare("SELECT v FROM scratch", "read");
                    if (!get) return get.error();
                    auto row = get->step();
                    if (!row) return row.error();
                    const std::int64_t v = get->int_at(0);
                    auto set = conn.prepare("UPDATE scratch SET v = ?1", "write");
                    if (!set) return set.error();
                    return set->bind(1, v + 1).run();
                });
                EXPECT_TRUE(st) << st.error().message;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(count_where(*db, "SELECT v FROM scratch"), 2000);
}

}  // namespace
}  // namespace facefuse::tasks::testing

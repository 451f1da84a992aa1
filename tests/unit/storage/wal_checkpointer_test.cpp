// The background checkpointer must actually move the log into the database while writers keep
// the file open: otherwise the log grows without bound under load (it once did, unnoticed,
// because a fresh connection does not know the file is in WAL mode and checkpoints nothing).
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "storage/sqlite/sqlite_vfs.hpp"
#include "storage/sqlite/wal_checkpointer.hpp"
#include "support/test_support.hpp"

namespace facefuse::storage {
namespace {

using namespace std::chrono_literals;

struct Db {
    sqlite3* handle = nullptr;
    ~Db() { sqlite3_close_v2(handle); }
};

void exec(sqlite3* db, const char* sql) { ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db); }

TEST(WalCheckpointer, MovesTheLogIntoTheDatabaseWhileTheWriterStaysOpen) {
    test::TempDir dir;
    const std::filesystem::path file = dir / "db.sqlite";
    Db writer;
    ASSERT_EQ(sqlite3_open_v2(file.c_str(), &writer.handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, kSqliteVfs), SQLITE_OK);
    exec(writer.handle, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t (b BLOB)");
    const auto empty_size = std::filesystem::file_size(file);

    // The hook the segment blob store syncs its segments in: it runs before every checkpoint,
    // on the checkpointer's thread.
    std::atomic<int> hook_calls{0};
    std::atomic<bool> hook_on_caller{false};
    const auto caller = std::this_thread::get_id();
    auto checkpointer = WalCheckpointer::start(file, 20ms, [&] {
        ++hook_calls;
        if (std::this_thread::get_id() == caller) hook_on_caller = true;
    });
    ASSERT_TRUE(checkpointer) << checkpointer.error().message;
    (*checkpointer)->watch(writer.handle, 8);
    for (int i = 0; i < 50; ++i) exec(writer.handle, "INSERT INTO t VALUES (zeroblob(16384))");

    // Polls (with a deadline) for the database file to take in the ~800 KB the log holds.
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < until && std::filesystem::file_size(file) < empty_size + 500'000)
        std::this_thread::sleep_for(10ms);  // polling interval
    EXPECT_GE(std::filesystem::file_size(file), empty_size + 500'000) << "nothing was checkpointed";
    EXPECT_GT(hook_calls.load(), 0);
    EXPECT_FALSE(hook_on_caller.load());
}

TEST(WalCheckpointer, RefusesAFileThatIsNotInWalMode) {
    test::TempDir dir;
    const std::filesystem::path file = dir / "rollback.sqlite";
    Db db;
    ASSERT_EQ(sqlite3_open_v2(file.c_str(), &db.handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, kSqliteVfs), SQLITE_OK);
    exec(db.handle, "CREATE TABLE t (x)");
    auto checkpointer = WalCheckpointer::start(file);
    ASSERT_FALSE(checkpointer);
    EXPECT_NE(checkpointer.error().message.find("not wal"), std::string::npos) << checkpointer.error().message;
}

}  // namespace
}  // namespace facefuse::storage

#include "storage/sqlite/wal_checkpointer.hpp"

#include <pthread.h>

#include <string>

#include "storage/sqlite/sqlite_vfs.hpp"

namespace facefuse::storage {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(const std::filesystem::path& file,
                                                                std::chrono::milliseconds interval,
                                                                std::function<void()> before_each) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, kSqliteVfs);
    if (rc != SQLITE_OK) {
        Error error = make_error(ErrorCode::kUnavailable, "cannot open " + file.string() + " for checkpoints: " +
                                                              (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
        sqlite3_close_v2(db);
        return error;
    }
    sqlite3_busy_timeout(db, 1000);
    // A new connection does not know the file is in WAL mode until it has read it, and until
    // then sqlite3_wal_checkpoint_v2 does nothing at all (it reports a log of -1 frames). One
    // read makes it look.
    char* mode = nullptr;
    auto keep_mode = [](void* out, int, char** values, char**) {  // called per row: keeps the last
        char** kept = static_cast<char**>(out);
        sqlite3_free(*kept);
        *kept = sqlite3_mprintf("%s", values[0] != nullptr ? values[0] : "");
        return 0;
    };
    const int read = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master; PRAGMA journal_mode", keep_mode, &mode, nullptr);
    const std::string journal = mode != nullptr ? mode : "";
    sqlite3_free(mode);
    if (read != SQLITE_OK || journal != "wal") {
        Error error = make_error(ErrorCode::kInternal, "cannot checkpoint " + file.string() + ": journal mode is '" +
                                                           journal + "', not wal (" + sqlite3_errmsg(db) + ")");
        sqlite3_close_v2(db);
        return error;
    }
    return std::make_unique<WalCheckpointer>(Token{}, db, interval, std::move(before_each));
}

WalCheckpointer::WalCheckpointer(Token, sqlite3* db, std::chrono::milliseconds interval,
                                 std::function<void()> before_each)
    : db_(db), interval_(interval), before_each_(std::move(before_each)), thread_([this] { run(); }) {}

WalCheckpointer::~WalCheckpointer() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
    sqlite3_close_v2(db_);
}

void WalCheckpointer::watch(sqlite3* writer, int wake_pages) {
    {
        std::lock_guard lock(mu_);
        wake_pages_ = wake_pages;
    }
    sqlite3_wal_hook(writer, &WalCheckpointer::on_wal_commit, this);
}

int WalCheckpointer::on_wal_commit(void* self, sqlite3* /*db*/, const char* /*name*/, int pages) {
    auto* checkpointer = static_cast<WalCheckpointer*>(self);
    {
        std::lock_guard lock(checkpointer->mu_);
        // `pages` is the whole log; what the last checkpoint copied does not need another one.
        // (A log that restarted from its beginning is shorter than that: all of it is new.)
        const int fresh = pages >= checkpointer->copied_ ? pages - checkpointer->copied_ : pages;
        if (fresh < checkpointer->wake_pages_ || checkpointer->due_) return SQLITE_OK;
        checkpointer->due_ = true;
    }
    checkpointer->wake_.notify_one();
    return SQLITE_OK;
}

void WalCheckpointer::run() {
    pthread_setname_np(pthread_self(), "ff-checkpoint");
    std::unique_lock lock(mu_);
    while (true) {
        wake_.wait_for(lock, interval_, [this] { return stop_ || due_; });
        const bool last = stop_;
        due_ = false;
        lock.unlock();
        // PASSIVE: copies what no reader still needs, never waits for or blocks anyone. A
        // failure (busy, I/O) is left for the next round; the log only grows meanwhile.
        if (before_each_) before_each_();
        int log_frames = 0;
        int copied = 0;
        const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied);
        lock.lock();
        if (rc == SQLITE_OK) copied_ = copied;
        if (last) return;
    }
}

}  // namespace facefuse::storage

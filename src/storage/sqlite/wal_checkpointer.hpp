#pragma once
// WalCheckpointer: moves SQLite's WAL checkpoints off the request path.
//
// By default the connection whose commit pushes the write-ahead log past wal_autocheckpoint
// runs the checkpoint itself, inside its commit: it copies the log into the database and
// fsyncs both, while holding the write lock every other writer waits for. Measured on `serve`
// under load, those fsyncs were ~7% of the server's CPU and all of them sat in someone's
// request. Here the writers' automatic checkpoints are turned off (the caller sets
// wal_autocheckpoint=0 on them) and a background thread with its own connection runs PASSIVE
// checkpoints -- which never block readers or writers -- every `interval`, and at once when
// the log has grown past `wake_pages`.
#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/result.hpp"

namespace facefuse::storage {

class WalCheckpointer {
  public:
    // Opens its own connection to `file` (which must already be in WAL mode) and starts the
    // thread. kUnavailable/kInternal if the connection cannot be opened. `before_each`, if set,
    // runs on the thread before every checkpoint: the segment blob store makes the bytes its
    // index rows point to durable there, before the checkpoint makes the rows durable.
    static Result<std::unique_ptr<WalCheckpointer>> start(const std::filesystem::path& file,
                                                          std::chrono::milliseconds interval = std::chrono::milliseconds(100),
                                                          std::function<void()> before_each = {});
    ~WalCheckpointer();  // stops the thread after one last checkpoint
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    // Installs a commit hook on a writer connection that wakes the checkpointer early when
    // its log holds `wake_pages` pages more than the last checkpoint copied. The connection must outlive this object's
    // use of it (the hook only signals a condition variable).
    void watch(sqlite3* writer, int wake_pages);

    struct Token {};  // only start() constructs
    WalCheckpointer(Token, sqlite3* db, std::chrono::milliseconds interval, std::function<void()> before_each);

  private:
    void run();
    static int on_wal_commit(void* self, sqlite3* db, const char* name, int pages);

    sqlite3* db_;
    std::chrono::milliseconds interval_;
    std::function<void()> before_each_;
    int wake_pages_ = 1000;
    int copied_ = 0;  // frames of the log the last checkpoint had copied; guarded by mu_
    std::mutex mu_;
    std::condition_variable wake_;
    bool stop_ = false;
    bool due_ = false;
    std::thread thread_;
};

}  // namespace facefuse::storage

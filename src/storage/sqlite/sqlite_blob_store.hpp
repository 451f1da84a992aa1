#pragma once
// SqliteBlobStore: blobs as rows of one SQLite file (WAL) -- the embedded shape's default before
// the segment store (storage/segments), kept for data directories made then (--blob-store sqlite).
//
// Why not a file per blob: measured on `facefuse serve` with `noop` tasks, creating the files
// (a directory per task, a temporary file per put, then rename and fsync) took more CPU than
// the whole rest of the service: ext4 scans its inode tables for recently freed inodes on every
// create, and a service that expires old tasks frees inodes all the time. One database file
// has no per-object inodes; a put is an append to the write-ahead log. SQLite's own
// measurements ("Internal Versus External BLOBs") find the same for objects up to ~100 KB, the
// size of a typical upload; larger ones cost a copy more at checkpoint time, not a failure.
//
// Durability matches the task database (synchronous=NORMAL): a committed put survives the
// process being killed at any point; an OS crash can roll back the last few commits, and the
// task records committed after them roll back with them (same file system, same policy).
// put() is one statement, so a reader sees the old or the new bytes, never a mix.
//
// Concurrency: one writer connection behind a mutex (SQLite allows one writer at a time
// anyway) and a few reader connections, which WAL lets read while the writer writes. Space of
// removed blobs goes to SQLite's free list and is reused by later puts; the file does not
// shrink by itself (`sqlite3 blobs.db VACUUM` while stopped does that).
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/blob_store.hpp"
#include "storage/sqlite/sqlite_statements.hpp"
#include "storage/sqlite/wal_checkpointer.hpp"

namespace facefuse::storage {

class SqliteBlobStore final : public BlobStore {
  public:
    // Opens (creating if needed) the database file; its directory must exist. kUnavailable or
    // kInternal with the path and SQLite's reason when it cannot.
    static Result<std::shared_ptr<SqliteBlobStore>> open(const std::filesystem::path& file,
                                                         int reader_connections = 4);
    ~SqliteBlobStore() override;

    Status put(const std::string& key, std::span<const std::uint8_t> bytes,
               std::string_view content_type) override;
    Result<std::vector<std::uint8_t>> get(const std::string& key) override;
    Status remove(const std::string& key) override;
    Result<bool> exists(const std::string& key) override;

  private:
    struct Token {};  // only open() constructs: a store is usable only once opened

  public:
    explicit SqliteBlobStore(Token);

  private:
    StatementConn& reader();

    std::filesystem::path path_;
    std::unique_ptr<StatementConn> writer_;
    std::vector<std::unique_ptr<StatementConn>> readers_;
    std::unique_ptr<WalCheckpointer> checkpointer_;  // declared last: stops first
    std::atomic<unsigned> next_reader_{0};
};

}  // namespace facefuse::storage

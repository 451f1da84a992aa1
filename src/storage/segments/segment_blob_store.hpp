#pragma once
// SegmentBlobStore: images appended to large segment files, found through a small SQLite
// index -- the embedded shape's default (`serve --blob-store segments`).
//
// Why: the SQLite blob store writes every image twice -- into the write-ahead log, then again
// into the database at checkpoint -- in 16 KiB pages plus b-tree pages: 516 KB of writes and
// 85 system calls for a `noop` task whose two images are 162 KB (strace, 1,000 tasks). Here an
// image is one pwrite of its own bytes into the open segment; the index row (key, segment,
// offset, length, checksum) is ~100 bytes in a 4 KiB-page database.
//
// Layout in `dir`: index.db (+ its -wal) and segments named 00000001.seg, 00000002.seg, ...
// Puts append to the newest ("active") segment, each image starting on a 4 KiB boundary so
// that removing it can give its blocks back to the file system (a punched hole). A new segment
// starts when the active one passes 256 MiB, and at every open. A segment no live image points
// into any more is deleted.
//
// Order of a put: the bytes, then the index row in one transaction (replacing any older row of
// the key, whose range is then released). A reader finds the row first, so it sees the old or
// the new image, never a mix. A crash between the two leaves unreachable bytes in a segment,
// not a broken image; they go when the segment does.
//
// Durability matches the SQLite stores (synchronous=NORMAL): a committed put survives the
// process being killed at any point. For an OS crash, the checkpointer fdatasyncs the segments
// written since its last round before each checkpoint of the index, so an index row that is on
// disk through a checkpoint has its bytes on disk too. A row the kernel wrote back earlier
// could still outlive its bytes; the CRC-32 in every row catches that, and get() then reports
// the image as damaged (kInternal) rather than returning wrong bytes.
//
// Concurrency: puts reserve their range under a short lock and write in parallel; the index
// has one writer connection behind a mutex and a few reader connections (WAL).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/blob_store.hpp"
#include "storage/segments/segment_file.hpp"
#include "storage/sqlite/sqlite_statements.hpp"
#include "storage/sqlite/wal_checkpointer.hpp"

namespace facefuse::storage {

class SegmentBlobStore final : public BlobStore {
  public:
    struct Options {
        std::uint64_t segment_bytes = 256ull << 20;  // start a new segment past this
        // Descriptors kept open, least recently used closed first: a day of images at a
        // service's rate is thousands of segments, more than a process may hold open.
        std::size_t open_segments = 64;
        int reader_connections = 4;
    };

    // Opens (creating if needed) the store in `dir`, which is created if missing. Starts a new
    // active segment and deletes segments no index row points into (left by a crash).
    // kUnavailable or kInternal with the path and the reason when it cannot.
    static Result<std::shared_ptr<SegmentBlobStore>> open(const std::filesystem::path& dir,
                                                          Options options);
    static Result<std::shared_ptr<SegmentBlobStore>> open(const std::filesystem::path& dir) {
        return open(dir, Options{});
    }
    ~SegmentBlobStore() override;

    Status put(const std::string& key, std::span<const std::uint8_t> bytes,
               std::string_view content_type) override;
    Result<std::vector<std::uint8_t>> get(const std::string& key) override;
    Status remove(const std::string& key) override;
    Result<bool> exists(const std::string& key) override;

    // The segment files now on disk, oldest first (for tests and operators).
    std::vector<std::filesystem::path> segment_paths() const;

    // Where an image's bytes are.
    struct Location {
        std::uint64_t segment = 0;
        std::uint64_t offset = 0;
        std::uint64_t length = 0;
        std::uint32_t crc = 0;
        bool operator==(const Location&) const = default;
    };

  private:
    struct Token {};  // only open() constructs

  public:
    SegmentBlobStore(Token, std::filesystem::path dir, Options options);

  private:
    StatementConn& reader();
    // The open segment; nullptr if it does not exist (deleted); an error if it cannot be opened.
    Result<std::shared_ptr<SegmentFile>> file(std::uint64_t segment);
    // Under files_mu_: keeps `f` open as `segment`, closing the least recently used past the cap.
    void remember_locked(std::uint64_t segment, std::shared_ptr<SegmentFile> f);
    // Under append_mu_: seals the active segment and starts the next one.
    Status start_segment_locked();
    // The rest under the writer connection's lock (taken before append_mu_, never after).
    // Points `key` at `where` in one transaction; releases the range it pointed at before.
    Status index_locked(const std::string& key, const Location& where,
                        std::string_view content_type);
    // Gives the range back; deletes its segment if that is now unused.
    void release_locked(const Location& where);
    // Deletes a sealed segment no row points into and no unfinished put is writing.
    void delete_segment_if_unused_locked(std::uint64_t segment);
    // The checkpointer's hook: fdatasync every segment written since the last call.
    void sync_written_segments();

    std::filesystem::path dir_;
    std::filesystem::path index_path_;  // dir_/index.db, named in errors
    Options options_;

    struct OpenSegment {
        std::shared_ptr<SegmentFile> file;
        std::uint64_t last_use = 0;
    };
    // Guards files_ and use_clock_, and is held while a segment is opened or deleted, so a
    // segment is never opened again between being forgotten and being unlinked.
    std::mutex files_mu_;
    std::map<std::uint64_t, OpenSegment> files_;  // at most options_.open_segments
    std::uint64_t use_clock_ = 0;

    std::mutex append_mu_;  // guards the five below
    std::uint64_t active_ = 0;
    std::uint64_t active_end_ = 0;  // where the next image goes
    std::shared_ptr<SegmentFile> active_file_;
    std::map<std::uint64_t, int> writing_;  // puts between reserving a range and their commit
    std::vector<std::uint64_t> written_since_sync_;

    std::unique_ptr<StatementConn> writer_;
    std::vector<std::unique_ptr<StatementConn>> readers_;
    std::atomic<unsigned> next_reader_{0};
    std::unique_ptr<WalCheckpointer> checkpointer_;  // declared last: stops first
};

}  // namespace facefuse::storage

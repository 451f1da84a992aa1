#include "storage/segments/segment_blob_store.hpp"

#include <sqlite3.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <system_error>

#include "storage/sqlite/sqlite_error.hpp"

namespace facefuse::storage {
namespace {

// WITHOUT ROWID: the key is the table's own b-tree key, so a put updates one b-tree for the
// row plus the small segment index (which finds a segment's last image when one is removed).
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS blobs (
    key          TEXT PRIMARY KEY NOT NULL,
    segment      INTEGER NOT NULL,
    offset       INTEGER NOT NULL,
    length       INTEGER NOT NULL,
    crc32        INTEGER NOT NULL,
    content_type TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blobs_by_segment ON blobs(segment);
)sql";

// Images start on a file-system block so a removed one's blocks can be punched out whole.
constexpr std::uint64_t kAlign = 4096;

std::uint64_t aligned(std::uint64_t n) {
    return (n + kAlign - 1) / kAlign * kAlign;
}

std::uint32_t crc_of(std::span<const std::uint8_t> bytes) {
    // zlib's crc32 takes a uInt length: feed it in slices so images over 4 GiB would still work.
    uLong crc = crc32(0L, Z_NULL, 0);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const std::size_t n = std::min<std::size_t>(bytes.size() - done, 1u << 30);
        crc = crc32(crc, bytes.data() + done, static_cast<uInt>(n));
        done += n;
    }
    return static_cast<std::uint32_t>(crc);
}

std::string segment_name(std::uint64_t segment) {
    char name[32];
    std::snprintf(name, sizeof name, "%08llu.seg", static_cast<unsigned long long>(segment));
    return name;
}

// The number in "00000042.seg", or 0 for any other name.
std::uint64_t segment_number(const std::filesystem::path& path) {
    if (path.extension() != ".seg") return 0;
    const std::string stem = path.stem().string();
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(stem.data(), stem.data() + stem.size(), n);
    return ec == std::errc() && end == stem.data() + stem.size() ? n : 0;
}

}  // namespace

namespace {

enum Statement { kLookup, kUpsert, kDelete, kSegmentUsed, kBegin, kCommit, kRollback };

constexpr std::array<const char*, 7> kSql = {
    "SELECT segment, offset, length, crc32 FROM blobs WHERE key = ?1",
    "INSERT INTO blobs(key, segment, offset, length, crc32, content_type) VALUES(?1, ?2, ?3, ?4, "
    "?5, ?6) "
    "ON CONFLICT(key) DO UPDATE SET segment = excluded.segment, offset = excluded.offset, "
    "length = excluded.length, crc32 = excluded.crc32, content_type = excluded.content_type",
    "DELETE FROM blobs WHERE key = ?1 RETURNING segment, offset, length, crc32",
    "SELECT 1 FROM blobs WHERE segment = ?1 LIMIT 1",
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
};

// The location in the current row of `stmt` (columns segment, offset, length, crc32).
SegmentBlobStore::Location location_of(sqlite3_stmt* stmt) {
    return {static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 0)),
            static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 1)),
            static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 2)),
            static_cast<std::uint32_t>(sqlite3_column_int64(stmt, 3))};
}

// The row of `key`: found, not there (nullopt), or the error.
Result<std::optional<SegmentBlobStore::Location>> lookup(StatementConn& conn,
                                                         const std::string& key,
                                                         const std::filesystem::path& index) {
    auto borrowed = conn.borrow(kLookup);
    sqlite3_stmt* s = borrowed.stmt;
    sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::optional<SegmentBlobStore::Location>();
    if (rc != SQLITE_ROW) return sqlite_store_error(rc, conn.db(), index, "look up " + key);
    return std::optional<SegmentBlobStore::Location>(location_of(s));
}

}  // namespace

Result<std::shared_ptr<SegmentBlobStore>> SegmentBlobStore::open(const std::filesystem::path& dir,
                                                                 Options options) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        return make_error(ErrorCode::kUnavailable,
                          "blob store " + dir.string() + ": cannot create the directory: " +
                              ec.message() + ". Check that the data directory is writable.");
    auto store = std::make_shared<SegmentBlobStore>(Token{}, dir, options);
    const std::filesystem::path index = dir / "index.db";
    auto connect = [&](bool writer) {
        // As the task database: WAL, NORMAL, checkpoints by the background thread only.
        const char* setup = writer
                                ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                                  "PRAGMA journal_size_limit=67108864; PRAGMA wal_autocheckpoint=0;"
                                : "PRAGMA synchronous=NORMAL;";
        return StatementConn::open(index, setup, writer ? kSchema : nullptr, kSql);
    };
    auto writer = connect(true);
    if (!writer) return writer.error();
    store->writer_ = std::move(writer.value());

    // Segments already here: start a new active one after the newest, then delete those the
    // index no longer points into (a crash can leave a segment whose images were never indexed,
    // or all removed). The others are opened when first read.
    std::vector<std::uint64_t> found;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (const std::uint64_t segment = segment_number(entry.path()); segment != 0)
            found.push_back(segment);
    }
    if (ec)
        return make_error(
            ErrorCode::kUnavailable,
            "blob store " + dir.string() + ": cannot list the directory: " + ec.message() + ".");
    {
        std::lock_guard lock(store->append_mu_);
        store->active_ = found.empty() ? 0 : *std::max_element(found.begin(), found.end());
        if (Status st = store->start_segment_locked(); !st) return st.error();
    }
    {
        std::lock_guard lock(store->writer_->mu);
        for (std::uint64_t segment : found) store->delete_segment_if_unused_locked(segment);
    }

    // Checkpoints in the background, each after the segments it covers are on disk (header).
    auto checkpointer =
        WalCheckpointer::start(index, std::chrono::milliseconds(100),
                               [raw = store.get()] { raw->sync_written_segments(); });
    if (!checkpointer) return checkpointer.error();
    store->checkpointer_ = std::move(checkpointer.value());
    store->checkpointer_->watch(store->writer_->db(), 1000);  // 1,000 x 4 KiB: 4 MiB of log
    for (int i = 0; i < std::max(1, options.reader_connections); ++i) {
        auto reader = connect(false);
        if (!reader) return reader.error();
        store->readers_.push_back(std::move(reader.value()));
    }
    return store;
}

SegmentBlobStore::SegmentBlobStore(Token, std::filesystem::path dir, Options options)
    : dir_(std::move(dir)), index_path_(dir_ / "index.db"), options_(options) {}

SegmentBlobStore::~SegmentBlobStore() {
    // Stop the checkpointer (its hook uses this object) before the members it touches go.
    checkpointer_.reset();
}

StatementConn& SegmentBlobStore::reader() {
    return *readers_[next_reader_.fetch_add(1, std::memory_order_relaxed) % readers_.size()];
}

Result<std::shared_ptr<SegmentFile>> SegmentBlobStore::file(std::uint64_t segment) {
    std::lock_guard lock(files_mu_);
    if (auto it = files_.find(segment); it != files_.end()) {
        it->second.last_use = ++use_clock_;
        return it->second.file;
    }
    const std::filesystem::path path = dir_ / segment_name(segment);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return std::shared_ptr<SegmentFile>();
    auto opened = SegmentFile::open(path);
    if (!opened) return opened.error();
    remember_locked(segment, opened.value());
    return opened.value();
}

void SegmentBlobStore::remember_locked(std::uint64_t segment, std::shared_ptr<SegmentFile> f) {
    files_[segment] = OpenSegment{std::move(f), ++use_clock_};
    if (files_.size() <= options_.open_segments) return;
    // Closes the least recently used one (its descriptor stays open for whoever still holds
    // it). The active segment may go too: puts write through their own reference.
    auto oldest = std::min_element(files_.begin(), files_.end(), [](const auto& a, const auto& b) {
        return a.second.last_use < b.second.last_use;
    });
    files_.erase(oldest);
}

std::vector<std::filesystem::path> SegmentBlobStore::segment_paths() const {
    std::vector<std::filesystem::path> paths;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec))
        if (segment_number(entry.path()) != 0) paths.push_back(entry.path());
    std::sort(paths.begin(), paths.end());
    return paths;
}

Status SegmentBlobStore::start_segment_locked() {
    auto created = SegmentFile::create(dir_ / segment_name(active_ + 1));
    if (!created) return created.error();
    {
        std::lock_guard lock(files_mu_);
        remember_locked(active_ + 1, created.value());
    }
    active_file_ = std::move(created.value());
    active_ += 1;
    active_end_ = 0;
    return Status::Ok();
}

Status SegmentBlobStore::put(const std::string& key, std::span<const std::uint8_t> bytes,
                             std::string_view content_type) {
    if (!valid_blob_key(key)) return invalid_blob_key(key);
    Location where;
    where.length = bytes.size();
    where.crc = crc_of(bytes);
    std::shared_ptr<SegmentFile> target;
    std::uint64_t sealed = 0;  // the segment this put closed, if it started a new one
    {
        std::lock_guard lock(append_mu_);
        if (active_end_ > 0 && active_end_ + bytes.size() > options_.segment_bytes) {
            sealed = active_;
            if (Status st = start_segment_locked(); !st) return st;
        }
        where.segment = active_;
        where.offset = active_end_;
        active_end_ = aligned(active_end_ + bytes.size());
        target = active_file_;
        ++writing_[active_];
        if (written_since_sync_.empty() || written_since_sync_.back() != active_)
            written_since_sync_.push_back(active_);
    }
    auto done_writing = [&] {
        std::lock_guard lock(append_mu_);
        if (--writing_[where.segment] == 0) writing_.erase(where.segment);
    };
    // The write runs outside every lock: other puts write their own ranges meanwhile.
    if (Status st = target->write_at(where.offset, bytes); !st) {
        done_writing();
        return st;
    }

    std::lock_guard lock(writer_->mu);
    Status indexed = index_locked(key, where, content_type);
    done_writing();  // after the commit: a sealed segment's emptiness check now sees this row
    if (sealed != 0) delete_segment_if_unused_locked(sealed);  // all its images may be gone already
    return indexed;
}

Status SegmentBlobStore::index_locked(const std::string& key, const Location& where,
                                      std::string_view content_type) {
    const std::filesystem::path& index = index_path_;
    if (int rc = writer_->run(kBegin); rc != SQLITE_DONE)
        return sqlite_store_error(rc, writer_->db(), index, "store " + key);
    // On failure the bytes already written stay unreachable until their segment is deleted.
    auto fail = [&](Error error) -> Status {
        writer_->run(kRollback);
        return error;
    };
    auto previous = lookup(*writer_, key, index);
    if (!previous) return fail(previous.error());
    {
        auto borrowed = writer_->borrow(kUpsert);
        sqlite3_stmt* s = borrowed.stmt;
        sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(where.segment));
        sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(where.offset));
        sqlite3_bind_int64(s, 4, static_cast<sqlite3_int64>(where.length));
        sqlite3_bind_int64(s, 5, where.crc);
        sqlite3_bind_text(s, 6, content_type.data(), static_cast<int>(content_type.size()),
                          SQLITE_STATIC);
        if (int rc = sqlite3_step(s); rc != SQLITE_DONE)
            return fail(sqlite_store_error(rc, writer_->db(), index, "store " + key));
    }
    if (int rc = writer_->run(kCommit); rc != SQLITE_DONE)
        return fail(sqlite_store_error(rc, writer_->db(), index, "store " + key));
    if (*previous) release_locked(**previous);
    return Status::Ok();
}

Result<std::vector<std::uint8_t>> SegmentBlobStore::get(const std::string& key) {
    if (!valid_blob_key(key)) return invalid_blob_key(key);
    const std::filesystem::path& index = index_path_;
    StatementConn& conn = reader();
    std::lock_guard lock(conn.mu);
    // A read that does not match its checksum looks the key up again: a put or remove of the
    // same key may have released that range between our lookup and our read. Only the same row
    // read wrong twice is damage.
    std::optional<Location> previous;
    for (int attempt = 0; attempt < 64; ++attempt) {
        auto found = lookup(conn, key, index);
        if (!found) return found.error();
        if (!*found)
            return make_error(ErrorCode::kNotFound,
                              "blob store: no object at key \"" + key + "\".");
        const Location where = **found;
        if (previous == where)
            return make_error(
                ErrorCode::kInternal,
                "blob store " + dir_.string() + ": the image at key \"" + key +
                    "\" is damaged (its checksum does not match); the machine may have stopped "
                    "before it reached the disk. Submit the task again.");
        previous = where;
        auto f = file(where.segment);
        if (!f) return f.error();
        if (!*f) continue;  // its segment was deleted after our lookup: look again
        std::vector<std::uint8_t> bytes(where.length);
        if (Status st = (*f)->read_at(where.offset, bytes); !st) {
            if (st.error().code != ErrorCode::kInternal) return st.error();
            continue;  // the file ends before the range: look again, as for a checksum
        }
        if (crc_of(bytes) == where.crc) return bytes;
    }
    return make_error(ErrorCode::kUnavailable,
                      "blob store: the image at key \"" + key +
                          "\" was replaced faster than it could be read; try again.");
}

Status SegmentBlobStore::remove(const std::string& key) {
    if (!valid_blob_key(key)) return invalid_blob_key(key);
    const std::filesystem::path& index = index_path_;
    std::lock_guard lock(writer_->mu);
    std::optional<Location> removed;
    {
        auto borrowed = writer_->borrow(kDelete);
        sqlite3_stmt* s = borrowed.stmt;
        sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            removed = location_of(s);
            rc = sqlite3_step(s);
        }
        if (rc != SQLITE_DONE) return sqlite_store_error(rc, writer_->db(), index, "remove " + key);
    }
    if (removed) release_locked(*removed);
    return Status::Ok();
}

Result<bool> SegmentBlobStore::exists(const std::string& key) {
    if (!valid_blob_key(key)) return invalid_blob_key(key);
    StatementConn& conn = reader();
    std::lock_guard lock(conn.mu);
    auto found = lookup(conn, key, index_path_);
    if (!found) return found.error();
    return found->has_value();
}

void SegmentBlobStore::release_locked(const Location& where) {
    // A segment that cannot be opened keeps the space until it is deleted.
    if (auto f = file(where.segment); f && *f) (*f)->release(where.offset, aligned(where.length));
    delete_segment_if_unused_locked(where.segment);
}

void SegmentBlobStore::delete_segment_if_unused_locked(std::uint64_t segment) {
    {
        // Only a sealed segment with no put still on its way into it: the active one gets new
        // images, and an unfinished put's row is not in the index yet.
        std::lock_guard lock(append_mu_);
        if (segment >= active_ || writing_.contains(segment)) return;
    }
    int used = 0;
    {
        auto borrowed = writer_->borrow(kSegmentUsed);
        sqlite3_bind_int64(borrowed.stmt, 1, static_cast<sqlite3_int64>(segment));
        used = sqlite3_step(borrowed.stmt);
    }
    if (used != SQLITE_DONE) return;  // still used, or we cannot tell: keep it
    std::lock_guard lock(files_mu_);
    files_.erase(segment);  // readers holding it keep the descriptor until they are done
    std::error_code ec;
    std::filesystem::remove(dir_ / segment_name(segment), ec);
}

void SegmentBlobStore::sync_written_segments() {
    std::vector<std::uint64_t> written;
    {
        std::lock_guard lock(append_mu_);
        written.swap(written_since_sync_);
    }
    for (std::uint64_t segment : written) {
        // A failed sync is left to the kernel's own writeback; the checksum covers what it loses.
        if (auto f = file(segment); f && *f) (void)(*f)->sync();
    }
}

}  // namespace facefuse::storage

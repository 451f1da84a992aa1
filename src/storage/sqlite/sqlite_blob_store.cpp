#include "storage/sqlite/sqlite_blob_store.hpp"

#include <sqlite3.h>

#include <array>
#include <cstring>
#include <string>

#include "storage/sqlite/sqlite_error.hpp"
#include "storage/sqlite/sqlite_statements.hpp"

namespace facefuse::storage {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS blobs (
    key          TEXT PRIMARY KEY NOT NULL,
    content_type TEXT NOT NULL,
    bytes        BLOB NOT NULL
);
)sql";

enum Statement { kPut, kGet, kRemove, kExists };

constexpr std::array<const char*, 4> kSql = {
    "INSERT INTO blobs(key, content_type, bytes) VALUES(?1, ?2, ?3) "
    "ON CONFLICT(key) DO UPDATE SET content_type = excluded.content_type, bytes = excluded.bytes",
    "SELECT bytes FROM blobs WHERE key = ?1",
    "DELETE FROM blobs WHERE key = ?1",
    "SELECT 1 FROM blobs WHERE key = ?1",
};

}  // namespace

Result<std::shared_ptr<SqliteBlobStore>> SqliteBlobStore::open(const std::filesystem::path& file,
                                                               int reader_connections) {
    auto store = std::make_shared<SqliteBlobStore>(Token{});
    store->path_ = file;
    auto connect = [&](bool writer) {
        // page_size (only takes effect on a new file, so it comes first): SQLite writes the log a
        // page per call, and a blob occupies whole pages -- its row's leaf page, its overflow
        // pages and the key index's page. Measured with 81 KB images: 4 KiB pages cost ~25
        // writes a put; 64 KiB pages ~4, but the put then logs ~256 KB (three times the image)
        // and the checkpoint copies it again; 16 KiB pages (~8 writes, ~130 KB) did best. WAL:
        // readers do not block the writer nor it them. NORMAL: see the header.
        // journal_size_limit trims the log after a burst.
        const char* setup =
            writer ? "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA journal_size_limit=67108864; PRAGMA wal_autocheckpoint=0;"
                   : "PRAGMA synchronous=NORMAL;";
        return StatementConn::open(file, setup, writer ? kSchema : nullptr, kSql);
    };
    // The writer first: it switches the file to WAL and creates the table the readers prepare
    // statements against.
    auto writer = connect(true);
    if (!writer) return writer.error();
    store->writer_ = std::move(writer.value());
    // Checkpoints run in the background, not inside a put (wal_checkpointer.hpp).
    auto checkpointer = WalCheckpointer::start(file);
    if (!checkpointer) return checkpointer.error();
    store->checkpointer_ = std::move(checkpointer.value());
    store->checkpointer_->watch(store->writer_->db(), 256);  // 256 x 16 KiB: 4 MiB of log
    for (int i = 0; i < std::max(1, reader_connections); ++i) {
        auto reader = connect(false);
        if (!reader) return reader.error();
        store->readers_.push_back(std::move(reader.value()));
    }
    return store;
}

SqliteBlobStore::SqliteBlobStore(Token) {}
SqliteBlobStore::~SqliteBlobStore() = default;

StatementConn& SqliteBlobStore::reader() {
    return *readers_[next_reader_.fetch_add(1, std::memory_order_relaxed) % readers_.size()];
}

Status SqliteBlobStore::put(const std::string& key, std::span<const std::uint8_t> bytes,
                            std::string_view content_type) {
    if (!valid_blob_key(key)) return invalid_blob_key(key);
    std::lock_guard lock(writer_->mu);
    auto borrowed = writer_->borrow(kPut);
    sqlite3_stmt* s = borrowed.stmt;
    sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_text(s, 2, content_type.data(), static_cast<int>(content_type.size()),
                      SQLITE_STATIC);
    // A zero-length blob must still be a blob, not NULL (NOT NULL column): bind64 with a
    // non-null pointer does that.
    static constexpr std::uint8_t kNothing = 0;
    sqlite3_bind_blob64(s, 3, bytes.empty() ? &kNothing : bytes.data(), bytes.size(),
                        SQLITE_STATIC);
    if (int rc = sqlite3_step(s); rc != SQLITE_DONE)
        return sqlite_store_error(rc, writer_->db(), path_, "store " + key);
    return Status::Ok();
}

Result<std::vector<std::uint8_t>> SqliteBlobStore::get(const std::string& key) {
    if (!valid_blob_key(key)) return invalid_blob_key(key);
    StatementConn& conn = reader();
    std::lock_guard lock(conn.mu);
    auto borrowed = conn.borrow(kGet);
    sqlite3_stmt* s = borrowed.stmt;
    sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
        return make_error(ErrorCode::kNotFound, "blob store: no object at key \"" + key + "\".");
    if (rc != SQLITE_ROW) return sqlite_store_error(rc, conn.db(), path_, "read " + key);
    const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 0));
    const int size = sqlite3_column_bytes(s, 0);
    if (data == nullptr || size <= 0) return std::vector<std::uint8_t>{};
    return std::vector<std::uint8_t>(data, data + size);
}

Status SqliteBlobStore::remove(const std::string& key) {
    if (!valid_blob_key(key)) return invalid_blob_key(key);
    std::lock_guard lock(writer_->mu);
    auto borrowed = writer_->borrow(kRemove);
    sqlite3_bind_text(borrowed.stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    if (int rc = sqlite3_step(borrowed.stmt); rc != SQLITE_DONE)
        return sqlite_store_error(rc, writer_->db(), path_, "remove " + key);
    return Status::Ok();
}

Result<bool> SqliteBlobStore::exists(const std::string& key) {
    if (!valid_blob_key(key)) return invalid_blob_key(key);
    StatementConn& conn = reader();
    std::lock_guard lock(conn.mu);
    auto borrowed = conn.borrow(kExists);
    sqlite3_bind_text(borrowed.stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(borrowed.stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_store_error(rc, conn.db(), path_, "look up " + key);
}

}  // namespace facefuse::storage

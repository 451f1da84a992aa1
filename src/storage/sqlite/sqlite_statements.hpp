#pragma once
// StatementConn: one SQLite connection of a blob store with its prepared statements. Both
// SQLite-backed blob stores (sqlite/: the images themselves; segments/: their index) keep one
// writer and a few readers of these; a connection serves one thread at a time (`mu`).
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "common/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace facefuse::storage {

class StatementConn {
  public:
    // Opens `file` (creating it) with facefuse's VFS (sqlite_vfs.hpp), runs `setup` (PRAGMAs)
    // and then `schema` if not null, and prepares `sql` in order: borrow(i) is sql[i].
    // kUnavailable/kInternal naming the file and what failed (sqlite_error.hpp).
    static Result<std::unique_ptr<StatementConn>> open(const std::filesystem::path& file,
                                                       const char* setup, const char* schema,
                                                       std::span<const char* const> sql);
    ~StatementConn();
    StatementConn(const StatementConn&) = delete;
    StatementConn& operator=(const StatementConn&) = delete;

    // Resets and clears the statement when the caller's scope ends, whatever the path out.
    struct Borrowed {
        sqlite3_stmt* stmt;
        ~Borrowed();
    };
    Borrowed borrow(std::size_t which) { return Borrowed{statements_[which]}; }
    // Steps statement `which` once (no bindings) and resets it: for BEGIN, COMMIT, ROLLBACK.
    int run(std::size_t which);

    sqlite3* db() const { return db_; }
    std::mutex mu;

    struct Token {};  // only open() constructs
    explicit StatementConn(Token) {}

  private:
    sqlite3* db_ = nullptr;
    std::vector<sqlite3_stmt*> statements_;
};

// Blob keys: non-empty, no NUL (callers build them with blob_key()).
bool valid_blob_key(const std::string& key);
Error invalid_blob_key(const std::string& key);

}  // namespace facefuse::storage

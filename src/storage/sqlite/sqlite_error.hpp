#pragma once
// A failed SQLite call on one of the blob stores' files, as a facefuse Error.
//
// Full disk, I/O errors, a lock held too long and memory may pass, so they are kUnavailable
// (callers may retry); anything else is kInternal. The message names the file, what could not
// be done and SQLite's reason, and says what to check.
#include <filesystem>
#include <string_view>

#include "common/result.hpp"

struct sqlite3;

namespace facefuse::storage {

Error sqlite_store_error(int rc, sqlite3* db, const std::filesystem::path& path,
                         std::string_view what);

}  // namespace facefuse::storage

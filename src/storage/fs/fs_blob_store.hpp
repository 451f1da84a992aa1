#pragma once
// FsBlobStore: blobs as files under a root directory, key "a/b/c.png" -> "<root>/a/b/c.png".
//
// For a single machine (the CLI, tests, a one-node service). put() writes a temporary file in
// the destination directory, fsyncs it and renames it over the key, so a reader sees the old or
// the new file, never a partial one, and a crash leaves at worst a stray temporary file, never a
// torn blob. Every operation is one POSIX call on one path, so no lock is needed: concurrent
// puts of one key each write their own temporary file and the last rename wins.
//
// Keys must be relative paths of non-empty segments without "." or ".." (callers build them
// with blob_key()); anything else is rejected with kInternal, since it would mean a bug that
// could otherwise read or write outside the root. Directories made by put() are left in place
// by remove(): pruning them would race with a concurrent put into the same directory.
#include <filesystem>

#include "storage/blob_store.hpp"

namespace facefuse::storage {

class FsBlobStore final : public BlobStore {
  public:
    // `root` need not exist yet: put() creates it and any parent directories of a key.
    explicit FsBlobStore(std::filesystem::path root);

    Status put(const std::string& key, std::span<const std::uint8_t> bytes,
               std::string_view content_type) override;
    Result<std::vector<std::uint8_t>> get(const std::string& key) override;
    Status remove(const std::string& key) override;
    Result<bool> exists(const std::string& key) override;

    const std::filesystem::path& root() const { return root_; }

  private:
    // The file for `key`, or kInternal if the key is not a safe relative path.
    Result<std::filesystem::path> path_for(const std::string& key) const;

    std::filesystem::path root_;
};

}  // namespace facefuse::storage

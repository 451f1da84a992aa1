#include "cli/embedded_blob_store.hpp"

#include <algorithm>
#include <vector>

#include "storage/fs/fs_blob_store.hpp"
#include "storage/segments/segment_blob_store.hpp"
#include "storage/sqlite/sqlite_blob_store.hpp"

namespace facefuse::cli {
namespace {

// The kinds whose files are already in `data_dir`.
std::vector<std::string> kinds_present(const std::filesystem::path& data_dir) {
    std::error_code ec;
    std::vector<std::string> kinds;
    if (std::filesystem::exists(data_dir / "segments" / "index.db", ec))
        kinds.emplace_back("segments");
    if (std::filesystem::exists(data_dir / "blobs.db", ec)) kinds.emplace_back("sqlite");
    if (std::filesystem::is_directory(data_dir / "blobs", ec)) kinds.emplace_back("files");
    return kinds;
}

std::string joined(const std::vector<std::string>& kinds) {
    std::string out;
    for (const auto& kind : kinds) out += (out.empty() ? "" : ", ") + kind;
    return out;
}

}  // namespace

Result<EmbeddedBlobStore> open_embedded_blob_store(const std::string& requested,
                                                   const std::filesystem::path& data_dir) {
    const std::vector<std::string> present = kinds_present(data_dir);
    std::string kind = requested;
    if (requested == "auto") {
        if (present.size() > 1)
            return make_error(ErrorCode::kUsage,
                              "--data-dir " + data_dir.string() +
                                  " holds images in several blob stores (" + joined(present) +
                                  "); name the one its tasks use with --blob-store.");
        kind = present.empty() ? "segments" : present.front();
    } else if (!present.empty() &&
               std::find(present.begin(), present.end(), requested) == present.end()) {
        return make_error(
            ErrorCode::kUsage,
            "--blob-store " + requested + ": --data-dir " + data_dir.string() +
                " already keeps its images in the " + joined(present) +
                " store, which its tasks point to. Start with --blob-store auto (or " +
                present.front() + "), or give a new --data-dir.");
    }
    if (kind == "files")
        return EmbeddedBlobStore{kind, std::make_shared<storage::FsBlobStore>(data_dir / "blobs")};
    if (kind == "sqlite") {
        auto opened = storage::SqliteBlobStore::open(data_dir / "blobs.db");
        if (!opened) return opened.error();
        return EmbeddedBlobStore{kind, std::move(opened.value())};
    }
    if (kind == "segments") {
        auto opened = storage::SegmentBlobStore::open(data_dir / "segments");
        if (!opened) return opened.error();
        return EmbeddedBlobStore{kind, std::move(opened.value())};
    }
    return make_error(
        ErrorCode::kUsage,
        "--blob-store " + requested + ": not a blob store; use auto, segments, sqlite or files.");
}

}  // namespace facefuse::cli

#pragma once
// The blob store `facefuse serve` keeps its images in, inside --data-dir.
//
// Three kinds: "segments" (the default for a new directory: images appended to segment files,
// storage/segments), "sqlite" (one SQLite file, blobs.db: the default before segments) and
// "files" (a file per image under blobs/). A directory that already holds images keeps its
// kind: "auto" picks it, and naming another kind is refused, since the tasks already stored
// would then point at images the new store does not have.
#include <filesystem>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "storage/blob_store.hpp"

namespace facefuse::cli {

struct EmbeddedBlobStore {
    std::string kind;  // what was opened: "segments", "sqlite" or "files"
    std::shared_ptr<storage::BlobStore> store;
};

// `requested`: "auto", "segments", "sqlite" or "files". kUsage when it conflicts with what
// the directory holds; the store's own error when it cannot be opened.
Result<EmbeddedBlobStore> open_embedded_blob_store(const std::string& requested,
                                                   const std::filesystem::path& data_dir);

}  // namespace facefuse::cli

// Which blob store `serve` opens in its data directory (cli/embedded_blob_store.hpp): a new
// directory gets segments, one that holds images keeps its kind, and a conflicting choice is
// refused before anything is written.
#include "cli/embedded_blob_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "storage/sqlite/sqlite_blob_store.hpp"
#include "support/test_support.hpp"

namespace facefuse::cli {
namespace {

const std::vector<std::uint8_t> kBytes = {1, 2, 3, 4, 5};

TEST(EmbeddedBlobStore, ANewDirectoryGetsSegments) {
    test::TempDir tmp;
    auto opened = open_embedded_blob_store("auto", tmp.path());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_EQ(opened->kind, "segments");
    ASSERT_TRUE(opened->store->put("k", kBytes, "x").ok());
    EXPECT_TRUE(std::filesystem::exists(tmp / "segments" / "index.db"));
    EXPECT_FALSE(std::filesystem::exists(tmp / "blobs.db"));
}

// A directory from before segments keeps its SQLite file, and its images stay readable.
TEST(EmbeddedBlobStore, ADirectoryWithImagesKeepsItsKind) {
    test::TempDir tmp;
    {
        auto old = storage::SqliteBlobStore::open(tmp / "blobs.db");
        ASSERT_TRUE(old.ok()) << old.error().message;
        ASSERT_TRUE((*old)->put("k", kBytes, "x").ok());
    }
    for (const std::string requested : {"auto", "sqlite"}) {
        auto opened = open_embedded_blob_store(requested, tmp.path());
        ASSERT_TRUE(opened.ok()) << opened.error().message;
        EXPECT_EQ(opened->kind, "sqlite");
        auto got = opened->store->get("k");
        ASSERT_TRUE(got.ok()) << got.error().message;
        EXPECT_EQ(*got, kBytes);
    }
    EXPECT_FALSE(std::filesystem::exists(tmp / "segments"));
}

TEST(EmbeddedBlobStore, AnotherKindThanTheDirectoryHoldsIsRefused) {
    test::TempDir tmp;
    ASSERT_TRUE(open_embedded_blob_store("files", tmp.path()).ok());
    std::filesystem::create_directories(tmp /
                                        "blobs");  // the files store makes it on its first put
    auto refused = open_embedded_blob_store("segments", tmp.path());
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kUsage);
    EXPECT_NE(refused.error().message.find("--blob-store auto (or files)"), std::string::npos)
        << refused.error().message;
    EXPECT_FALSE(std::filesystem::exists(tmp / "segments")) << "refused before creating anything";

    // Two kinds at once (made by hand, or by an older version that allowed switching): auto
    // cannot guess which one the tasks use.
    ASSERT_TRUE(open_embedded_blob_store("auto", tmp.path()).ok());
    ASSERT_TRUE(storage::SqliteBlobStore::open(tmp / "blobs.db").ok());
    auto ambiguous = open_embedded_blob_store("auto", tmp.path());
    ASSERT_FALSE(ambiguous.ok());
    EXPECT_NE(ambiguous.error().message.find("several blob stores (sqlite, files)"),
              std::string::npos)
        << ambiguous.error().message;
}

}  // namespace
}  // namespace facefuse::cli

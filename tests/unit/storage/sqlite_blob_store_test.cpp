// What only the SQLite-file blob store does; the promises every store keeps are checked in
// blob_store_contract_test.cpp.
#include "storage/sqlite/sqlite_blob_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace facefuse::storage {
namespace {

TEST(SqliteBlobStore, UnopenableFileFailsWithAClearMessage) {
    test::TempDir tmp;
    auto store = SqliteBlobStore::open(tmp / "no" / "such" / "dir" / "blobs.db");
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.error().message.find("blobs.db"), std::string::npos) << store.error().message;
}

TEST(SqliteBlobStore, AFileThatIsNotADatabaseGivesAnErrorNotACrash) {
    test::TempDir tmp;
    {
        std::FILE* junk = std::fopen((tmp / "blobs.db").c_str(), "wb");
        ASSERT_NE(junk, nullptr);
        for (int i = 0; i < 100; ++i)
            std::fputs("this is not a SQLite database, only text. ", junk);
        std::fclose(junk);
    }
    auto store = SqliteBlobStore::open(tmp / "blobs.db");
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.error().message.find("blobs.db"), std::string::npos) << store.error().message;
}

}  // namespace
}  // namespace facefuse::storage

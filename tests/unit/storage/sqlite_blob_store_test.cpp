#include "storage/sqlite/sqlite_blob_store.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace facefuse::storage {
namespace {

std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t seed) {
    std::vector<std::uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(seed + i * 31);
    return bytes;
}

std::shared_ptr<SqliteBlobStore> open_store(const std::filesystem::path& file) {
    auto store = SqliteBlobStore::open(file);
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return store.ok() ? *store : nullptr;
}

TEST(SqliteBlobStore, RoundTripsBinaryDataOfManySizes) {
    test::TempDir tmp;
    auto store = open_store(tmp / "blobs.db");
    ASSERT_TRUE(store);
    // Around the 64 KiB page size and well past it (overflow pages).
    for (std::size_t size : {std::size_t{1}, std::size_t{65535}, std::size_t{65536}, std::size_t{65537},
                             std::size_t{3u << 20}}) {
        const std::string key = blob_key("acme", "t" + std::to_string(size), "target", "png");
        const auto bytes = pattern(size, static_cast<std::uint8_t>(size));
        ASSERT_TRUE(store->put(key, bytes, "image/png").ok());
        auto got = store->get(key);
        ASSERT_TRUE(got.ok()) << got.error().message;
        EXPECT_EQ(*got, bytes) << size;
        EXPECT_TRUE(*store->exists(key));
    }
}

TEST(SqliteBlobStore, EmptyBlobIsAnObject) {
    test::TempDir tmp;
    auto store = open_store(tmp / "blobs.db");
    ASSERT_TRUE(store->put("a/empty", {}, "").ok());
    auto got = store->get("a/empty");
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_TRUE(got->empty());
    EXPECT_TRUE(*store->exists("a/empty"));
}

TEST(SqliteBlobStore, MissingKeyIsNotFoundAndRemoveIsIdempotent) {
    test::TempDir tmp;
    auto store = open_store(tmp / "blobs.db");
    auto missing = store->get("no/such/key");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
    EXPECT_FALSE(*store->exists("no/such/key"));
    EXPECT_TRUE(store->remove("no/such/key").ok());

    ASSERT_TRUE(store->put("k", pattern(10, 1), "x").ok());
    EXPECT_TRUE(store->remove("k").ok());
    EXPECT_FALSE(*store->exists("k"));
    EXPECT_EQ(store->get("k").error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(store->remove("k").ok());
}

TEST(SqliteBlobStore, OverwriteReplaces) {
    test::TempDir tmp;
    auto store = open_store(tmp / "blobs.db");
    ASSERT_TRUE(store->put("k", pattern(200000, 1), "a").ok());
    ASSERT_TRUE(store->put("k", pattern(5, 2), "b").ok());
    EXPECT_EQ(*store->get("k"), pattern(5, 2));
}

TEST(SqliteBlobStore, InvalidKeysAreRefused) {
    test::TempDir tmp;
    auto store = open_store(tmp / "blobs.db");
    const std::string with_nul("a\0b", 3);
    for (const std::string& key : {std::string(), with_nul}) {
        EXPECT_EQ(store->put(key, pattern(3, 0), "").error().code, ErrorCode::kInternal);
        EXPECT_EQ(store->get(key).error().code, ErrorCode::kInternal);
    }
}

TEST(SqliteBlobStore, SurvivesReopening) {
    test::TempDir tmp;
    {
        auto store = open_store(tmp / "blobs.db");
        ASSERT_TRUE(store->put("kept", pattern(100000, 7), "image/jpeg").ok());
    }
    auto again = open_store(tmp / "blobs.db");
    ASSERT_TRUE(again);
    EXPECT_EQ(*again->get("kept"), pattern(100000, 7));
}

TEST(SqliteBlobStore, ConcurrentWritersAndReaders) {
    test::TempDir tmp;
    auto store = open_store(tmp / "blobs.db");
    constexpr int kThreads = 8, kPerThread = 40;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                const std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
                const auto bytes = pattern(1000 + static_cast<std::size_t>(i) * 997, static_cast<std::uint8_t>(t));
                if (!store->put(key, bytes, "x").ok()) ++failures;
                auto got = store->get(key);
                if (!got.ok() || *got != bytes) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
}

// A reader racing a writer that alternates two contents of one key sees one or the other whole.
TEST(SqliteBlobStore, ReadersNeverSeeAPartialOverwrite) {
    test::TempDir tmp;
    auto store = open_store(tmp / "blobs.db");
    const auto a = pattern(300000, 1), b = pattern(120000, 2);
    ASSERT_TRUE(store->put("k", a, "x").ok());
    std::atomic<bool> stop{false};
    std::atomic<int> torn{0}, reads{0};
    std::thread reader([&] {
        while (!stop) {
            auto got = store->get("k");
            if (!got.ok() || (*got != a && *got != b)) ++torn;
            ++reads;
        }
    });
    for (int i = 0; i < 60; ++i) ASSERT_TRUE(store->put("k", i % 2 ? a : b, "x").ok());
    // Let the reader finish at least one read after the last write before stopping it.
    const int seen = reads.load();
    while (reads.load() < seen + 2) std::this_thread::yield();
    stop = true;
    reader.join();
    EXPECT_EQ(torn.load(), 0);
}

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
        for (int i = 0; i < 100; ++i) std::fputs("this is not a SQLite database, only text. ", junk);
        std::fclose(junk);
    }
    auto store = SqliteBlobStore::open(tmp / "blobs.db");
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.error().message.find("blobs.db"), std::string::npos) << store.error().message;
}

}  // namespace
}  // namespace facefuse::storage

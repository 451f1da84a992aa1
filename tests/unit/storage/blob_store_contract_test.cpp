// What every local BlobStore promises (storage/blob_store.hpp), checked on each of them: the
// SQLite file and the segment files. Their own matters (files, pages, segments, damage) are in
// their own test files.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "storage/segments/segment_blob_store.hpp"
#include "storage/sqlite/sqlite_blob_store.hpp"
#include "support/test_support.hpp"
#include "unit/storage/byte_pattern.hpp"

namespace facefuse::storage {
namespace {

using test_bytes::pattern;

struct SqliteFile {
    static Result<std::shared_ptr<SqliteBlobStore>> open(const std::filesystem::path& dir) {
        return SqliteBlobStore::open(dir / "blobs.db");
    }
    static void check_space_after_removing_everything(const std::filesystem::path&) {
    }  // SQLite's free list
};

struct Segments {
    // Small segments: the tests below also start new ones and delete emptied ones.
    static Result<std::shared_ptr<SegmentBlobStore>> open(const std::filesystem::path& dir) {
        SegmentBlobStore::Options options;
        options.segment_bytes = 1 << 20;
        return SegmentBlobStore::open(dir / "segments", options);
    }
    // Every sealed segment emptied and went; only the one being written stays.
    static void check_space_after_removing_everything(const std::filesystem::path& dir) {
        int segments = 0;
        for (const auto& entry : std::filesystem::directory_iterator(dir / "segments"))
            segments += entry.path().extension() == ".seg" ? 1 : 0;
        EXPECT_EQ(segments, 1);
    }
};

template <typename Kind>
class BlobStoreContract : public ::testing::Test {
  protected:
    std::shared_ptr<BlobStore> open() {
        auto store = Kind::open(tmp_.path());
        EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
        return store.ok() ? std::shared_ptr<BlobStore>(*store) : nullptr;
    }
    test::TempDir tmp_;
};

using Kinds = ::testing::Types<SqliteFile, Segments>;
TYPED_TEST_SUITE(BlobStoreContract, Kinds);

TYPED_TEST(BlobStoreContract, RoundTripsBinaryDataOfManySizes) {
    auto store = this->open();
    ASSERT_TRUE(store);
    // Around 4 KiB (segment alignment) and 64 KiB (page sizes), and far past both.
    for (std::size_t size :
         {std::size_t{1}, std::size_t{4095}, std::size_t{4097}, std::size_t{65535},
          std::size_t{65537}, std::size_t{81046}, std::size_t{3u << 20}}) {
        const std::string key = blob_key("acme", "t" + std::to_string(size), "target", "png");
        const auto bytes = pattern(size, static_cast<std::uint8_t>(size));
        ASSERT_TRUE(store->put(key, bytes, "image/png").ok());
        auto got = store->get(key);
        ASSERT_TRUE(got.ok()) << got.error().message;
        EXPECT_EQ(*got, bytes) << size;
        EXPECT_TRUE(*store->exists(key));
    }
}

TYPED_TEST(BlobStoreContract, EmptyBlobIsAnObject) {
    auto store = this->open();
    ASSERT_TRUE(store->put("a/empty", {}, "").ok());
    auto got = store->get("a/empty");
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_TRUE(got->empty());
    EXPECT_TRUE(*store->exists("a/empty"));
}

TYPED_TEST(BlobStoreContract, MissingKeyIsNotFoundAndRemoveIsIdempotent) {
    auto store = this->open();
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

TYPED_TEST(BlobStoreContract, OverwriteReplaces) {
    auto store = this->open();
    ASSERT_TRUE(store->put("k", pattern(200000, 1), "a").ok());
    ASSERT_TRUE(store->put("k", pattern(5, 2), "b").ok());
    EXPECT_EQ(*store->get("k"), pattern(5, 2));
}

TYPED_TEST(BlobStoreContract, InvalidKeysAreRefused) {
    auto store = this->open();
    const std::string with_nul("a\0b", 3);
    for (const std::string& key : {std::string(), with_nul}) {
        EXPECT_EQ(store->put(key, pattern(3, 0), "").error().code, ErrorCode::kInternal);
        EXPECT_EQ(store->get(key).error().code, ErrorCode::kInternal);
        EXPECT_EQ(store->remove(key).error().code, ErrorCode::kInternal);
    }
}

TYPED_TEST(BlobStoreContract, SurvivesReopening) {
    {
        auto store = this->open();
        ASSERT_TRUE(store->put("kept", pattern(100000, 7), "image/jpeg").ok());
    }
    auto again = this->open();
    ASSERT_TRUE(again);
    EXPECT_EQ(*again->get("kept"), pattern(100000, 7));
}

// Puts, gets and removes from many threads (with small segments: new ones start and emptied
// ones go meanwhile): every thread reads back what it wrote, and what is left is exactly what
// was not removed.
TYPED_TEST(BlobStoreContract, ConcurrentPutsGetsAndRemoves) {
    auto store = this->open();
    constexpr int kThreads = 8, kPerThread = 60;
    auto key_of = [](int t, int i) { return "t" + std::to_string(t) + "/" + std::to_string(i); };
    auto bytes_of = [](int t, int i) {
        return pattern(1000 + static_cast<std::size_t>(i) * 997, static_cast<std::uint8_t>(t));
    };
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                if (!store->put(key_of(t, i), bytes_of(t, i), "x").ok()) ++failures;
                auto got = store->get(key_of(t, i));
                if (!got.ok() || *got != bytes_of(t, i)) ++failures;
                if (i % 2 == 1 && !store->remove(key_of(t, i)).ok())
                    ++failures;  // every other one goes at once
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    for (int t = 0; t < kThreads; ++t) {
        for (int i = 0; i < kPerThread; ++i) {
            auto got = store->get(key_of(t, i));
            if (i % 2 == 1) {
                EXPECT_FALSE(got.ok()) << key_of(t, i);
            } else {
                ASSERT_TRUE(got.ok()) << key_of(t, i) << ": " << got.error().message;
                EXPECT_EQ(*got, bytes_of(t, i));
            }
        }
    }
    for (int t = 0; t < kThreads; ++t)
        for (int i = 0; i < kPerThread; i += 2) ASSERT_TRUE(store->remove(key_of(t, i)).ok());
    TypeParam::check_space_after_removing_everything(this->tmp_.path());
}

// A reader racing a writer that alternates two contents of one key sees one or the other whole.
TYPED_TEST(BlobStoreContract, ReadersNeverSeeAPartialOverwrite) {
    auto store = this->open();
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

}  // namespace
}  // namespace facefuse::storage

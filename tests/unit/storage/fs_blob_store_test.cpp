#include "storage/fs/fs_blob_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace facefuse::storage {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> all_byte_values(std::size_t repeat = 1) {
    std::vector<std::uint8_t> bytes;
    for (std::size_t r = 0; r < repeat; ++r) {
        for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<std::uint8_t>(i));
    }
    return bytes;
}

// Every regular file under `dir`, relative to it.
std::vector<std::string> files_under(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST(FsBlobStore, RoundTripsBinaryDataAndCreatesDirectories) {
    test::TempDir tmp;
    FsBlobStore store(tmp / "root" / "not-yet");  // the root itself does not exist yet
    const std::string key = blob_key("acme", "t1", "source", "png");
    const auto bytes = all_byte_values(10);
    ASSERT_TRUE(store.put(key, bytes, "image/png").ok());
    auto got = store.get(key);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, bytes);
    EXPECT_TRUE(fs::is_regular_file(tmp / "root" / "not-yet" / key));
    auto exists = store.exists(key);
    ASSERT_TRUE(exists.ok());
    EXPECT_TRUE(*exists);
}

TEST(FsBlobStore, EmptyBlobIsAnObject) {
    test::TempDir tmp;
    FsBlobStore store(tmp.path());
    ASSERT_TRUE(store.put("a/empty", {}, "").ok());
    auto got = store.get("a/empty");
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(got->empty());
    EXPECT_TRUE(*store.exists("a/empty"));
}

TEST(FsBlobStore, MissingKeyIsNotFound) {
    test::TempDir tmp;
    FsBlobStore store(tmp.path());
    auto got = store.get("tenants/x/tasks/y/result.png");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
    auto exists = store.exists("tenants/x/tasks/y/result.png");
    ASSERT_TRUE(exists.ok());
    EXPECT_FALSE(*exists);
}

TEST(FsBlobStore, ADirectoryIsNotAnObject) {
    test::TempDir tmp;
    FsBlobStore store(tmp.path());
    ASSERT_TRUE(store.put("a/b/c", all_byte_values(), "").ok());
    EXPECT_EQ(store.get("a/b").error().code, ErrorCode::kNotFound);
    EXPECT_FALSE(*store.exists("a/b"));
    EXPECT_TRUE(store.remove("a/b").ok());
    EXPECT_TRUE(*store.exists("a/b/c"));
    // A key below an existing object: the "directory" is a file.
    EXPECT_EQ(store.get("a/b/c/d").error().code, ErrorCode::kNotFound);
    EXPECT_FALSE(*store.exists("a/b/c/d"));
}

TEST(FsBlobStore, RemoveIsIdempotent) {
    test::TempDir tmp;
    FsBlobStore store(tmp.path());
    ASSERT_TRUE(store.put("k", all_byte_values(), "").ok());
    EXPECT_TRUE(store.remove("k").ok());
    EXPECT_FALSE(*store.exists("k"));
    EXPECT_EQ(store.get("k").error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(store.remove("k").ok());
    EXPECT_TRUE(store.remove("never/was/there").ok());
}

TEST(FsBlobStore, OverwriteReplacesAndLeavesNoTemporaryFiles) {
    test::TempDir tmp;
    FsBlobStore store(tmp.path());
    const std::string key = blob_key("acme", "t1", "result", "png");
    for (int i = 0; i < 20; ++i) {
        std::vector<std::uint8_t> bytes(1000 + i, static_cast<std::uint8_t>(i));
        ASSERT_TRUE(store.put(key, bytes, "image/png").ok());
        EXPECT_EQ(*store.get(key), bytes);
    }
    EXPECT_EQ(files_under(tmp.path()), std::vector<std::string>{key});
}

TEST(FsBlobStore, RejectsKeysThatAreNotSafeRelativePaths) {
    test::TempDir tmp;
    FsBlobStore store(tmp / "root");
    const std::vector<std::string> bad = {
        "",   "/etc/passwd", "../outside", "a/../../outside",     "a/..", "..", "a//b",
        "a/", "./a",         "a/./b",      std::string("a\0b", 3)};
    const auto bytes = all_byte_values();
    for (const auto& key : bad) {
        SCOPED_TRACE("key \"" + key + "\"");
        const Status put = store.put(key, bytes, "");
        ASSERT_FALSE(put.ok());
        EXPECT_EQ(put.error().code, ErrorCode::kInternal);
        EXPECT_EQ(store.get(key).error().code, ErrorCode::kInternal);
        EXPECT_EQ(store.exists(key).error().code, ErrorCode::kInternal);
        EXPECT_EQ(store.remove(key).error().code, ErrorCode::kInternal);
    }
    EXPECT_FALSE(fs::exists(tmp / "outside"));
    EXPECT_FALSE(fs::exists(tmp / "root"));  // nothing was written anywhere
}

TEST(FsBlobStore, KeysWithSpacesAndUnicodeAreFineOnDisk) {
    test::TempDir tmp;
    FsBlobStore store(tmp.path());
    const std::string key = "tenants/a b/tasks/日本語/résumé ✓.png";
    ASSERT_TRUE(store.put(key, all_byte_values(), "").ok());
    EXPECT_EQ(*store.get(key), all_byte_values());
}

TEST(FsBlobStore, ConcurrentPutsOfDistinctKeys) {
    test::TempDir tmp;
    FsBlobStore store(tmp.path());
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) {
                const std::string key =
                    blob_key("acme", std::to_string(t), std::to_string(i), "bin");
                std::vector<std::uint8_t> bytes(100 + i, static_cast<std::uint8_t>(t));
                if (!store.put(key, bytes, "").ok() || *store.get(key) != bytes) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(files_under(tmp.path()).size(), 8u * 20u);
}

TEST(FsBlobStore, ReadersNeverSeeAPartialOverwrite) {
    test::TempDir tmp;
    FsBlobStore store(tmp.path());
    const std::vector<std::uint8_t> a(1 << 20, 'a'), b(3 << 19, 'b');
    ASSERT_TRUE(store.put("k", a, "").ok());
    std::atomic<bool> done{false};
    std::atomic<int> torn{0}, reads{0};
    std::thread writer([&] {
        for (int i = 0; i < 60; ++i) (void)store.put("k", i % 2 ? a : b, "");
        done = true;
    });
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) {
        readers.emplace_back([&] {
            while (!done) {
                auto got = store.get("k");
                ++reads;
                if (!got.ok() || (*got != a && *got != b)) ++torn;
            }
        });
    }
    writer.join();
    for (auto& th : readers) th.join();
    EXPECT_EQ(torn.load(), 0) << "of " << reads.load() << " reads";
    EXPECT_EQ(files_under(tmp.path()), std::vector<std::string>{"k"});
}

TEST(FsBlobStore, UnwritableRootFailsWithoutLeavingFiles) {
    test::TempDir tmp;
    { std::ofstream(tmp / "file") << "x"; }
    FsBlobStore store(tmp / "file" / "root");  // a path below a regular file
    const Status put = store.put("k", all_byte_values(), "");
    ASSERT_FALSE(put.ok());
    EXPECT_EQ(put.error().code, ErrorCode::kInternal);
    EXPECT_NE(put.error().message.find("file/root"), std::string::npos) << put.error().message;
}

}  // namespace
}  // namespace facefuse::storage

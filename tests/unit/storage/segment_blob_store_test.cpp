// What only the segment blob store does (space, segments, damage); the promises every store keeps
// are checked in blob_store_contract_test.cpp.
#include "storage/segments/segment_blob_store.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "unit/storage/byte_pattern.hpp"

namespace facefuse::storage {
namespace {

using test_bytes::pattern;

std::shared_ptr<SegmentBlobStore> open_store(const std::filesystem::path& dir,
                                             std::uint64_t segment_bytes = 64ull << 20) {
    SegmentBlobStore::Options options;
    options.segment_bytes = segment_bytes;
    auto store = SegmentBlobStore::open(dir, options);
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return store.ok() ? *store : nullptr;
}

std::set<std::string> segment_files(const std::filesystem::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        if (entry.path().extension() == ".seg") names.insert(entry.path().filename().string());
    return names;
}

// Bytes the file system holds for the file (not its size: a punched hole holds none).
long long allocated_bytes(const std::filesystem::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return -1;
    return static_cast<long long>(st.st_blocks) * 512;
}

// Whether `dir`'s file system frees the blocks of a punched hole (ext4, xfs and tmpfs do).
bool can_punch_holes(const std::filesystem::path& dir) {
    const std::filesystem::path probe = dir / "probe";
    const int fd = ::open(probe.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    const std::vector<char> block(1 << 16, 'x');
    const bool ok = ::write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size()) &&
                    ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1 << 16) == 0;
    ::close(fd);
    std::filesystem::remove(probe);
    return ok;
}

// The point of the store: removing an image gives its disk space back, without waiting for
// the segment to empty.
TEST(SegmentBlobStore, OverwriteAndRemoveGiveTheDiskSpaceBack) {
    test::TempDir tmp;
    if (!can_punch_holes(tmp.path())) {
        std::cout << "SKIP: the file system under " << tmp.path()
                  << " cannot punch holes; the store keeps "
                  << "removed images' space until their segment is deleted there\n";
        GTEST_SKIP();
    }
    auto store = open_store(tmp / "segments");
    ASSERT_EQ(store->segment_paths().size(), 1u);
    const std::filesystem::path segment = store->segment_paths().front();
    ASSERT_TRUE(store->put("k", pattern(4u << 20, 1), "a").ok());
    const long long full = allocated_bytes(segment);
    EXPECT_GE(full, 4ll << 20);

    ASSERT_TRUE(store->put("k", pattern(5, 2), "b").ok());  // replaces: the 4 MiB are released
    EXPECT_EQ(*store->get("k"), pattern(5, 2));
    EXPECT_LT(allocated_bytes(segment), full - (3ll << 20));

    ASSERT_TRUE(store->put("big", pattern(4u << 20, 3), "a").ok());
    const long long again = allocated_bytes(segment);
    ASSERT_TRUE(store->remove("big").ok());
    EXPECT_LT(allocated_bytes(segment), again - (3ll << 20));
    EXPECT_EQ(*store->get("k"), pattern(5, 2));  // a neighbour's bytes are untouched
}

TEST(SegmentBlobStore, SegmentsRollOverAndEmptyOnesAreDeleted) {
    test::TempDir tmp;
    const auto dir = tmp / "segments";
    auto store = open_store(dir, 64 << 10);  // 64 KiB segments: two 40 KB images each at most
    std::vector<std::string> keys;
    for (int i = 0; i < 10; ++i) {
        keys.push_back("k" + std::to_string(i));
        ASSERT_TRUE(
            store->put(keys.back(), pattern(40000, static_cast<std::uint8_t>(i)), "x").ok());
    }
    EXPECT_GE(segment_files(dir).size(), 5u);
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(*store->get(keys[i]), pattern(40000, static_cast<std::uint8_t>(i)));

    // Remove all but the last image: every sealed segment empties and goes; the active stays.
    for (int i = 0; i < 9; ++i) ASSERT_TRUE(store->remove(keys[i]).ok());
    EXPECT_EQ(segment_files(dir).size(), 1u);
    EXPECT_EQ(store->segment_paths().size(), 1u);
    EXPECT_EQ(*store->get(keys[9]), pattern(40000, 9));
}

// Segments are opened when read and closed least recently used first: a long-running service
// has thousands, more than its descriptor limit.
TEST(SegmentBlobStore, KeepsOnlyAFewSegmentsOpen) {
    test::TempDir tmp;
    const auto dir = tmp / "segments";
    SegmentBlobStore::Options options;
    options.segment_bytes = 64 << 10;
    options.open_segments = 2;
    auto opened = SegmentBlobStore::open(dir, options);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    auto store = *opened;
    for (int i = 0; i < 20; ++i)
        ASSERT_TRUE(
            store->put("k" + std::to_string(i), pattern(40000, static_cast<std::uint8_t>(i)), "x")
                .ok());
    ASSERT_GE(segment_files(dir).size(), 10u);
    for (int round = 0; round < 2; ++round)
        for (int i = 0; i < 20; ++i)
            EXPECT_EQ(*store->get("k" + std::to_string(i)),
                      pattern(40000, static_cast<std::uint8_t>(i)));
    int open_segments = 0;
    for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        const auto target = std::filesystem::read_symlink(fd.path(), ec);
        if (!ec && target.parent_path() == dir && target.extension() == ".seg") ++open_segments;
    }
    // The two the store keeps, and the active one that puts write through.
    EXPECT_LE(open_segments, 3);
    EXPECT_GE(open_segments, 1);
}

TEST(SegmentBlobStore, SurvivesReopeningAndDropsSegmentsNothingPointsInto) {
    test::TempDir tmp;
    const auto dir = tmp / "segments";
    {
        auto store = open_store(dir);
        ASSERT_TRUE(store->put("kept", pattern(100000, 7), "image/jpeg").ok());
        ASSERT_TRUE(store->put("gone", pattern(1000, 8), "image/jpeg").ok());
        ASSERT_TRUE(store->remove("gone").ok());
    }
    // What a crash between a segment's creation and its first indexed image leaves.
    {
        std::FILE* stray = std::fopen((dir / "00000077.seg").c_str(), "wb");
        ASSERT_NE(stray, nullptr);
        std::fputs("x", stray);
        std::fclose(stray);
    }
    ASSERT_EQ(segment_files(dir), (std::set<std::string>{"00000001.seg", "00000077.seg"}));

    auto again = open_store(dir);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again->get("kept"), pattern(100000, 7));
    EXPECT_FALSE(*again->exists("gone"));
    // The segment with "kept" stays, the stray goes, and puts go to a new one after the newest.
    EXPECT_EQ(segment_files(dir), (std::set<std::string>{"00000001.seg", "00000078.seg"}));
    ASSERT_TRUE(again->put("new", pattern(10, 9), "x").ok());
    EXPECT_EQ(*again->get("new"), pattern(10, 9));
}

// Bytes that changed on disk (an OS crash that kept the index row but not the image) are an
// error, never wrong bytes handed to a worker.
TEST(SegmentBlobStore, DamagedBytesAreReportedNotReturned) {
    test::TempDir tmp;
    const auto dir = tmp / "segments";
    std::filesystem::path segment;
    {
        auto store = open_store(dir);
        ASSERT_TRUE(store->put("k", pattern(20000, 1), "x").ok());
        segment = store->segment_paths().front();
    }
    {
        std::FILE* f = std::fopen(segment.c_str(), "r+b");
        ASSERT_NE(f, nullptr);
        std::fseek(f, 10000, SEEK_SET);
        std::fputc(0, f);
        std::fclose(f);
    }
    auto again = open_store(dir);
    auto got = again->get("k");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::kInternal);
    EXPECT_NE(got.error().message.find("damaged"), std::string::npos) << got.error().message;
}

TEST(SegmentBlobStore, AnUnusableDirectoryFailsWithAClearMessage) {
    test::TempDir tmp;
    {
        std::FILE* f = std::fopen((tmp / "file").c_str(), "wb");
        ASSERT_NE(f, nullptr);
        std::fclose(f);
    }
    auto store = SegmentBlobStore::open(tmp / "file" / "segments");
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.error().message.find("segments"), std::string::npos) << store.error().message;
}

TEST(SegmentBlobStore, AnIndexThatIsNotADatabaseGivesAnErrorNotACrash) {
    test::TempDir tmp;
    std::filesystem::create_directories(tmp / "segments");
    {
        std::FILE* junk = std::fopen((tmp / "segments" / "index.db").c_str(), "wb");
        ASSERT_NE(junk, nullptr);
        for (int i = 0; i < 100; ++i)
            std::fputs("this is not a SQLite database, only text. ", junk);
        std::fclose(junk);
    }
    auto store = SegmentBlobStore::open(tmp / "segments");
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.error().message.find("index.db"), std::string::npos) << store.error().message;
}

}  // namespace
}  // namespace facefuse::storage

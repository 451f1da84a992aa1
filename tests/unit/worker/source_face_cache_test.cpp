// The worker's source face cache: keys, the bound in bytes and eviction order.
#include "worker/source_face_cache.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace facefuse::worker {
namespace {

// An entry whose pixels take `side` x `side` x 3 bytes.
fusion::SourceFace entry_at(float x, int side = 100) {
    fusion::SourceFace entry{cv::Mat(side, side, CV_8UC3, cv::Scalar(x, 0, 0)), {}};
    entry.face.box = cv::Rect2f(x, 0, 10, 10);
    entry.face.landmarks[0] = cv::Point2f(x, 1);
    return entry;
}

constexpr std::size_t kEntryPixels = 100 * 100 * 3;
const std::vector<std::uint8_t> kImage = {1, 2, 3, 4};
const std::vector<std::uint8_t> kOtherImage = {1, 2, 3, 5};

TEST(SourceFaceCacheKey, DependsOnTheTenantTheBytesTheFacePositionAndTheModelGeneration) {
    const std::string key = SourceFaceCache::key_for("acme", kImage, 0, 0);
    EXPECT_EQ(key, SourceFaceCache::key_for("acme", std::vector<std::uint8_t>(kImage), 0, 0));
    EXPECT_NE(key, SourceFaceCache::key_for("other", kImage, 0, 0))
        << "no tenant may time another's photos";
    EXPECT_NE(key, SourceFaceCache::key_for("acme", kOtherImage, 0, 0));
    EXPECT_NE(key, SourceFaceCache::key_for("acme", kImage, 1, 0));
    EXPECT_NE(key, SourceFaceCache::key_for("acme", kImage, 0, 1));
}

TEST(SourceFaceCache, FindsWhatWasInsertedWithItsPixels) {
    SourceFaceCache cache(4 * kEntryPixels);
    EXPECT_FALSE(cache.find("a").has_value());
    cache.insert("a", entry_at(7));
    auto found = cache.find("a");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->face.box.x, 7);
    EXPECT_EQ(found->face.landmarks[0].x, 7);
    ASSERT_EQ(found->image.size(), cv::Size(100, 100));
    EXPECT_EQ(found->image.at<cv::Vec3b>(50, 50)[0], 7);
    cache.insert("a", entry_at(9));  // replaces, does not grow
    EXPECT_EQ(cache.find("a")->face.box.x, 9);
    EXPECT_EQ(cache.size(), 1u);
}

TEST(SourceFaceCache, CountsThePixelsItHolds) {
    SourceFaceCache cache(8 * kEntryPixels);
    cache.insert("a", entry_at(1));
    EXPECT_GE(cache.bytes(), kEntryPixels);
    EXPECT_LT(cache.bytes(), kEntryPixels + 1024) << "the overhead per entry is small and fixed";
    cache.insert("b", entry_at(2, 200));
    EXPECT_GE(cache.bytes(), 5 * kEntryPixels);
    cache.insert("b", entry_at(2));  // replacing gives the bigger entry's bytes back
    EXPECT_LT(cache.bytes(), 2 * kEntryPixels + 2048);
}

TEST(SourceFaceCache, EvictsTheLeastRecentlyUsedToStayWithinItsBytes) {
    SourceFaceCache cache(2 * kEntryPixels + 2048);  // room for two entries
    cache.insert("a", entry_at(1));
    cache.insert("b", entry_at(2));
    ASSERT_TRUE(cache.find("a").has_value());  // a is now more recent than b
    cache.insert("c", entry_at(3));
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_TRUE(cache.find("a").has_value());
    EXPECT_FALSE(cache.find("b").has_value()) << "b was the least recently used";
    EXPECT_TRUE(cache.find("c").has_value());
    EXPECT_LE(cache.bytes(), 2 * kEntryPixels + 2048);

    cache.insert("big", entry_at(4, 130));  // 1.7 entries' worth: both others must go
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_TRUE(cache.find("big").has_value());
}

TEST(SourceFaceCache, AnEntryLargerThanTheWholeCacheIsNotKept) {
    SourceFaceCache cache(2 * kEntryPixels);
    cache.insert("a", entry_at(1));
    cache.insert("huge", entry_at(2, 300));
    EXPECT_FALSE(cache.find("huge").has_value());
    EXPECT_TRUE(cache.find("a").has_value()) << "a refused entry evicts nothing";
}

TEST(SourceFaceCache, CapacityZeroKeepsNothing) {
    SourceFaceCache cache(0);
    cache.insert("a", entry_at(1));
    EXPECT_FALSE(cache.find("a").has_value());
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(cache.bytes(), 0u);
}

}  // namespace
}  // namespace facefuse::worker

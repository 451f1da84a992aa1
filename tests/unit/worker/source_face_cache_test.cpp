// The worker's source face cache: keys, LRU bound and eviction order.
#include "worker/source_face_cache.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace facefuse::worker {
namespace {

face::Face face_at(float x) {
    face::Face face;
    face.box = cv::Rect2f(x, 0, 10, 10);
    face.landmarks[0] = cv::Point2f(x, 1);
    return face;
}

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

TEST(SourceFaceCache, FindsWhatWasInserted) {
    SourceFaceCache cache(4);
    EXPECT_FALSE(cache.find("a").has_value());
    cache.insert("a", face_at(7));
    auto found = cache.find("a");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->box.x, 7);
    EXPECT_EQ(found->landmarks[0].x, 7);
    cache.insert("a", face_at(9));  // replaces, does not grow
    EXPECT_EQ(cache.find("a")->box.x, 9);
    EXPECT_EQ(cache.size(), 1u);
}

TEST(SourceFaceCache, EvictsTheLeastRecentlyUsedBeyondItsCapacity) {
    SourceFaceCache cache(2);
    cache.insert("a", face_at(1));
    cache.insert("b", face_at(2));
    ASSERT_TRUE(cache.find("a").has_value());  // a is now more recent than b
    cache.insert("c", face_at(3));
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_TRUE(cache.find("a").has_value());
    EXPECT_FALSE(cache.find("b").has_value()) << "b was the least recently used";
    EXPECT_TRUE(cache.find("c").has_value());
}

TEST(SourceFaceCache, CapacityZeroKeepsNothing) {
    SourceFaceCache cache(0);
    cache.insert("a", face_at(1));
    EXPECT_FALSE(cache.find("a").has_value());
    EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace facefuse::worker

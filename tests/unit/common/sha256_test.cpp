#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "common/sha256.hpp"
#include "support/test_support.hpp"

namespace facefuse {
namespace {

// FIPS 180-2 appendix B test vectors.
constexpr const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(Sha256, MatchesThePublishedVectors) {
    EXPECT_EQ(sha256_hex(std::string_view("abc")), kAbc);
    EXPECT_EQ(sha256_hex(std::string_view("")), kEmpty);
    const std::string million_a(1'000'000, 'a');
    EXPECT_EQ(sha256_hex(std::string_view(million_a)),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, FileDigestEqualsTheDigestOfItsBytesAcrossChunkBoundaries) {
    test::TempDir dir;
    // 200 KB: more than three 64 KiB read chunks, ending mid-chunk.
    std::string bytes(200'000, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 % 251);
    std::ofstream(dir / "blob", std::ios::binary) << bytes;
    auto digest = sha256_file_hex(dir / "blob");
    ASSERT_TRUE(digest) << digest.error().message;
    EXPECT_EQ(*digest, sha256_hex(std::string_view(bytes)));
}

TEST(Sha256, MissingFileIsFileNotFound) {
    test::TempDir dir;
    auto digest = sha256_file_hex(dir / "nope");
    ASSERT_FALSE(digest);
    EXPECT_EQ(digest.error().code, ErrorCode::kFileNotFound);
    EXPECT_NE(digest.error().message.find("nope"), std::string::npos);
}

}  // namespace
}  // namespace facefuse

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "common/sha256.hpp"
#include "models/manifest.hpp"
#include "support/test_support.hpp"

namespace facefuse::models {
namespace {

const std::string kSha(64, 'a');

std::string entry(const std::string& name, const std::string& path, const std::string& kind = "face_landmarker",
                  const std::string& sha = kSha) {
    return R"({"name":")" + name + R"(","version":"1","kind":")" + kind + R"(","path":")" + path +
           R"(","sha256":")" + sha + R"(","license":"test"})";
}

std::string manifest(const std::string& entries) { return R"({"models":[)" + entries + "]}"; }

Error parse_error(const std::string& text) {
    auto parsed = parse_manifest(text, "/models");
    EXPECT_FALSE(parsed) << "accepted: " << text;
    return parsed ? Error{ErrorCode::kInternal, "accepted"} : parsed.error();
}

TEST(Manifest, ResolvesRelativePathsInTheModelDirectoryAndKeepsAbsoluteOnes) {
    auto parsed = parse_manifest(manifest(entry("a", "sub/a.dat") + "," + entry("b", "/opt/b.dat", "other")), "/models");
    ASSERT_TRUE(parsed) << parsed.error().message;
    ASSERT_EQ(parsed->models.size(), 2u);
    EXPECT_EQ(parsed->models[0].path, "/models/sub/a.dat");
    EXPECT_EQ(parsed->models[0].source, "a.dat") << "source defaults to the file name";
    EXPECT_EQ(parsed->models[1].path, "/opt/b.dat");
}

TEST(Manifest, RefusesWhatCouldNotBeServedSafely) {
    EXPECT_NE(parse_error("{").message.find("not valid JSON"), std::string::npos);
    EXPECT_NE(parse_error(R"({"models":{}})").message.find("\"models\" array"), std::string::npos);
    EXPECT_NE(parse_error(manifest("")).message.find("no models"), std::string::npos);
    EXPECT_NE(parse_error(manifest(entry("a", "../escape.dat"))).message.find("leaves the model directory"),
              std::string::npos);
    EXPECT_NE(parse_error(manifest(entry("a", "a.dat", "face_landmarker", "ABC"))).message.find("sha256"),
              std::string::npos);
    EXPECT_NE(parse_error(manifest(entry("a", "a.dat") + "," + entry("a", "b.dat", "x"))).message.find("twice"),
              std::string::npos);
    EXPECT_NE(parse_error(manifest(entry("Bad Name", "a.dat"))).message.find("name must be"), std::string::npos);
    EXPECT_NE(parse_error(manifest(R"({"name":"a","version":"1","kind":"k","path":"a","license":"x"})"))
                  .message.find("'sha256' is missing"),
              std::string::npos);
    std::string hostile_source = entry("a", "a.dat");
    hostile_source.insert(hostile_source.size() - 1, R"(,"source":"../../etc/passwd")");
    EXPECT_NE(parse_error(manifest(hostile_source)).message.find("source"), std::string::npos);
    for (const std::string& bad : {std::string("{"), manifest("")})
        EXPECT_EQ(parse_error(bad).code, ErrorCode::kUsage);
}

TEST(Manifest, FindKindWantsExactlyOne) {
    auto two = parse_manifest(manifest(entry("a", "a.dat") + "," + entry("b", "b.dat")), "/m");
    ASSERT_TRUE(two);
    auto found = find_kind(*two, kFaceLandmarker);
    ASSERT_FALSE(found);
    EXPECT_NE(found.error().message.find("keep one"), std::string::npos);
    auto none = find_kind(*two, "age_modifier");
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message.find("no model of kind age_modifier"), std::string::npos);
}

TEST(Manifest, JsonRoundTripKeepsEveryFieldAndRelativePaths) {
    auto parsed = parse_manifest(manifest(entry("a", "sub/a.dat")), "/models");
    ASSERT_TRUE(parsed);
    auto again = parse_manifest(to_json(*parsed, "/models"), "/elsewhere");
    ASSERT_TRUE(again) << again.error().message;
    const ModelSpec& spec = again->models.at(0);
    EXPECT_EQ(spec.path, "/elsewhere/sub/a.dat");
    EXPECT_EQ(spec.name, "a");
    EXPECT_EQ(spec.sha256, kSha);
    EXPECT_EQ(spec.license, "test");
    EXPECT_EQ(spec.kind, "face_landmarker");
}

TEST(Manifest, ReadManifestResolvesAgainstItsOwnFolderAndNamesTheFileInErrors) {
    test::TempDir dir;
    std::ofstream(dir / "m.json") << manifest(entry("a", "a.dat"));
    auto read = read_manifest(dir / "m.json");
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(read->models.at(0).path, dir / "a.dat");
    std::ofstream(dir / "bad.json") << "[]";
    auto bad = read_manifest(dir / "bad.json");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("bad.json"), std::string::npos);
    EXPECT_EQ(read_manifest(dir / "missing.json").error().code, ErrorCode::kFileNotFound);
    auto builtin = load_manifest("");
    ASSERT_TRUE(builtin);
    EXPECT_EQ(builtin->models.at(0).name, default_landmark_model().name);
}

TEST(VerifyModel, ChecksTheFileAgainstItsDigest) {
    test::TempDir dir;
    std::ofstream(dir / "m.dat") << "model bytes";
    ModelSpec spec{.name = "m", .version = "1", .kind = "k", .path = dir / "m.dat",
                   .sha256 = sha256_hex(std::string_view("model bytes")), .license = "test", .source = "m.dat"};
    EXPECT_TRUE(verify_model(spec).ok());
    std::ofstream(dir / "m.dat", std::ios::app) << "!";
    Status damaged = verify_model(spec);
    ASSERT_FALSE(damaged.ok());
    EXPECT_EQ(damaged.error().code, ErrorCode::kModelUnavailable);
    EXPECT_NE(damaged.error().message.find(spec.sha256), std::string::npos) << "names the expected digest";
    spec.path = dir / "gone.dat";
    EXPECT_EQ(verify_model(spec).error().code, ErrorCode::kModelUnavailable);
}

}  // namespace
}  // namespace facefuse::models

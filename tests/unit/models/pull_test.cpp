#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "common/sha256.hpp"
#include "models/pull.hpp"
#include "support/test_support.hpp"

namespace facefuse::models {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

Bytes bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// A source of model files that remembers what was asked of it.
struct FakeSource {
    std::map<std::string, Bytes> objects;
    std::vector<std::string> fetched;
    FetchModel fetcher() {
        return [this](const ModelSpec& spec) -> Result<Bytes> {
            fetched.push_back(spec.source);
            auto it = objects.find(spec.source);
            if (it == objects.end()) return make_error(ErrorCode::kNotFound, "no object " + spec.source);
            return it->second;
        };
    }
};

ModelSpec spec(const fs::path& dir, const std::string& name, const std::string& content) {
    return ModelSpec{.name = name, .version = "2", .kind = name, .path = dir / (name + ".dat"),
                     .sha256 = sha256_hex(std::string_view(content)), .license = "test",
                     .source = "v2/" + name + ".dat"};
}

TEST(PullModels, InstallsMissingModelsThenWritesTheManifestLast) {
    test::TempDir dir;
    const fs::path models = dir / "models";
    Manifest manifest{{spec(models, "a", "AAAA"), spec(models, "b", "BB")}};
    FakeSource source{{{"v2/a.dat", bytes("AAAA")}, {"v2/b.dat", bytes("BB")}}, {}};

    auto pulled = pull_models(manifest, models, source.fetcher());
    ASSERT_TRUE(pulled) << pulled.error().message;
    ASSERT_EQ(pulled->size(), 2u);
    EXPECT_TRUE((*pulled)[0].fetched);
    EXPECT_EQ((*pulled)[1].bytes, 2u);
    EXPECT_EQ(read_text(models / "a.dat"), "AAAA");
    auto written = read_manifest(models / "manifest.json");
    ASSERT_TRUE(written) << written.error().message;
    EXPECT_EQ(written->models.at(1).path, models / "b.dat") << "relative paths, so the folder can be mounted anywhere";
    EXPECT_EQ(written->models.at(1).sha256, manifest.models[1].sha256);
}

TEST(PullModels, KeepsFilesThatAlreadyMatchAndReplacesDamagedOnes) {
    test::TempDir dir;
    Manifest manifest{{spec(dir.path(), "a", "AAAA"), spec(dir.path(), "b", "BB")}};
    std::ofstream(dir / "a.dat") << "AAAA";
    std::ofstream(dir / "b.dat") << "damaged";
    FakeSource source{{{"v2/a.dat", bytes("AAAA")}, {"v2/b.dat", bytes("BB")}}, {}};
    auto pulled = pull_models(manifest, dir.path(), source.fetcher());
    ASSERT_TRUE(pulled) << pulled.error().message;
    EXPECT_EQ(source.fetched, std::vector<std::string>{"v2/b.dat"});
    EXPECT_FALSE((*pulled)[0].fetched);
    EXPECT_EQ(read_text(dir / "b.dat"), "BB");
}

TEST(PullModels, BytesThatDoNotMatchTheManifestAreNeverWritten) {
    test::TempDir dir;
    Manifest manifest{{spec(dir.path(), "a", "AAAA")}};
    FakeSource source{{{"v2/a.dat", bytes("EVIL")}}, {}};
    auto pulled = pull_models(manifest, dir.path(), source.fetcher());
    ASSERT_FALSE(pulled);
    EXPECT_EQ(pulled.error().code, ErrorCode::kModelUnavailable);
    EXPECT_NE(pulled.error().message.find("nothing was written"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir / "a.dat"));
    EXPECT_FALSE(fs::exists(dir / "manifest.json")) << "no manifest may name a model that is not there";
}

TEST(PullModels, FetchErrorsNameTheModelAndLeaveNoManifest) {
    test::TempDir dir;
    Manifest manifest{{spec(dir.path(), "a", "AAAA")}};
    FakeSource empty;
    auto pulled = pull_models(manifest, dir.path(), empty.fetcher());
    ASSERT_FALSE(pulled);
    EXPECT_EQ(pulled.error().code, ErrorCode::kNotFound);
    EXPECT_NE(pulled.error().message.find("model 'a'"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir / "manifest.json"));
}

TEST(PullModels, RefusesPathsOutsideTheModelDirectoryBeforeFetching) {
    test::TempDir dir;
    ModelSpec outside = spec(dir.path(), "a", "AAAA");
    outside.path = "/etc/facefuse-test-should-never-exist.dat";
    FakeSource source{{{"v2/a.dat", bytes("AAAA")}}, {}};
    auto pulled = pull_models(Manifest{{outside}}, dir / "models", source.fetcher());
    ASSERT_FALSE(pulled);
    EXPECT_EQ(pulled.error().code, ErrorCode::kUsage);
    EXPECT_TRUE(source.fetched.empty());
}

}  // namespace
}  // namespace facefuse::models

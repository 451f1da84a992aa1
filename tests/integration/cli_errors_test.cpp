// Bad input never crashes facefuse: each case exits with the documented code and a message that
// names the input at fault. Exit codes: 2 usage, 3 input error, 4 no face, 5 output/model.
#include <gtest/gtest.h>

#include <fstream>

#include "integration/cli_fixture.hpp"

namespace facefuse::test {
namespace {

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// A PNG whose IHDR claims width x height; the IDAT is absent, so only a decoder that trusts the
// header before checking it would try to allocate the pixels.
std::string png_header(uint32_t width, uint32_t height) {
    auto be32 = [](uint32_t v) {
        return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    };
    std::string ihdr = "IHDR" + be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
    uint32_t crc = 0xffffffffu;  // CRC-32 over type + data, as PNG requires
    for (unsigned char c : ihdr) {
        crc ^= c;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + ihdr + be32(~crc);
}

struct SwapRun {
    CommandResult result;
    bool output_exists;
};

SwapRun swap(const TempDir& dir, const std::string& source, const std::string& target,
             std::vector<std::string> extra = {}) {
    const auto output = dir / "out.png";
    std::vector<std::string> args = {"swap", "-s", source, "-t", target, "-o", output.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    SwapRun run{facefuse(args), false};
    run.output_exists = std::filesystem::exists(output);
    return run;
}

void expect_failure(const SwapRun& run, int exit_code, const std::string& code, const std::string& names) {
    EXPECT_EQ(run.result.exit_code, exit_code) << run.result.err;
    EXPECT_EQ(run.result.term_signal, 0) << "crashed";
    EXPECT_NE(run.result.err.find(code), std::string::npos) << run.result.err;
    EXPECT_NE(run.result.err.find(names), std::string::npos) << "message must name " << names << ": " << run.result.err;
    EXPECT_FALSE(run.output_exists) << "a failed run must not leave an output file";
}

const std::string kGoodFace = face("man_luciano_codait.png").string();

TEST(CliErrorsTest, NoFaceInSourceSaysSource) {
    const TempDir dir;
    expect_failure(swap(dir, face("noface_coffee.png").string(), kGoodFace), 4, "no_face_in_source", "source");
}

TEST(CliErrorsTest, NoFaceInTargetSaysTarget) {
    const TempDir dir;
    expect_failure(swap(dir, kGoodFace, face("noface_china_temple.jpg").string()), 4, "no_face_in_target", "target");
}

TEST(CliErrorsTest, EmptyFile) {
    const TempDir dir;
    write_bytes(dir / "empty.jpg", "");
    const auto path = (dir / "empty.jpg").string();
    expect_failure(swap(dir, path, kGoodFace), 3, "empty_input", path);
}

TEST(CliErrorsTest, TruncatedJpeg) {
    const TempDir dir;
    const std::string bytes = read_bytes(face("grace_hopper_navy.jpg"));
    write_bytes(dir / "cut.jpg", bytes.substr(0, bytes.size() / 3));
    const auto path = (dir / "cut.jpg").string();
    expect_failure(swap(dir, kGoodFace, path), 3, "invalid_image", path);
}

TEST(CliErrorsTest, TextRenamedToJpg) {
    const TempDir dir;
    write_bytes(dir / "notes.jpg", "Dear diary, this is not a photo.\n");
    const auto path = (dir / "notes.jpg").string();
    expect_failure(swap(dir, path, kGoodFace), 3, "unsupported_format", path);
}

TEST(CliErrorsTest, UnsupportedFormat) {
    const TempDir dir;
    write_bytes(dir / "anim.gif", std::string("GIF89a\x01\x00\x01\x00\x00\x00\x00;", 13));
    const auto path = (dir / "anim.gif").string();
    expect_failure(swap(dir, kGoodFace, path), 3, "unsupported_format", path);
}

TEST(CliErrorsTest, HugePngHeaderIsRefusedBeforeDecoding) {
    const TempDir dir;
    write_bytes(dir / "bomb.png", png_header(30000, 30000));
    const auto path = (dir / "bomb.png").string();
    const SwapRun run = swap(dir, kGoodFace, path);
    expect_failure(run, 3, "image_too_large", "30000x30000");
    EXPECT_NE(run.result.err.find(path), std::string::npos) << run.result.err;
}

TEST(CliErrorsTest, MissingFile) {
    const TempDir dir;
    const auto path = (dir / "nope.jpg").string();
    expect_failure(swap(dir, path, kGoodFace), 3, "file_not_found", path);
}

TEST(CliErrorsTest, BadOptionValueIsUsageError) {
    const TempDir dir;
    const SwapRun run = swap(dir, kGoodFace, kGoodFace, {"--face-mask-blur", "2"});
    EXPECT_EQ(run.result.exit_code, 2) << run.result.err;
    EXPECT_NE(run.result.err.find("--face-mask-blur"), std::string::npos) << run.result.err;
}

TEST(CliErrorsTest, UnknownSelectorModeIsUsageError) {
    const TempDir dir;
    const SwapRun run = swap(dir, kGoodFace, kGoodFace, {"--face-selector-mode", "reference"});
    EXPECT_EQ(run.result.exit_code, 2) << run.result.err;
}

TEST(CliErrorsTest, UnknownOutputExtensionIsUsageError) {
    const TempDir dir;
    const CommandResult r = facefuse({"swap", "-s", kGoodFace, "-t", kGoodFace, "-o", (dir / "out.gif").string()});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(".png"), std::string::npos) << "should list the accepted extensions: " << r.err;
}

TEST(CliErrorsTest, MissingOutputDirectory) {
    const TempDir dir;
    const CommandResult r =
        facefuse({"swap", "-s", kGoodFace, "-t", face("chris_pratt_2018.jpg").string(), "-o",
                  (dir / "no" / "such" / "out.png").string()});
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_NE(r.err.find("output_error"), std::string::npos) << r.err;
}

TEST(CliErrorsTest, MissingLandmarkModel) {
    const TempDir dir;
    const SwapRun run = swap(dir, kGoodFace, face("chris_pratt_2018.jpg").string(),
                             {"--landmark-model", (dir / "missing.dat").string()});
    EXPECT_EQ(run.result.exit_code, 5) << run.result.err;
    EXPECT_NE(run.result.err.find("model_unavailable"), std::string::npos) << run.result.err;
}

TEST(CliErrorsTest, CorruptLandmarkModel) {
    const TempDir dir;
    write_bytes(dir / "bad.dat", "this is not a dlib model");
    const SwapRun run = swap(dir, kGoodFace, face("chris_pratt_2018.jpg").string(),
                             {"--landmark-model", (dir / "bad.dat").string()});
    EXPECT_EQ(run.result.exit_code, 5) << run.result.err;
    EXPECT_NE(run.result.err.find("model_unavailable"), std::string::npos) << run.result.err;
}

TEST(CliUsageTest, HelpTeachesAndExitsZero) {
    const CommandResult r = facefuse({"swap", "--help"});
    EXPECT_EQ(r.exit_code, 0);
    for (const char* flag : {"--face-selector-mode", "--face-mask-types", "--fusion-degree", "Examples", "Exit codes"})
        EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

TEST(CliUsageTest, NoSubcommandIsUsageError) {
    const CommandResult r = facefuse({});
    EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace facefuse::test

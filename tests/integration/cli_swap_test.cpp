// `facefuse swap` on real photos: size kept, only the face region changed, pose kept, face
// selection honoured. Outputs are PNG so that "unchanged" can mean bit-for-bit.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "image/provenance.hpp"
#include "integration/cli_fixture.hpp"

namespace facefuse::test {
namespace {

struct Pair {
    const char* source;
    const char* target;
};

class SwapPairTest : public ::testing::TestWithParam<Pair> {};

TEST_P(SwapPairTest, ChangesOnlyTheFaceAndKeepsThePose) {
    const Pair pair = GetParam();
    const TempDir dir;
    const auto output = dir / "out.png";
    const CommandResult r = facefuse({"swap", "-q", "--source", face(pair.source).string(), "--target",
                                      face(pair.target).string(), "--output", output.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;

    const cv::Mat target = cv::imread(face(pair.target).string(), cv::IMREAD_COLOR);
    const cv::Mat out = cv::imread(output.string(), cv::IMREAD_COLOR);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.size(), target.size());

    const auto target_faces = detect(face(pair.target));
    ASSERT_EQ(target_faces.size(), 1u);
    const cv::Rect region = face_region(target_faces[0], target.size());
    EXPECT_EQ(changed_outside(target, out, {region}), 0) << "pixels changed outside the face";
    EXPECT_GT(mean_abs_diff(target, out, region), 3.0) << "the face region did not change";

    const auto out_faces = detect(output);
    ASSERT_EQ(out_faces.size(), 1u) << "no face found in the output";
    const float iod = inter_ocular(target_faces[0].landmarks);
    double error = 0;
    for (int i = 0; i < 68; ++i) {
        const cv::Point2f d = out_faces[0].landmarks[i] - target_faces[0].landmarks[i];
        error += std::sqrt(d.dot(d)) / iod;
    }
    EXPECT_LT(error / 68, 0.06) << "output landmarks moved: pose not kept";
}

INSTANTIATE_TEST_SUITE_P(
    RealPhotos, SwapPairTest,
    ::testing::Values(Pair{"obama_official_portrait_2012.jpg", "astronaut_eileen_collins_nasa.png"},
                      Pair{"astronaut_eileen_collins_nasa.png", "chris_pratt_2018.jpg"},
                      Pair{"grace_hopper_navy.jpg", "man_luciano_codait.png"},
                      Pair{"mae_jemison_nasa.jpg", "woman_smiling_curly_hair.png"},
                      Pair{"chris_pratt_2018.jpg", "baby_crying.jpg"}),
    [](const ::testing::TestParamInfo<Pair>& info) {
        std::string name = std::string(info.param.source) + "_into_" + info.param.target;
        for (char& c : name)
            if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
        return name;
    });

TEST(SwapSelectorTest, ManySwapsEveryTargetFace) {
    const TempDir dir;
    const auto output = dir / "out.png";
    const auto target_path = face("apollo11_crew_nasa.jpg");
    const CommandResult r = facefuse({"swap", "-q", "-s", face("man_luciano_codait.png").string(), "-t",
                                      target_path.string(), "-o", output.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const cv::Mat target = cv::imread(target_path.string());
    const cv::Mat out = cv::imread(output.string());
    const auto faces = detect(target_path);
    ASSERT_EQ(faces.size(), 3u);
    std::vector<cv::Rect> regions;
    for (const auto& f : faces) {
        const cv::Rect inner = cv::boundingRect(f.landmarks) & cv::Rect(cv::Point(), target.size());
        EXPECT_GT(mean_abs_diff(target, out, inner), 3.0) << "a target face was not swapped";
        regions.push_back(face_region(f, target.size()));
    }
    EXPECT_EQ(changed_outside(target, out, regions), 0);
}

TEST(SwapSelectorTest, OneSwapsOnlyTheChosenFace) {
    const TempDir dir;
    const auto output = dir / "out.png";
    const auto target_path = face("two_people_obama_biden.jpg");
    const CommandResult r = facefuse(
        {"swap", "-q", "-s", face("grace_hopper_navy.jpg").string(), "-t", target_path.string(), "-o",
         output.string(), "--face-selector-mode", "one", "--face-selector-order", "left-right",
         "--face-position", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const cv::Mat target = cv::imread(target_path.string());
    const cv::Mat out = cv::imread(output.string());
    auto faces = detect(target_path);
    ASSERT_EQ(faces.size(), 2u);
    std::sort(faces.begin(), faces.end(),
              [](const DetectedFace& a, const DetectedFace& b) { return a.box.x < b.box.x; });
    const cv::Rect left = face_region(faces[0], target.size());
    const cv::Rect right = face_region(faces[1], target.size());
    EXPECT_EQ(changed_outside(target, out, {right}), 0) << "the left face (position 0) changed";
    EXPECT_GT(mean_abs_diff(target, out, cv::boundingRect(faces[1].landmarks)), 3.0);
    ASSERT_TRUE((left & right).empty()) << "test image no longer separates the two faces";
}

TEST(SwapSelectorTest, PositionOutOfRangeSaysHowManyFacesThereAre) {
    const TempDir dir;
    const CommandResult r = facefuse(
        {"swap", "-s", face("grace_hopper_navy.jpg").string(), "-t", face("two_people_obama_biden.jpg").string(),
         "-o", (dir / "out.png").string(), "--face-selector-mode", "one", "--face-position", "5"});
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_NE(r.err.find("face_not_found"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("2 face(s)"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "out.png"));
}

TEST(SwapQualityTest, GreyscaleTargetStaysGreyscale) {
    const TempDir dir;
    const auto output = dir / "out.png";
    const CommandResult r = facefuse({"swap", "-q", "-s", face("mae_jemison_nasa.jpg").string(), "-t",
                                      face("marie_curie_c1920.jpg").string(), "-o", output.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const cv::Mat out = cv::imread(output.string());
    const cv::Mat target = cv::imread(face("marie_curie_c1920.jpg").string());
    // Chroma as max(B,G,R) - min(B,G,R): 0 for a grey pixel. JPEG leaves the target itself a
    // little off-grey, so compare with the target's own chroma rather than with zero.
    auto chroma = [](const cv::Mat& bgr) {
        std::vector<cv::Mat> c;
        cv::split(bgr, c);
        cv::Mat hi = cv::max(cv::max(c[0], c[1]), c[2]);
        cv::Mat lo = cv::min(cv::min(c[0], c[1]), c[2]);
        return cv::Mat(hi - lo);
    };
    const cv::Scalar target_chroma = cv::mean(chroma(target));
    const cv::Scalar out_chroma = cv::mean(chroma(out));
    EXPECT_LE(out_chroma[0], target_chroma[0] + 0.5) << "the source's colour leaked into a greyscale photo";
    const auto faces = detect(face("marie_curie_c1920.jpg"));
    ASSERT_EQ(faces.size(), 1u);
    const cv::Rect inner = cv::boundingRect(faces[0].landmarks);
    EXPECT_LE(cv::mean(chroma(out(inner)))[0], cv::mean(chroma(target(inner)))[0] + 2.0);
}

TEST(SwapQualityTest, DebugOverlayDrawsOnTheOutput) {
    const TempDir dir;
    const auto plain = dir / "plain.png";
    const auto debug = dir / "debug.png";
    const auto s = face("man_luciano_codait.png").string();
    const auto t = face("chris_pratt_2018.jpg").string();
    ASSERT_EQ(facefuse({"swap", "-q", "-s", s, "-t", t, "-o", plain.string()}).exit_code, 0);
    ASSERT_EQ(facefuse({"swap", "-q", "-s", s, "-t", t, "-o", debug.string(), "--debug-overlay"}).exit_code, 0);
    const cv::Mat a = cv::imread(plain.string());
    const cv::Mat b = cv::imread(debug.string());
    // The landmarks are drawn in pure red (BGR 0,0,255): count such pixels.
    cv::Mat red;
    cv::inRange(b, cv::Scalar(0, 0, 250), cv::Scalar(5, 5, 255), red);
    cv::Mat red_before;
    cv::inRange(a, cv::Scalar(0, 0, 250), cv::Scalar(5, 5, 255), red_before);
    EXPECT_GT(cv::countNonZero(red), cv::countNonZero(red_before) + 68);
}

TEST(SwapQualityTest, OptionsChangeTheResult) {
    const TempDir dir;
    const auto s = face("man_luciano_codait.png").string();
    const auto t = face("chris_pratt_2018.jpg").string();
    const cv::Mat target = cv::imread(t);
    auto run = [&](std::vector<std::string> extra) {
        const auto out = dir / ("o" + std::to_string(extra.size()) + extra.back() + ".png");
        std::vector<std::string> args = {"swap", "-q", "-s", s, "-t", t, "-o", out.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        const CommandResult r = facefuse(args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return cv::imread(out.string());
    };
    const cv::Mat full = run({"--fusion-degree", "1"});
    const cv::Mat half = run({"--fusion-degree", "0.5"});
    const cv::Mat none = run({"--fusion-degree", "0"});
    const cv::Rect all(cv::Point(), target.size());
    EXPECT_EQ(changed_outside(target, none, {}), 0) << "fusion degree 0 must leave the target as it was";
    EXPECT_GT(mean_abs_diff(target, full, all), mean_abs_diff(target, half, all));
    const cv::Mat mouth_only = run({"--face-mask-types", "area", "--face-mask-areas", "mouth"});
    EXPECT_LT(mean_abs_diff(target, mouth_only, all), mean_abs_diff(target, full, all));
    const cv::Mat padded = run({"--face-mask-padding", "30", "0", "0", "0"});
    EXPECT_LT(mean_abs_diff(target, padded, all), mean_abs_diff(target, full, all));
    const cv::Mat shaped = run({"--shape-degree", "1"});
    EXPECT_GT(mean_abs_diff(full, shaped, all), 0.0);
}

std::string read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The output says it is AI-generated (XMP + comment), unless --no-provenance.
TEST(SwapProvenanceTest, OutputCarriesTheMarkerByDefault) {
    const TempDir dir;
    for (const char* ext : {"png", "jpg"}) {
        const auto output = dir / (std::string("out.") + ext);
        const CommandResult r = facefuse({"swap", "-q", "--source", face("man_luciano_codait.png").string(), "--target",
                                          face("chris_pratt_2018.jpg").string(), "--output", output.string()});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const std::string bytes = read_bytes(output);
        const std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
        auto marker = image::read_provenance_marker(data, std::string(ext) == "png" ? image::ImageFormat::kPng
                                                                                     : image::ImageFormat::kJpeg);
        ASSERT_TRUE(marker.ok()) << ext << ": " << marker.error().message;
        EXPECT_EQ(*marker, image::kDefaultProvenanceText);
    }
    const auto plain = dir / "plain.png";
    ASSERT_EQ(facefuse({"swap", "-q", "--no-provenance", "--source", face("man_luciano_codait.png").string(),
                        "--target", face("chris_pratt_2018.jpg").string(), "--output", plain.string()})
                  .exit_code,
              0);
    const std::string bytes = read_bytes(plain);
    EXPECT_EQ(image::read_provenance_marker(std::vector<std::uint8_t>(bytes.begin(), bytes.end()),
                                            image::ImageFormat::kPng)
                  .error()
                  .code,
              ErrorCode::kNotFound);
}

}  // namespace
}  // namespace facefuse::test

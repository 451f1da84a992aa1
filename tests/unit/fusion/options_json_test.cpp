// The API's swap options as JSON: what an absent key means, and that what a task record
// stores reads back as the same options.
#include "fusion/options_json.hpp"

#include <gtest/gtest.h>

namespace facefuse::fusion {
namespace {

TEST(OptionsJson, NoOutputFormatMeansTheTargetsOwn) {
    for (const char* text : {"", "{}", R"({"output_format": null})"}) {
        auto options = parse_job_options(text);
        ASSERT_TRUE(options.ok()) << text;
        EXPECT_FALSE(options->output_format.has_value()) << text;
    }
}

TEST(OptionsJson, OutputFormatNamesAFormat) {
    auto jpeg = parse_job_options(R"({"output_format": "jpg"})");
    ASSERT_TRUE(jpeg.ok());
    EXPECT_EQ(jpeg->output_format, image::ImageFormat::kJpeg);
    auto png = parse_job_options(R"({"output_format": "png"})");
    ASSERT_TRUE(png.ok());
    EXPECT_EQ(png->output_format, image::ImageFormat::kPng);
}

TEST(OptionsJson, AnUnknownOutputFormatSaysWhatIsAccepted) {
    for (const char* text : {R"({"output_format": "gif"})", R"({"output_format": 3})"}) {
        auto options = parse_job_options(text);
        ASSERT_FALSE(options.ok()) << text;
        EXPECT_EQ(options.error().code, ErrorCode::kUsage);
        EXPECT_NE(options.error().message.find("null (the target's format)"), std::string::npos)
            << options.error().message;
    }
}

// A worker of the previous version reads what this one stores during a rolling upgrade: it
// knew no null output_format (it failed such a task as a bad option), so an unset format is
// left out; absent and null are one request, so they store (and hash) the same text.
TEST(OptionsJson, AnUnsetFormatIsLeftOutOfTheStoredOptions) {
    auto absent = parse_job_options("{}");
    auto null = parse_job_options(R"({"output_format": null})");
    auto jpeg = parse_job_options(R"({"output_format": "jpg"})");
    ASSERT_TRUE(absent.ok() && null.ok() && jpeg.ok());
    EXPECT_EQ(to_json(*absent).find("output_format"), std::string::npos) << to_json(*absent);
    EXPECT_EQ(to_json(*null), to_json(*absent));
    EXPECT_NE(to_json(*jpeg).find(R"("output_format":"jpeg")"), std::string::npos)
        << to_json(*jpeg);
}

TEST(OptionsJson, WhatIsStoredReadsBackAsTheSameOptions) {
    for (const char* text : {"{}", R"({"output_format": "webp", "output_quality": 70})",
                             R"({"processors": ["noop"], "output_format": null})"}) {
        auto options = parse_job_options(text);
        ASSERT_TRUE(options.ok()) << text;
        const std::string stored = to_json(*options);
        auto back = parse_job_options(stored);
        ASSERT_TRUE(back.ok()) << stored;
        EXPECT_EQ(back->output_format, options->output_format) << stored;
        EXPECT_EQ(back->output_quality, options->output_quality) << stored;
        EXPECT_EQ(back->processors, options->processors) << stored;
        EXPECT_EQ(to_json(*back), stored);  // canonical: idempotency hashes this text
    }
}

}  // namespace
}  // namespace facefuse::fusion

// decode_image's refusals: every way untrusted bytes can be wrong gets its own code and a
// message naming the input.
#include "image/decode.hpp"

#include <gtest/gtest.h>

#include <random>

#include "test_images.hpp"

namespace facefuse::image {
namespace {

using namespace testing;
using namespace std::string_view_literals;

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

Error decode_error(const Bytes& bytes, const DecodeLimits& limits = {}) {
    Result<cv::Mat> r = decode_image(bytes, limits, "source");
    EXPECT_FALSE(r.ok());
    return r.ok() ? Error{ErrorCode::kInternal, "decoded"} : r.error();
}

TEST(DecodeImage, EmptyInput) {
    const Error e = decode_error({});
    EXPECT_EQ(e.code, ErrorCode::kEmptyInput);
    EXPECT_EQ(e.message, "source is empty (0 bytes); send an image file");
}

TEST(DecodeImage, TooManyBytesIsRefusedBeforeLookingAtThem) {
    DecodeLimits limits;
    limits.max_bytes = 100;
    const Error e = decode_error(encode(pattern(64, 64), ".png"), limits);
    EXPECT_EQ(e.code, ErrorCode::kImageTooLarge);
    EXPECT_TRUE(contains(e.message, "source")) << e.message;
    EXPECT_TRUE(contains(e.message, "100 bytes")) << e.message;
}

TEST(DecodeImage, TextIsUnsupportedAndSaysSo) {
    const Error e =
        decode_error(bytes_of("<!DOCTYPE html>\n<html><body>Not found</body></html>\n"));
    EXPECT_EQ(e.code, ErrorCode::kUnsupportedFormat);
    EXPECT_TRUE(contains(e.message, "look like text")) << e.message;
    EXPECT_TRUE(contains(e.message, "JPEG, PNG, WebP or BMP")) << e.message;
}

TEST(DecodeImage, OtherImageFormatsAreNamed) {
    const Error gif = decode_error(bytes_of("GIF89a\x01\x00\x01\x00\x80\x00\x00"sv));
    EXPECT_EQ(gif.code, ErrorCode::kUnsupportedFormat);
    EXPECT_TRUE(contains(gif.message, "GIF")) << gif.message;

    const Error heic =
        decode_error(bytes_of("\0\0\0\x18"
                              "ftypheic\0\0\0\0mif1heic"sv));
    EXPECT_EQ(heic.code, ErrorCode::kUnsupportedFormat);
    EXPECT_TRUE(contains(heic.message, "HEIC")) << heic.message;

    const Error binary = decode_error({0x00, 0x01, 0x02, 0x03, 0xFE, 0x80});
    EXPECT_EQ(binary.code, ErrorCode::kUnsupportedFormat);
    EXPECT_FALSE(contains(binary.message, "text")) << binary.message;
}

TEST(DecodeImage, DecompressionBombIsRefusedFromItsHeader) {
    const Error e = decode_error(png_claiming(30000, 30000));
    EXPECT_EQ(e.code, ErrorCode::kImageTooLarge);
    EXPECT_TRUE(contains(e.message, "source")) << e.message;
    EXPECT_TRUE(contains(e.message, "30000x30000")) << e.message;
    EXPECT_TRUE(contains(e.message, "16384")) << e.message;  // DecodeLimits::max_side
}

TEST(DecodeImage, PixelCountLimitIsCheckedSeparatelyFromSideLimit) {
    const Error e = decode_error(png_claiming(10000, 10000));  // sides fine, 100 Mpx is not
    EXPECT_EQ(e.code, ErrorCode::kImageTooLarge);
    EXPECT_TRUE(contains(e.message, "10000x10000")) << e.message;
    EXPECT_TRUE(contains(e.message, "40000000")) << e.message;  // DecodeLimits::max_pixels
}

TEST(DecodeImage, LimitsApplyToRealImagesAtTheBoundary) {
    const Bytes jpeg = encode(pattern(40, 30), ".jpg");
    DecodeLimits exact;
    exact.max_pixels = 40 * 30;
    exact.max_side = 40;
    EXPECT_TRUE(decode_image(jpeg, exact, "source").ok());

    DecodeLimits one_pixel_less = exact;
    one_pixel_less.max_pixels = 40 * 30 - 1;
    EXPECT_EQ(decode_error(jpeg, one_pixel_less).code, ErrorCode::kImageTooLarge);

    DecodeLimits narrower = exact;
    narrower.max_side = 39;
    EXPECT_EQ(decode_error(jpeg, narrower).code, ErrorCode::kImageTooLarge);
}

TEST(DecodeImage, TruncatedFilesAreInvalidNotGreyPadded) {
    const cv::Mat image = pattern(64, 48);
    for (const auto& [ext, params] : std::vector<std::pair<std::string, std::vector<int>>>{
             {".jpg", {}},
             {".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}},
             {".png", {}},
             {".webp", {}},
             {".bmp", {}}}) {
        const Bytes full = encode(image, ext, params);
        const Bytes half(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(full.size() / 2));
        const Error e = decode_error(half);
        EXPECT_EQ(e.code, ErrorCode::kInvalidImage) << ext << ": " << e.message;
        EXPECT_TRUE(contains(e.message, "source is corrupt or truncated")) << e.message;
        EXPECT_TRUE(contains(e.message, "re-export it")) << e.message;
    }
}

TEST(DecodeImage, TruncationIsNamedPerFormat) {
    const cv::Mat image = pattern(24, 16);
    const Bytes png = encode(image, ".png");
    const Bytes no_iend(png.begin(), png.end() - 12);  // IEND is the last 12 bytes
    EXPECT_TRUE(contains(decode_error(no_iend).message, "IEND"));

    Bytes webp = encode(image, ".webp");
    webp.pop_back();  // one byte short of what the RIFF header promises
    EXPECT_TRUE(contains(decode_error(webp).message, "WebP"));

    Bytes bmp = encode(image, ".bmp");
    bmp.pop_back();
    EXPECT_TRUE(contains(decode_error(bmp).message, "BMP pixel data"));

    const Bytes grey_bmp = encode(grey_pattern(24, 16), ".bmp");
    const Bytes palette_cut(grey_bmp.begin(), grey_bmp.begin() + 14 + 40 + 100);
    EXPECT_TRUE(contains(decode_error(palette_cut).message, "palette"));

    const Bytes jpeg = encode(image, ".jpg");
    const Bytes no_eoi(jpeg.begin(), jpeg.end() - 2);
    EXPECT_TRUE(contains(decode_error(no_eoi).message, "end-of-image"));
}

TEST(DecodeImage, PngCutInsideItsLastChunkIsTruncated) {
    const Bytes png = encode(pattern(24, 16), ".png");
    const Bytes no_crc(png.begin(), png.end() - 2);  // IEND present, its CRC cut
    const Error e = decode_error(no_crc);
    EXPECT_EQ(e.code, ErrorCode::kInvalidImage);
    EXPECT_TRUE(contains(e.message, "IEND")) << e.message;
}

TEST(DecodeImage, BmpCompressionOpenCvCannotReadIsUnsupported) {
    Bytes bmp = encode(pattern(8, 8), ".bmp");
    write_le32(bmp, 30, 5);  // BI_PNG: a PNG embedded in a BMP
    const Error e = decode_error(bmp);
    EXPECT_EQ(e.code, ErrorCode::kUnsupportedFormat);
    EXPECT_TRUE(contains(e.message, "compression")) << e.message;
}

TEST(DecodeImage, EndMarkerInsideAnExifThumbnailDoesNotHideTruncation) {
    // EXIF thumbnails are complete JPEGs (with their own FF D9) inside APP1.
    const Bytes thumbnail = encode(pattern(8, 8), ".jpg");
    const std::size_t length = 2 + 6 + thumbnail.size();
    Bytes app1 = {0xFF,
                  0xE1,
                  static_cast<std::uint8_t>(length >> 8),
                  static_cast<std::uint8_t>(length),
                  'E',
                  'x',
                  'i',
                  'f',
                  0,
                  0};
    app1.insert(app1.end(), thumbnail.begin(), thumbnail.end());

    Bytes jpeg = encode(pattern(64, 48), ".jpg");
    jpeg.insert(jpeg.begin() + 2, app1.begin(), app1.end());
    ASSERT_TRUE(decode_image(jpeg, {}, "source").ok());  // complete: fine

    jpeg.erase(jpeg.end() - static_cast<std::ptrdiff_t>(jpeg.size() / 4), jpeg.end());
    const Error e = decode_error(jpeg);
    EXPECT_EQ(e.code, ErrorCode::kInvalidImage);
    EXPECT_TRUE(contains(e.message, "end-of-image")) << e.message;
}

TEST(DecodeImage, ShortPrefixesNeverDecodeOrCrash) {
    const cv::Mat image = pattern(16, 12);
    for (const std::string ext : {".jpg", ".png", ".webp", ".bmp"}) {
        const Bytes full = encode(image, ext);
        // A stride keeps the run short (and the decoders' stderr warnings few) while still
        // cutting inside every header and the data.
        for (std::size_t n = 1; n < full.size(); n += 13) {
            const Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
            const Result<cv::Mat> r = decode_image(prefix, {}, "source");
            ASSERT_FALSE(r.ok()) << ext << " prefix " << n;
            EXPECT_TRUE(r.error().code == ErrorCode::kInvalidImage ||
                        r.error().code == ErrorCode::kUnsupportedFormat)
                << ext << " prefix " << n << ": " << r.error().message;
        }
    }
}

TEST(DecodeImage, JpegWithTrailingBytesAfterEndMarkerStillDecodes) {
    Bytes jpeg = encode(pattern(32, 16), ".jpg");
    append(jpeg, "camera maker trailer data");
    const Result<cv::Mat> r = decode_image(jpeg, {}, "source");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->size(), cv::Size(32, 16));
}

TEST(DecodeImage, HeaderThatDisagreesWithTheDataIsInvalid) {
    // The VP8X canvas is what we check the limits against, so a canvas smaller than the real
    // bitstream must not slip a bigger image past them.
    const Bytes real = encode(pattern(37, 23), ".webp");
    const Error e = decode_error(webp_with_vp8x(real, 8, 8, 0));
    EXPECT_EQ(e.code, ErrorCode::kInvalidImage) << e.message;
}

TEST(DecodeImage, AnimatedWebpIsUnsupportedWithAClearMessage) {
    const Bytes still = encode(pattern(8, 8), ".webp");
    const Error e = decode_error(webp_with_vp8x(still, 8, 8, 0x02));
    EXPECT_EQ(e.code, ErrorCode::kUnsupportedFormat);
    EXPECT_TRUE(contains(e.message, "animated")) << e.message;
}

// A WebP header that our peek accepts but libwebp rejects (the frame is marked invisible),
// padded to `size` bytes with `magic` placed at `offset`.
Bytes webp_libwebp_rejects(std::size_t size, std::size_t offset, std::string_view magic) {
    Bytes out = bytes_of("RIFF");
    append_le32(out, static_cast<std::uint32_t>(size - 8));
    append(out, "WEBPVP8 ");
    append_le32(out, static_cast<std::uint32_t>(size - 20));
    out.insert(out.end(), {0x00, 0x00, 0x00, 0x9D, 0x01, 0x2A, 16, 0, 16, 0});
    out.resize(size, 0x20);
    std::copy(magic.begin(), magic.end(), out.begin() + static_cast<std::ptrdiff_t>(offset));
    return out;
}

TEST(DecodeImage, WebpThatOpenCvWouldHandToAnotherDecoderIsRefused) {
    // Found by the fuzzer: OpenCV passed such bytes to its DICOM reader (via a temporary file),
    // which allocated 2.4 GB from the DICOM header, bypassing every limit we check.
    for (const auto& [offset, magic] :
         std::vector<std::pair<std::size_t, std::string_view>>{{128, "DICM"}, {140, "DTED"}}) {
        const Error e = decode_error(webp_libwebp_rejects(200, offset, magic));
        EXPECT_EQ(e.code, ErrorCode::kInvalidImage) << magic;
        EXPECT_TRUE(contains(e.message, "another format's signature")) << e.message;
    }
    // Without the foreign signature the same bytes are merely an invalid WebP.
    const Error plain = decode_error(webp_libwebp_rejects(200, 128, "    "));
    EXPECT_EQ(plain.code, ErrorCode::kInvalidImage);
    EXPECT_FALSE(contains(plain.message, "another format's signature")) << plain.message;
}

TEST(DecodeImage, RandomBytesBehindEachMagicNeverCrash) {
    std::mt19937 rng(1234);
    const std::vector<Bytes> magics = {{0xFF, 0xD8, 0xFF},
                                       bytes_of("\x89PNG\r\n\x1A\n"sv),
                                       bytes_of("RIFF\0\0\0\0WEBPVP8 "sv),
                                       bytes_of("RIFF\0\0\0\0WEBPVP8L"sv),
                                       bytes_of("BM")};
    DecodeLimits limits;
    limits.max_pixels = 1'000'000;
    int failures = 0;
    for (int i = 0; i < 300; ++i) {
        Bytes bytes = magics[static_cast<std::size_t>(i) % magics.size()];
        const std::size_t extra = rng() % 200;
        for (std::size_t k = 0; k < extra; ++k) bytes.push_back(static_cast<std::uint8_t>(rng()));
        const Result<cv::Mat> r = decode_image(bytes, limits, "source");
        if (r.ok()) {
            EXPECT_EQ(r->type(), CV_8UC3);
            EXPECT_LE(std::int64_t{r->cols} * r->rows, limits.max_pixels);
        } else {
            ++failures;
        }
    }
    EXPECT_GT(failures, 250);  // random bytes are almost never an image
}

}  // namespace
}  // namespace facefuse::image

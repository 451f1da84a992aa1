#pragma once
// Image formats facefuse reads and writes, recognised from bytes (never from names or
// Content-Type) for input, and from the file extension for output.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>

#include "common/result.hpp"

namespace facefuse::image {

enum class ImageFormat { kJpeg, kPng, kWebp, kBmp };

std::string_view format_name(ImageFormat format);  // "jpeg", "png", "webp", "bmp"
std::string_view content_type(ImageFormat format);  // "image/jpeg", ...

// Recognises the format from its magic bytes. nullopt when the bytes are no format we accept
// (text, GIF, TIFF, HEIC, ...). Never reads past bytes.size().
std::optional<ImageFormat> sniff_format(std::span<const std::uint8_t> bytes);

// Output format named by a path's extension (.png, .jpg/.jpeg, .webp, .bmp; case-insensitive).
// Fails with kUsage naming the extension and the accepted ones.
Result<ImageFormat> format_from_extension(const std::filesystem::path& path);

}  // namespace facefuse::image

#pragma once
// Internal helpers shared by the image layer's .cpp files. Not part of the layer's contract:
// nothing outside src/image/ should include this.
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "image/format.hpp"

namespace facefuse::image::detail {

// A short phrase for bytes sniff_format rejected ("the bytes look like text", "it is a GIF"),
// so the unsupported-format message can tell the user what they actually sent. Empty when
// there is nothing useful to say.
std::string describe_unrecognised(std::span<const std::uint8_t> bytes);

// Why a file whose header parsed is a variant of its format that OpenCV 4.6 cannot decode
// (animated WebP, BMP with JPEG/PNG/alpha-bitfield compression), or nullopt. Refusing these up
// front gives a clear "unsupported" message instead of a generic "corrupt" one and an OpenCV
// assertion printed to stderr.
std::optional<std::string> unsupported_variant(std::span<const std::uint8_t> bytes,
                                               ImageFormat format);

// Why the bytes of a file whose header parsed are visibly incomplete ("the PNG data ends
// before its IEND chunk"), or nullopt when they look whole. Run before cv::imdecode because
// the decoders handle truncation badly: libjpeg "decodes" a cut JPEG with only a stderr
// warning and paints the missing rows grey (we would swap a face into half an image), and
// libpng, libwebp and OpenCV's BMP reader fail but print to stderr on the way.
std::optional<std::string> truncation_reason(std::span<const std::uint8_t> bytes,
                                             ImageFormat format);

}  // namespace facefuse::image::detail

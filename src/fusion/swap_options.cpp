#include "fusion/swap_options.hpp"

#include <string>

namespace facefuse::fusion {
namespace {
constexpr std::array<std::string_view, 2> kMaskTypeNames = {"box", "area"};
constexpr std::array<std::string_view, 3> kMaskAreaNames = {"upper-face", "lower-face", "mouth"};

Error out_of_range(std::string_view flag, double value, std::string_view range) {
    return make_error(ErrorCode::kUsage, std::string(flag) + " " + std::to_string(value) +
                                             " is out of range: use " + std::string(range));
}
}  // namespace

std::span<const std::string_view> mask_type_names() { return kMaskTypeNames; }
std::span<const std::string_view> mask_area_names() { return kMaskAreaNames; }

std::optional<MaskType> parse_mask_type(std::string_view name) {
    for (size_t i = 0; i < kMaskTypeNames.size(); ++i)
        if (kMaskTypeNames[i] == name) return static_cast<MaskType>(i);
    return std::nullopt;
}

std::optional<MaskArea> parse_mask_area(std::string_view name) {
    for (size_t i = 0; i < kMaskAreaNames.size(); ++i)
        if (kMaskAreaNames[i] == name) return static_cast<MaskArea>(i);
    return std::nullopt;
}

Status SwapOptions::validate() const {
    if (mask_blur < 0 || mask_blur > 1) return out_of_range("--face-mask-blur", mask_blur, "0..1");
    for (int p : mask_padding) {
        if (p < 0 || p > 100) return out_of_range("--face-mask-padding", p, "0..100 (percent)");
    }
    if (fusion_degree < 0 || fusion_degree > 1)
        return out_of_range("--fusion-degree", fusion_degree, "0..1");
    if (shape_degree < 0 || shape_degree > 1)
        return out_of_range("--shape-degree", shape_degree, "0..1");
    if (target_selector.position < 0)
        return out_of_range("--face-position", target_selector.position, "0 or more");
    if (source_face_position < 0)
        return out_of_range("--source-face-position", source_face_position, "0 or more");
    if (mask_types.empty())
        return make_error(ErrorCode::kUsage, "--face-mask-types needs at least one of: box, area");
    for (MaskType t : mask_types) {
        if (t == MaskType::kArea && mask_areas.empty())
            return make_error(ErrorCode::kUsage,
                              "--face-mask-types area needs --face-mask-areas (upper-face, "
                              "lower-face, mouth)");
    }
    return Status::Ok();
}

}  // namespace facefuse::fusion

#include "face/selector.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace facefuse::face {
namespace {
constexpr std::array<std::string_view, 2> kModeNames = {"many", "one"};
constexpr std::array<std::string_view, 8> kOrderNames = {
    "left-right", "right-left", "top-bottom", "bottom-top",
    "small-large", "large-small", "best-worst", "worst-best"};

float area(const Face& f) { return f.box.width * f.box.height; }
float centre_x(const Face& f) { return f.box.x + f.box.width / 2; }
float centre_y(const Face& f) { return f.box.y + f.box.height / 2; }
}  // namespace

std::span<const std::string_view> selector_mode_names() { return kModeNames; }
std::span<const std::string_view> selector_order_names() { return kOrderNames; }

std::optional<SelectorMode> parse_selector_mode(std::string_view name) {
    for (size_t i = 0; i < kModeNames.size(); ++i)
        if (kModeNames[i] == name) return static_cast<SelectorMode>(i);
    return std::nullopt;
}

std::optional<SelectorOrder> parse_selector_order(std::string_view name) {
    for (size_t i = 0; i < kOrderNames.size(); ++i)
        if (kOrderNames[i] == name) return static_cast<SelectorOrder>(i);
    return std::nullopt;
}

void sort_faces(std::vector<Face>& faces, SelectorOrder order) {
    auto by = [&](auto key, bool ascending) {
        std::stable_sort(faces.begin(), faces.end(), [&](const Face& a, const Face& b) {
            return ascending ? key(a) < key(b) : key(a) > key(b);
        });
    };
    switch (order) {
        case SelectorOrder::kLeftRight: by(centre_x, true); break;
        case SelectorOrder::kRightLeft: by(centre_x, false); break;
        case SelectorOrder::kTopBottom: by(centre_y, true); break;
        case SelectorOrder::kBottomTop: by(centre_y, false); break;
        case SelectorOrder::kSmallLarge: by(area, true); break;
        case SelectorOrder::kLargeSmall: by(area, false); break;
        case SelectorOrder::kBestWorst: by([](const Face& f) { return f.score; }, false); break;
        case SelectorOrder::kWorstBest: by([](const Face& f) { return f.score; }, true); break;
    }
}

Result<std::vector<Face>> select_faces(std::vector<Face> faces, const SelectorOptions& options,
                                       ErrorCode none_found, std::string_view which) {
    if (faces.empty()) {
        return make_error(none_found, "no face found in the " + std::string(which) +
                                          " image: use a photo where a face is clearly visible "
                                          "(frontal, at least ~40 px wide)");
    }
    sort_faces(faces, options.order);
    if (options.mode == SelectorMode::kMany) return faces;

    const int count = static_cast<int>(faces.size());
    if (options.position < 0 || options.position >= count) {
        return make_error(ErrorCode::kFaceNotFound,
                          "face position " + std::to_string(options.position) + " requested in the " +
                              std::string(which) + " image, which has " + std::to_string(count) +
                              " face(s): choose a position from 0 to " + std::to_string(count - 1));
    }
    return std::vector<Face>{faces[options.position]};
}

}  // namespace facefuse::face

#include "fusion/options_json.hpp"

#include <nlohmann/json.hpp>

#include "fusion/processor.hpp"

namespace facefuse::fusion {
namespace {

using nlohmann::json;

Error bad(const std::string& key, const std::string& accepts) {
    return make_error(ErrorCode::kUsage, "options." + key + ": " + accepts);
}

template <typename T, typename Parse>
Status parse_names(const json& value, const std::string& key,
                   std::span<const std::string_view> names, Parse parse, std::vector<T>& out) {
    std::string list;
    for (auto n : names) list += (list.empty() ? "" : ", ") + std::string(n);
    if (!value.is_array()) return bad(key, "a list of: " + list);
    out.clear();
    for (const auto& v : value) {
        const auto parsed = v.is_string() ? parse(v.get<std::string>()) : std::nullopt;
        if (!parsed) return bad(key, "each item one of: " + list);
        out.push_back(*parsed);
    }
    return Status::Ok();
}

Status number(const json& value, const std::string& key, double lo, double hi, double& out) {
    if (!value.is_number() || value.get<double>() < lo || value.get<double>() > hi)
        return bad(key, "a number from " + std::to_string(lo) + " to " + std::to_string(hi));
    out = value.get<double>();
    return Status::Ok();
}

Status integer(const json& value, const std::string& key, int lo, int hi, int& out) {
    if (!value.is_number_integer() || value.get<long long>() < lo || value.get<long long>() > hi)
        return bad(key, "an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    out = static_cast<int>(value.get<long long>());
    return Status::Ok();
}

Status apply(const std::string& key, const json& v, JobOptions& o) {
    SwapOptions& s = o.swap;
    if (key == "processors") {
        if (!v.is_array() || v.empty()) return bad(key, "a non-empty list of processor names");
        o.processors.clear();
        for (const auto& p : v) {
            if (!p.is_string() || !find_processor(p.get<std::string>()))
                return bad(key, "unknown processor; use face_swapper, face_debugger or noop");
            o.processors.push_back(p.get<std::string>());
        }
        return Status::Ok();
    }
    if (key == "face_selector_mode") {
        const auto m =
            v.is_string() ? face::parse_selector_mode(v.get<std::string>()) : std::nullopt;
        if (!m) return bad(key, "\"many\" or \"one\"");
        s.target_selector.mode = *m;
        return Status::Ok();
    }
    if (key == "face_selector_order") {
        const auto order =
            v.is_string() ? face::parse_selector_order(v.get<std::string>()) : std::nullopt;
        if (!order)
            return bad(key,
                       "left-right, right-left, top-bottom, bottom-top, small-large, large-small, "
                       "best-worst or worst-best");
        s.target_selector.order = *order;
        return Status::Ok();
    }
    if (key == "face_position") return integer(v, key, 0, 1000, s.target_selector.position);
    if (key == "source_face_position") return integer(v, key, 0, 1000, s.source_face_position);
    if (key == "face_mask_types")
        return parse_names(v, key, mask_type_names(), parse_mask_type, s.mask_types);
    if (key == "face_mask_areas")
        return parse_names(v, key, mask_area_names(), parse_mask_area, s.mask_areas);
    if (key == "face_mask_blur") return number(v, key, 0, 1, s.mask_blur);
    if (key == "fusion_degree") return number(v, key, 0, 1, s.fusion_degree);
    if (key == "shape_degree") return number(v, key, 0, 1, s.shape_degree);
    if (key == "face_mask_padding") {
        if (!v.is_array() || (v.size() != 1 && v.size() != 2 && v.size() != 4))
            return bad(key, "1, 2 or 4 integers 0..100 (top right bottom left)");
        int p[4] = {0, 0, 0, 0};
        for (size_t i = 0; i < v.size(); ++i)
            if (Status st = integer(v[i], key, 0, 100, p[i]); !st) return st;
        if (v.size() == 1) s.mask_padding = {p[0], p[0], p[0], p[0]};
        if (v.size() == 2) s.mask_padding = {p[0], p[1], p[0], p[1]};
        if (v.size() == 4) s.mask_padding = {p[0], p[1], p[2], p[3]};
        return Status::Ok();
    }
    if (key == "output_format") {
        if (v.is_null()) {
            o.output_format.reset();
            return Status::Ok();
        }
        const auto f = v.is_string()
                           ? image::format_from_extension("x." + v.get<std::string>())
                           : Result<image::ImageFormat>(make_error(ErrorCode::kUsage, ""));
        if (!f)
            return bad(key, "\"png\", \"jpg\", \"webp\", \"bmp\" or null (the target's format)");
        o.output_format = *f;
        return Status::Ok();
    }
    if (key == "output_quality") return integer(v, key, 0, 100, o.output_quality);
    return make_error(
        ErrorCode::kUsage,
        "options: unknown key \"" + key + "\" (see GET /v1/capabilities for the accepted options)");
}

}  // namespace

Result<JobOptions> parse_job_options(std::string_view text) {
    JobOptions options;
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return options;
    const json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object())
        return make_error(ErrorCode::kUsage,
                          "options must be a JSON object, e.g. {\"face_selector_mode\": \"one\"}");
    for (const auto& [key, value] : parsed.items()) {
        if (Status st = apply(key, value, options); !st) return st.error();
    }
    if (Status st = options.swap.validate(); !st) return st.error();
    return options;
}

std::string to_json(const JobOptions& o) {
    const SwapOptions& s = o.swap;
    json types = json::array(), areas = json::array();
    for (auto t : s.mask_types) types.push_back(mask_type_names()[static_cast<size_t>(t)]);
    for (auto a : s.mask_areas) areas.push_back(mask_area_names()[static_cast<size_t>(a)]);
    json out = {
        {"processors", o.processors},
        {"face_selector_mode",
         face::selector_mode_names()[static_cast<size_t>(s.target_selector.mode)]},
        {"face_selector_order",
         face::selector_order_names()[static_cast<size_t>(s.target_selector.order)]},
        {"face_position", s.target_selector.position},
        {"source_face_position", s.source_face_position},
        {"face_mask_types", types},
        {"face_mask_blur", s.mask_blur},
        {"face_mask_padding", s.mask_padding},
        {"face_mask_areas", areas},
        {"fusion_degree", s.fusion_degree},
        {"shape_degree", s.shape_degree},
        {"output_quality", o.output_quality},
    };
    // Unset, the key is left out rather than written as null: a worker of the previous version
    // (rolling upgrades run both) knows no null and would fail the task as a bad option; without
    // the key it uses its own default. (Keys are written in sorted order, so where the key goes
    // is fixed either way.)
    if (o.output_format) out["output_format"] = image::format_name(*o.output_format);
    return out.dump();
}

}  // namespace facefuse::fusion

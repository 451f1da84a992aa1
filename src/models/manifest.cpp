#include "models/manifest.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace facefuse::models {
namespace {

using nlohmann::json;

bool is_name(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) return false;
    }
    return s != "." && s != "..";
}

bool is_sha256(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

// A relative path that stays inside its folder: no "..", no root, no empty parts.
bool stays_inside(const std::filesystem::path& relative) {
    if (relative.empty() || relative.is_absolute() || relative.has_root_name()) return false;
    for (const auto& part : relative)
        if (part == ".." || part.empty()) return false;
    return true;
}

Result<std::string> text_field(const json& entry, const char* field, const std::string& where, bool required) {
    auto it = entry.find(field);
    if (it == entry.end() || it->is_null()) {
        if (required) return make_error(ErrorCode::kUsage, where + ": field '" + field + "' is missing");
        return std::string();
    }
    if (!it->is_string()) return make_error(ErrorCode::kUsage, where + ": field '" + field + "' must be a string");
    std::string value = it->get<std::string>();
    if (value.size() > 4096) return make_error(ErrorCode::kUsage, where + ": field '" + field + "' is too long");
    if (required && value.empty()) return make_error(ErrorCode::kUsage, where + ": field '" + field + "' is empty");
    return value;
}

}  // namespace

Result<Manifest> parse_manifest(std::string_view text, const std::filesystem::path& model_dir) {
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error& e) {
        return make_error(ErrorCode::kUsage, std::string("manifest is not valid JSON: ") + e.what());
    }
    if (!doc.is_object() || !doc.contains("models") || !doc["models"].is_array())
        return make_error(ErrorCode::kUsage, "manifest must be an object with a \"models\" array");
    Manifest manifest;
    std::set<std::string> names;
    int index = 0;
    for (const json& entry : doc["models"]) {
        const std::string where = "manifest entry " + std::to_string(index++);
        if (!entry.is_object()) return make_error(ErrorCode::kUsage, where + " must be an object");
        ModelSpec spec;
        std::string path;
        for (auto [field, target, required] :
             {std::tuple{"name", &spec.name, true}, {"version", &spec.version, true}, {"kind", &spec.kind, true},
              {"path", &path, true}, {"sha256", &spec.sha256, true}, {"license", &spec.license, true},
              {"source", &spec.source, false}}) {
            auto value = text_field(entry, field, where, required);
            if (!value) return value.error();
            *target = std::move(value.value());
        }
        const std::string named = where + " ('" + spec.name + "')";
        if (!is_name(spec.name)) return make_error(ErrorCode::kUsage, named + ": name must be 1-64 of [a-z0-9_.-]");
        if (!is_name(spec.kind)) return make_error(ErrorCode::kUsage, named + ": kind must be 1-64 of [a-z0-9_.-]");
        if (!is_sha256(spec.sha256))
            return make_error(ErrorCode::kUsage, named + ": sha256 must be 64 lower-case hex digits");
        if (!names.insert(spec.name).second) return make_error(ErrorCode::kUsage, named + ": name appears twice");
        const std::filesystem::path given(path);
        if (given.is_absolute()) {
            spec.path = given.lexically_normal();
        } else if (stays_inside(given)) {
            spec.path = model_dir / given;
        } else {
            return make_error(ErrorCode::kUsage, named + ": path '" + path + "' leaves the model directory");
        }
        if (spec.source.empty()) spec.source = given.filename().string();
        if (!stays_inside(spec.source))
            return make_error(ErrorCode::kUsage, named + ": source '" + spec.source + "' must be a relative path without '..'");
        manifest.models.push_back(std::move(spec));
    }
    if (manifest.models.empty()) return make_error(ErrorCode::kUsage, "manifest lists no models");
    return manifest;
}

Result<Manifest> read_manifest(const std::filesystem::path& file, std::filesystem::path model_dir) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return make_error(ErrorCode::kFileNotFound, "cannot read the model manifest " + file.string());
    std::ostringstream text;
    text << in.rdbuf();
    if (model_dir.empty()) model_dir = file.parent_path().empty() ? "." : file.parent_path();
    auto manifest = parse_manifest(text.str(), model_dir);
    if (!manifest) return make_error(manifest.error().code, file.string() + ": " + manifest.error().message);
    return manifest;
}

Manifest builtin_manifest() { return Manifest{{default_landmark_model()}}; }

Result<Manifest> load_manifest(const std::filesystem::path& file, std::filesystem::path model_dir) {
    if (file.empty()) return builtin_manifest();
    return read_manifest(file, std::move(model_dir));
}

std::string to_json(const Manifest& manifest, const std::filesystem::path& model_dir) {
    json models = json::array();
    for (const ModelSpec& spec : manifest.models) {
        std::filesystem::path path = spec.path;
        if (!model_dir.empty()) {
            const auto relative = spec.path.lexically_relative(model_dir);
            if (!relative.empty() && stays_inside(relative)) path = relative;
        }
        json entry = {{"name", spec.name}, {"version", spec.version}, {"kind", spec.kind}, {"path", path.string()},
                      {"sha256", spec.sha256}, {"license", spec.license}};
        if (!spec.source.empty()) entry["source"] = spec.source;
        models.push_back(std::move(entry));
    }
    return json{{"models", models}}.dump(2) + "\n";
}

Result<ModelSpec> find_kind(const Manifest& manifest, std::string_view kind) {
    const ModelSpec* found = nullptr;
    for (const ModelSpec& spec : manifest.models) {
        if (spec.kind != kind) continue;
        if (found)
            return make_error(ErrorCode::kUsage, "the manifest lists two models of kind " + std::string(kind) + " ('" +
                                                     found->name + "', '" + spec.name + "'): keep one");
        found = &spec;
    }
    if (!found)
        return make_error(ErrorCode::kUsage, "the manifest lists no model of kind " + std::string(kind) +
                                                 ": add one (see docs/models.md)");
    return *found;
}

}  // namespace facefuse::models

#include "models/pull.hpp"

#include <system_error>

#include "common/atomic_file.hpp"
#include "common/sha256.hpp"

namespace facefuse::models {
namespace {

bool inside(const std::filesystem::path& dir, const std::filesystem::path& path) {
    const auto relative = path.lexically_normal().lexically_relative(dir.lexically_normal());
    if (relative.empty() || relative.is_absolute()) return false;
    for (const auto& part : relative)
        if (part == "..") return false;
    return true;
}

// The file is there and its bytes are the ones the manifest pins.
bool already_installed(const ModelSpec& spec) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(spec.path, ec)) return false;
    auto digest = sha256_file_hex(spec.path);
    return digest && *digest == spec.sha256;
}

}  // namespace

Result<std::vector<PulledModel>> pull_models(const Manifest& manifest, const std::filesystem::path& model_dir,
                                             const FetchModel& fetch) {
    for (const ModelSpec& spec : manifest.models) {
        if (!inside(model_dir, spec.path))
            return make_error(ErrorCode::kUsage, "model '" + spec.name + "': path " + spec.path.string() +
                                                     " is outside the model directory " + model_dir.string() +
                                                     ": give manifest paths relative to it");
    }
    std::error_code ec;
    std::filesystem::create_directories(model_dir, ec);
    if (ec) return make_error(ErrorCode::kOutputError, "cannot create " + model_dir.string() + ": " + ec.message());

    std::vector<PulledModel> pulled;
    for (const ModelSpec& spec : manifest.models) {
        PulledModel entry{spec.name, spec.version, spec.path};
        if (already_installed(spec)) {
            entry.bytes = std::filesystem::file_size(spec.path, ec);
            pulled.push_back(std::move(entry));
            continue;
        }
        auto bytes = fetch(spec);
        if (!bytes)
            return make_error(bytes.error().code,
                              "model '" + spec.name + "' (" + spec.source + "): " + bytes.error().message);
        const std::string digest = sha256_hex(std::span<const std::uint8_t>(*bytes));
        if (digest != spec.sha256)
            return make_error(ErrorCode::kModelUnavailable,
                              "model '" + spec.name + "' from " + spec.source + " has sha256 " + digest +
                                  ", the manifest expects " + spec.sha256 +
                                  ": the source holds another version or a damaged copy; nothing was written");
        std::filesystem::create_directories(spec.path.parent_path(), ec);
        if (Status st = write_file_atomically(spec.path, *bytes); !st) return st.error();
        entry.fetched = true;
        entry.bytes = bytes->size();
        pulled.push_back(std::move(entry));
    }
    const std::string text = to_json(manifest, model_dir);
    const std::span<const std::uint8_t> manifest_bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    if (Status st = write_file_atomically(model_dir / "manifest.json", manifest_bytes); !st) return st.error();
    return pulled;
}

}  // namespace facefuse::models

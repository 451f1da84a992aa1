#pragma once
// Installing a model set: what `facefuse models pull` does for an init container or a shared
// volume. The transport (S3, HTTP, a folder) is the caller's; this file owns the rules that make
// a model directory safe to serve from while it is being filled:
//   - a file whose sha256 already matches is kept (a pull is cheap to repeat);
//   - fetched bytes are checked against the manifest before anything is written, so a damaged
//     or swapped download never lands;
//   - each file is written atomically (temporary name, fsync, rename);
//   - the directory's manifest.json is written last, so a process reading it never finds a
//     model it names missing or half-written.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "models/manifest.hpp"

namespace facefuse::models {

// Returns the bytes of one model; spec.source says which (relative to wherever the caller
// fetches from). Errors are the transport's (kUnavailable, kNotFound, ...).
using FetchModel = std::function<Result<std::vector<std::uint8_t>>(const ModelSpec& spec)>;

struct PulledModel {
    std::string name;
    std::string version;
    std::filesystem::path path;
    bool fetched = false;     // false: the file was there with the right checksum
    std::uint64_t bytes = 0;  // the file's size
};

// Installs every model of `manifest` into `model_dir` (created if missing), then writes
// model_dir/manifest.json naming them by relative path. Every path must lie inside model_dir
// (manifests read with read_manifest(file, model_dir) resolve relative paths there).
// Errors: kUsage for a path outside model_dir; the fetch's error naming the model;
// kModelUnavailable when fetched bytes do not match the manifest's sha256 (nothing written);
// kOutputError when the directory cannot be written. Models installed before an error stay.
Result<std::vector<PulledModel>> pull_models(const Manifest& manifest, const std::filesystem::path& model_dir,
                                             const FetchModel& fetch);

}  // namespace facefuse::models

#pragma once
// A model manifest: the set of models a process serves or an operator distributes, as JSON.
//
//   {"models": [{"name": "dlib_68_landmarks", "version": "19.24", "kind": "face_landmarker",
//                "path": "shape_predictor_68_face_landmarks.dat", "sha256": "fbdc...",
//                "license": "...", "source": "dlib/shape_predictor_68_face_landmarks.dat"}]}
//
// A relative `path` lives in the model directory (the manifest's own folder unless the caller
// names another); it may not climb out of it, so a hostile manifest cannot make `models pull`
// write elsewhere. Every entry of a manifest file must carry a sha256: a model whose bytes are
// not pinned cannot be told from a damaged or swapped one.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "models/model_spec.hpp"

namespace facefuse::models {

struct Manifest {
    std::vector<ModelSpec> models;
};

// Parses manifest JSON; relative paths are resolved against `model_dir`. Errors: kUsage naming
// the entry and field at fault (bad JSON, missing or malformed field, duplicate name, a path
// outside model_dir).
Result<Manifest> parse_manifest(std::string_view json, const std::filesystem::path& model_dir);

// Reads and parses `file`; model_dir defaults to the file's folder. kFileNotFound or kUsage.
Result<Manifest> read_manifest(const std::filesystem::path& file, std::filesystem::path model_dir = {});

// The manifest of a process started without one: Debian's landmark model.
Manifest builtin_manifest();

// read_manifest(file, model_dir), or builtin_manifest() when `file` is empty.
Result<Manifest> load_manifest(const std::filesystem::path& file, std::filesystem::path model_dir = {});

// The JSON form (paths as given: absolute stay absolute, those inside model_dir are relative).
std::string to_json(const Manifest& manifest, const std::filesystem::path& model_dir);

// The one entry of `kind`; kUsage when there is none or more than one.
Result<ModelSpec> find_kind(const Manifest& manifest, std::string_view kind);

}  // namespace facefuse::models

#pragma once
// What a model is: name, version, kind, where its file lives, its checksum, and under which
// licence it may be used. face/ and fusion/ receive a ModelSpec and never hard-code a path.
#include <filesystem>
#include <string>

#include "common/result.hpp"

namespace facefuse::models {

// The kind the engine loads as its landmark model (FaceFusion's name for the stage).
inline constexpr const char* kFaceLandmarker = "face_landmarker";

struct ModelSpec {
    std::string name;     // [a-z0-9_.-], unique within a manifest
    std::string version;  // free text, shown in facefuse_model_info{version}
    std::string kind;     // what the engine uses it for, e.g. face_landmarker
    std::filesystem::path path;
    std::string sha256;   // lower-case hex; empty only for a file the operator named by path
    std::string license;  // one line; shown by `facefuse --version`, `models list` and the README
    std::string source;   // where `models pull` fetches it, relative to --from; empty: the file name
};

// dlib's 68-point shape predictor as Debian's libdlib-data (19.24) installs it. Trained on
// iBUG 300-W, whose terms exclude commercial use: replace it (any LandmarkProvider) for
// commercial products.
ModelSpec default_landmark_model();

// Checks that spec.path is a readable regular file. Errors: kModelUnavailable with a message
// naming the model, the path, and how to fix it (install the package or pass another path).
Status check_model_file(const ModelSpec& spec);

// check_model_file, then the file's SHA-256 against spec.sha256 (skipped when that is empty).
// Reads the whole file (about 65 ms for the 100 MB default). Errors: kModelUnavailable naming
// both digests and how to fix it.
Status verify_model(const ModelSpec& spec);

}  // namespace facefuse::models

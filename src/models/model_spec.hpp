#pragma once
// What a model is: name, version, where its file lives, and under which licence it may be used.
//
// Issue 2 needs only the default landmark model; the manifest, checksums and hot reload of the
// full registry build on this struct later. Kept in its own layer so that face/ and fusion/
// never hard-code a path.
#include <filesystem>
#include <string>

#include "common/result.hpp"

namespace facefuse::models {

struct ModelSpec {
    std::string name;
    std::string version;
    std::filesystem::path path;
    std::string license;  // one line; shown by `facefuse --version` and in the README
};

// dlib's 68-point shape predictor as Debian's libdlib-data installs it. Trained on iBUG 300-W,
// whose terms exclude commercial use: replace it (any LandmarkProvider) for commercial products.
ModelSpec default_landmark_model();

// Checks that spec.path is a readable regular file. Errors: kModelUnavailable with a message
// naming the model, the path, and how to fix it (install the package or pass another path).
Status check_model_file(const ModelSpec& spec);

}  // namespace facefuse::models

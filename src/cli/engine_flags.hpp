#pragma once
// Flags every engine subcommand shares (models, detector, input limits), registered once, and
// turned into a ready FaceAnalyser. Flags win over FACEFUSE_* environment variables.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "common/result.hpp"
#include "face/analyser.hpp"
#include "image/decode.hpp"

namespace facefuse::cli {

struct EngineFlags {
    std::string landmark_model;  // empty: the default model
    int detector_size = 640;
    bool try_rotations = true;
    image::DecodeLimits limits;

    void add_to(CLI::App& command);

    // Loads the landmark model (~0.4 s) and builds an analyser. kModelUnavailable on failure.
    Result<std::unique_ptr<face::FaceAnalyser>> make_analyser() const;
};

// Prints "facefuse: <code>: <message>" to stderr and returns the code's CLI exit code.
int report(const Error& error);

}  // namespace facefuse::cli

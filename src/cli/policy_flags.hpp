#pragma once
// The content-policy flags of every role that runs workers (serve, worker): moderation with an
// operator-supplied classifier, the provenance marker and the visible watermark.
// docs/content-policy.md explains them and the public models operators plug in.
#include <CLI/CLI.hpp>

#include <string>

#include "common/result.hpp"
#include "worker/worker_pool.hpp"

namespace facefuse::cli {

struct PolicyFlags {
    std::string moderation = "off";
    std::string model;
    std::string config;
    std::string input = "224x224";
    std::string mean = "0,0,0";
    double scale = 1.0;
    bool swap_rb = false;
    std::string output;
    int index = 0;
    bool softmax = false;
    double threshold = fusion::moderation::kDefaultThreshold;
    bool no_provenance = false;
    std::string provenance_text = std::string(image::kDefaultProvenanceText);
    std::string watermark;

    void add_to(CLI::App& command);

    // Loads and checks the classifier (once, at start-up) and builds the workers' policy.
    // kUsage for inconsistent flags (a mode without a model, a bad --moderation-input),
    // kModelUnavailable for a model that does not load.
    Result<worker::ContentPolicy> build() const;
};

}  // namespace facefuse::cli

#pragma once
// The S3 settings every command that talks to an S3-compatible store takes (gateway, worker,
// models pull), with the same flags and FACEFUSE_* variables everywhere. Credentials come from
// the standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN variables only.
#include <string>

#include <CLI/CLI.hpp>

#include "storage/s3/s3_blob_store.hpp"

namespace facefuse::cli {

struct S3Flags {
    std::string endpoint;
    std::string bucket = "facefuse";
    std::string region = "us-east-1";
    bool path_style = true;

    // with_bucket: whether --s3-bucket is a flag (models pull names its bucket in --from).
    void add_to(CLI::App& command, bool with_bucket = true);
    // The flags plus the AWS_* credentials.
    storage::S3Options options() const;
};

}  // namespace facefuse::cli

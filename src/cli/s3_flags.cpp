#include "cli/s3_flags.hpp"

namespace facefuse::cli {

void S3Flags::add_to(CLI::App& c, bool with_bucket) {
    c.add_option("--s3-endpoint", endpoint, "S3-compatible endpoint URL (empty: AWS for --s3-region)")
        ->envname("FACEFUSE_S3_ENDPOINT");
    if (with_bucket)
        c.add_option("--s3-bucket", bucket, "bucket for images")->envname("FACEFUSE_S3_BUCKET")->capture_default_str();
    c.add_option("--s3-region", region, "SigV4 region")->envname("FACEFUSE_S3_REGION")->capture_default_str();
    c.add_option("--s3-path-style", path_style, "path-style URLs (true) or virtual-host style (false)")
        ->envname("FACEFUSE_S3_PATH_STYLE")
        ->capture_default_str();
}

storage::S3Options S3Flags::options() const {
    storage::S3Options s3 = storage::s3_options_from_env();
    s3.endpoint = endpoint;
    s3.bucket = bucket;
    s3.region = region;
    s3.path_style = path_style;
    return s3;
}

}  // namespace facefuse::cli

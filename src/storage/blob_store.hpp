#pragma once
// BlobStore: bytes under a key. Keys are tenant-prefixed by construction (blob_key()), so one
// tenant's objects never sit beside another's without their tenant in the path.
//
// put() is idempotent: writing the same key again replaces the object atomically (a reader sees
// the old or the new bytes, never a mix), which is what makes a second run of a task harmless.
// All methods are safe to call concurrently. Errors: kNotFound (get of a missing key),
// kUnavailable (the store cannot be reached: transient), kInternal.
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace facefuse::storage {

class BlobStore {
public:
    virtual ~BlobStore() = default;
    virtual Status put(const std::string& key, std::span<const std::uint8_t> bytes,
                       std::string_view content_type) = 0;
    virtual Result<std::vector<std::uint8_t>> get(const std::string& key) = 0;
    // Not an error if the key does not exist.
    virtual Status remove(const std::string& key) = 0;
    virtual Result<bool> exists(const std::string& key) = 0;
    // A URL that reads the object without credentials until `expires` from now, for stores
    // that have such URLs (S3). Others: kUsage, saying so.
    virtual Result<std::string> presign_get(const std::string& key, std::chrono::seconds expires) {
        (void)key;
        (void)expires;
        return make_error(ErrorCode::kUsage,
                          "presigned URLs need the S3 blob store (the gateway shape); fetch "
                          "/v1/tasks/{id}/result instead");
    }
};

// "tenants/{tenant}/tasks/{task_id}/{role}.{ext}", role "source" | "target" | "result".
// tenant and task_id must be URL-safe ([A-Za-z0-9._-]); callers validate them first.
std::string blob_key(std::string_view tenant, std::string_view task_id, std::string_view role,
                     std::string_view extension);

}  // namespace facefuse::storage

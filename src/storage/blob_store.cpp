#include "storage/blob_store.hpp"

namespace facefuse::storage {

std::string blob_key(std::string_view tenant, std::string_view task_id, std::string_view role,
                     std::string_view extension) {
    // A leading dot is tolerated ("png" and ".png" give the same key) because callers often hold
    // an extension in either form; an empty extension gives a key with no dot at all.
    if (!extension.empty() && extension.front() == '.') extension.remove_prefix(1);
    std::string key;
    key.reserve(24 + tenant.size() + task_id.size() + role.size() + extension.size());
    key.append("tenants/").append(tenant).append("/tasks/").append(task_id).append("/");
    key.append(role);
    if (!extension.empty()) key.append(".").append(extension);
    return key;
}

}  // namespace facefuse::storage

#include <gtest/gtest.h>

#include "storage/blob_store.hpp"

namespace facefuse::storage {
namespace {

TEST(BlobKey, HasTenantTaskRoleAndExtension) {
    EXPECT_EQ(blob_key("acme", "01HZX3", "source", "jpg"), "tenants/acme/tasks/01HZX3/source.jpg");
    EXPECT_EQ(blob_key("t-1", "task_2.b", "result", "png"),
              "tenants/t-1/tasks/task_2.b/result.png");
    EXPECT_EQ(blob_key("acme", "x", "target", "webp"), "tenants/acme/tasks/x/target.webp");
}

TEST(BlobKey, ToleratesALeadingDotInTheExtension) {
    EXPECT_EQ(blob_key("acme", "1", "source", ".png"), blob_key("acme", "1", "source", "png"));
}

TEST(BlobKey, EmptyExtensionGivesNoDot) {
    EXPECT_EQ(blob_key("acme", "1", "result", ""), "tenants/acme/tasks/1/result");
}

TEST(BlobKey, DifferentTenantsNeverShareAPrefix) {
    const std::string a = blob_key("a", "1", "source", "png");
    const std::string ab = blob_key("ab", "1", "source", "png");
    EXPECT_NE(ab.rfind("tenants/a/", 0), 0u);
    EXPECT_EQ(a.rfind("tenants/a/", 0), 0u);
}

}  // namespace
}  // namespace facefuse::storage

// client_ip: X-Forwarded-For is believed only as far as trusted proxies vouch for it; spoofed
// entries and garbage never become the client's address.
#include "http/audit/client_ip.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace facefuse::http::audit {
namespace {

const std::vector<std::string> kProxies = {"10.0.0.1", "10.0.0.2", "2001:db8::1"};

TEST(ClientIp, UntrustedPeerIgnoresTheHeader) {
    EXPECT_EQ(client_ip("198.51.100.9", "1.2.3.4", kProxies), "198.51.100.9");
    EXPECT_EQ(client_ip("198.51.100.9", "", kProxies), "198.51.100.9");
    EXPECT_EQ(client_ip("198.51.100.9", "1.2.3.4", std::vector<std::string>{}), "198.51.100.9");
}

TEST(ClientIp, TrustedPeerGivesTheRightMostEntry) {
    EXPECT_EQ(client_ip("10.0.0.1", "203.0.113.7", kProxies), "203.0.113.7");
    EXPECT_EQ(client_ip("10.0.0.1", " 203.0.113.7 ", kProxies), "203.0.113.7");
}

TEST(ClientIp, WalksAChainOfTrustedProxies) {
    // client -> 10.0.0.2 -> 10.0.0.1 -> us
    EXPECT_EQ(client_ip("10.0.0.1", "203.0.113.7, 10.0.0.2", kProxies), "203.0.113.7");
    EXPECT_EQ(client_ip("10.0.0.1", "203.0.113.7,10.0.0.2,10.0.0.1", kProxies), "203.0.113.7");
}

TEST(ClientIp, SpoofedLeftMostEntriesAreIgnored) {
    // The client sent "X-Forwarded-For: 1.1.1.1, 10.0.0.2" itself; the proxy appended its peer.
    EXPECT_EQ(client_ip("10.0.0.1", "1.1.1.1, 10.0.0.2, 203.0.113.7", kProxies), "203.0.113.7");
    EXPECT_EQ(client_ip("10.0.0.1", "127.0.0.1, 203.0.113.7", kProxies), "203.0.113.7");
}

TEST(ClientIp, OnlyProxiesInTheHeaderGivesTheFurthestProxy) {
    EXPECT_EQ(client_ip("10.0.0.1", "10.0.0.2", kProxies), "10.0.0.2");
    EXPECT_EQ(client_ip("10.0.0.1", "", kProxies), "10.0.0.1");
}

TEST(ClientIp, GarbageEndsTheWalkAtTheLastTrustedHop) {
    EXPECT_EQ(client_ip("10.0.0.1", "garbage", kProxies), "10.0.0.1");
    EXPECT_EQ(client_ip("10.0.0.1", "1.1.1.1, unknown", kProxies), "10.0.0.1");
    EXPECT_EQ(client_ip("10.0.0.1", "1.1.1.1, unknown, 10.0.0.2", kProxies), "10.0.0.2");
    EXPECT_EQ(client_ip("10.0.0.1", "1.1.1.1,,", kProxies), "10.0.0.1");
    EXPECT_EQ(client_ip("10.0.0.1", "1.1.1.1, 999.1.1.1", kProxies), "10.0.0.1");
    EXPECT_EQ(client_ip("10.0.0.1", "1.1.1.1, 1.2.3.4\r\nX-Evil: 1", kProxies), "10.0.0.1");
    EXPECT_EQ(client_ip("10.0.0.1", std::string("1.2.3.4\0", 8), kProxies), "10.0.0.1");
    EXPECT_EQ(client_ip("10.0.0.1", ",,,,,,", kProxies), "10.0.0.1");
}

TEST(ClientIp, HugeHeaderIsBounded) {
    std::string header;
    for (int i = 0; i < 100'000; ++i) header += "10.0.0.2, ";
    header += "203.0.113.7";
    EXPECT_EQ(client_ip("10.0.0.1", header, kProxies), "203.0.113.7");
    std::string proxies_only;
    for (int i = 0; i < 1000; ++i) proxies_only += "10.0.0.2,";
    proxies_only += "10.0.0.2";
    EXPECT_EQ(client_ip("10.0.0.1", proxies_only, kProxies), "10.0.0.2");
}

TEST(ClientIp, PortsBracketsAndCanonicalForms) {
    EXPECT_EQ(client_ip("10.0.0.1", "203.0.113.7:51234", kProxies), "203.0.113.7");
    EXPECT_EQ(client_ip("10.0.0.1", "[2001:DB8:0:0::7]:443", kProxies), "2001:db8::7");
    EXPECT_EQ(client_ip("10.0.0.1", "2001:db8::7", kProxies), "2001:db8::7");
    EXPECT_EQ(client_ip("2001:db8:0::1", "203.0.113.7", kProxies), "203.0.113.7");
    // An IPv4 peer seen through a dual-stack socket is still the trusted IPv4 proxy.
    EXPECT_EQ(client_ip("::ffff:10.0.0.1", "203.0.113.7", kProxies), "203.0.113.7");
    EXPECT_EQ(client_ip("::ffff:198.51.100.9", "", kProxies), "198.51.100.9");
    EXPECT_EQ(client_ip("[::1]:8080", "", kProxies), "::1");
}

TEST(ClientIp, MalformedPeerIsFilteredNotTrusted) {
    EXPECT_EQ(client_ip("not an ip\n", "1.2.3.4", kProxies), "notanip");
    EXPECT_EQ(client_ip("", "1.2.3.4", kProxies), "");
}

TEST(TrustedProxies, CidrRanges) {
    auto proxies = TrustedProxies::parse({"10.0.0.0/8", "fd00::/8", "192.168.1.128/25"});
    ASSERT_TRUE(proxies.ok()) << proxies.error().message;
    EXPECT_TRUE(proxies->contains("10.200.3.4"));
    EXPECT_TRUE(proxies->contains("::ffff:10.1.1.1"));
    EXPECT_FALSE(proxies->contains("11.0.0.1"));
    EXPECT_TRUE(proxies->contains("fd12::1"));
    EXPECT_FALSE(proxies->contains("fe80::1"));
    EXPECT_TRUE(proxies->contains("192.168.1.200"));
    EXPECT_FALSE(proxies->contains("192.168.1.100"));
    EXPECT_FALSE(proxies->contains("garbage"));
    EXPECT_EQ(client_ip("10.9.9.9", "203.0.113.7, 10.1.2.3", *proxies), "203.0.113.7");
}

TEST(TrustedProxies, BadEntriesAreUsageErrorsOrSkipped) {
    for (const char* bad :
         {"10.0.0.0/33", "::/129", "host.example", "10.0.0.1/", "1.2.3.4:80", "10.0.0.0/-1", ""}) {
        auto proxies = TrustedProxies::parse({bad});
        ASSERT_FALSE(proxies.ok()) << bad;
        EXPECT_EQ(proxies.error().code, ErrorCode::kUsage);
    }
    const TrustedProxies lenient = TrustedProxies::parse_lenient({"junk", "10.0.0.1"});
    EXPECT_TRUE(lenient.contains("10.0.0.1"));
    EXPECT_FALSE(TrustedProxies().contains("10.0.0.1"));
}

}  // namespace
}  // namespace facefuse::http::audit

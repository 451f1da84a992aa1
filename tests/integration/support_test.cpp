// Tests of the shared test helpers (tests/support/test_support.hpp) that every other test uses.
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "support/background_process.hpp"

namespace facefuse::test {
namespace {

TEST(RunCommand, CapturesStdoutStderrAndExitCode) {
  const CommandResult r = run_command({"/bin/sh", "-c", "echo hi; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << describe(r);
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.term_signal, 0);
}

TEST(RunCommand, LooksUpPathAndPassesArgumentsWithoutShell) {
  const CommandResult r = run_command({"printf", "%s|", "a b", "$HOME", "*"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "a b|$HOME|*|");
}

TEST(RunCommand, FeedsLargeStdinWhileDrainingOutputWithoutDeadlock) {
  // Far more than a pipe buffer in both directions at once.
  std::string data;
  for (int i = 0; data.size() < 4 * 1024 * 1024; ++i) data += "line " + std::to_string(i) + "\n";
  const CommandResult r = run_command({"/bin/sh", "-c", "cat; cat /dev/null >&2"}, data, 60);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.out.size(), data.size());
  EXPECT_TRUE(r.out == data);
}

TEST(RunCommand, ChildThatIgnoresStdinDoesNotBreakTheCaller) {
  const std::string data(1024 * 1024, 'x');
  const CommandResult r = run_command({"/bin/sh", "-c", "exec 0<&-; echo done"}, data);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "done\n");
}

TEST(RunCommand, KillsTheProcessGroupOnTimeout) {
  const auto start = std::chrono::steady_clock::now();
  // The background sleep holds stdout open: only killing the whole group ends the wait.
  const CommandResult r = run_command({"/bin/sh", "-c", "echo started; sleep 30 & sleep 30"}, {}, 1);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.timed_out) << describe(r);
  EXPECT_EQ(r.term_signal, SIGKILL);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_EQ(r.out, "started\n");
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

TEST(RunCommand, ReportsDeathBySignal) {
  const CommandResult r = run_command({"/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.term_signal, SIGTERM) << describe(r);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
}

TEST(RunCommand, MissingProgramGives127) {
  const CommandResult r = run_command({"/nonexistent/facefuse-no-such-program"});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("exec failed"), std::string::npos) << r.err;
}

TEST(TempDir, IsCreatedAndRemovedWithItsContents) {
  std::filesystem::path kept;
  {
    const TempDir dir = temp_dir();
    kept = dir.path();
    ASSERT_TRUE(std::filesystem::is_directory(kept));
    std::filesystem::create_directories(dir / "a" / "b");
    std::ofstream(dir / "a" / "b" / "f.txt") << "x";
  }
  EXPECT_FALSE(std::filesystem::exists(kept));
}

// The descriptors a child process has open, as it lists them itself.
std::set<std::string> fds_listed(const std::string& listing) {
  std::set<std::string> fds;
  std::istringstream in(listing);
  for (std::string fd; in >> fd;) fds.insert(fd);
  return fds;
}

// A socket that some thread of the test holds while another starts a server must not live on in
// that server. One CI run failed so: a serve kept, from its fork, the port free_port() had just
// probed for another serve, which then could not listen on it.
TEST(BackgroundProcess, TheChildGetsOnlyStdio) {
  const TempDir dir = temp_dir();
  // No SOCK_CLOEXEC, as libcurl and most libraries make their sockets.
  const int held = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(held, 0);
  BackgroundProcess child({"/bin/sh", "-c", "ls /proc/$$/fd"}, dir / "fds.log");
  const int status = child.wait_exit(std::chrono::seconds(30));
  ::close(held);
  ASSERT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << child.log();
  EXPECT_EQ(fds_listed(child.log()), (std::set<std::string>{"0", "1", "2"})) << child.log();
}

TEST(BackgroundProcess, ExtraEnvironmentReplacesTheInheritedValue) {
  const TempDir dir = temp_dir();
  ::setenv("FACEFUSE_SUPPORT_TEST", "inherited", 1);
  BackgroundProcess child({"/bin/sh", "-c", "echo \"$FACEFUSE_SUPPORT_TEST\""}, dir / "env.log",
                          {"FACEFUSE_SUPPORT_TEST=given"});
  ::unsetenv("FACEFUSE_SUPPORT_TEST");
  ASSERT_GE(child.wait_exit(std::chrono::seconds(30)), 0);
  EXPECT_EQ(child.log(), "given\n");
}

TEST(RunCommand, TheChildGetsOnlyStdio) {
  const int held = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(held, 0);
  const CommandResult r = run_command({"/bin/sh", "-c", "ls /proc/$$/fd"});
  ::close(held);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(fds_listed(r.out), (std::set<std::string>{"0", "1", "2"})) << r.out;
}

TEST(SharedData, FacePhotosArePresent) {
  const auto dir = require_faces_dir();
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "expected_faces.tsv"));
}

TEST(Build, FacefuseBinaryIsBuilt) {
  EXPECT_TRUE(std::filesystem::is_regular_file(facefuse_binary())) << facefuse_binary();
}

}  // namespace
}  // namespace facefuse::test

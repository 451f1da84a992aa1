#pragma once
// Helpers shared by all facefuse tests: where the test data and the built binary are, a scratch
// directory, and running a command (usually the facefuse binary) with its output captured.
//
// The paths come from compile definitions set in tests/CMakeLists.txt:
//   FACEFUSE_SHARED_DATA  ../shared/data beside the checkout (faces/ required, models/ optional);
//                         the environment variable FACEFUSE_TEST_DATA overrides it at run time
//   FACEFUSE_SOURCE_DIR   the repository root
//   FACEFUSE_BINARY       the facefuse executable of the same build
//
// Use: #include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#if !defined(FACEFUSE_SHARED_DATA) || !defined(FACEFUSE_SOURCE_DIR)
#error "test_support.hpp needs the compile definitions from tests/CMakeLists.txt"
#endif

namespace facefuse::test {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Paths

// The test data folder: $FACEFUSE_TEST_DATA if set, else ../shared/data beside the checkout.
inline fs::path shared_data_dir() {
  if (const char* env = std::getenv("FACEFUSE_TEST_DATA"); env != nullptr && *env != '\0') {
    return env;
  }
  return FACEFUSE_SHARED_DATA;
}

// Face photos (see faces/SOURCES.md and faces/expected_faces.tsv). Required by the test suite.
inline fs::path faces_dir() { return shared_data_dir() / "faces"; }

// Pretrained models (see models/MODELS.md). Optional: tests that need one GTEST_SKIP() without it.
inline fs::path models_dir() { return shared_data_dir() / "models"; }

// faces_dir(), recording a (non-fatal) test failure when it is missing: the faces data is part of
// the test setup, so its absence must never look like a pass.
inline fs::path require_faces_dir() {
  const fs::path dir = faces_dir();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    ADD_FAILURE() << "test data missing: " << dir
                  << " is not a directory. The face photos live in ../shared/data/faces beside "
                     "the checkout (or set FACEFUSE_TEST_DATA to the folder holding faces/).";
  }
  return dir;
}

// One face photo by file name, e.g. face("grace_hopper_navy.jpg"); fails the test if absent.
inline fs::path face(std::string_view file_name) {
  const fs::path path = require_faces_dir() / file_name;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    ADD_FAILURE() << "test photo missing: " << path;
  }
  return path;
}

// The repository root.
inline fs::path source_dir() { return FACEFUSE_SOURCE_DIR; }

#ifdef FACEFUSE_BINARY
// The facefuse executable built alongside this test.
inline fs::path facefuse_binary() { return FACEFUSE_BINARY; }
#endif

// ---------------------------------------------------------------------------------------------
// Scratch directory

// A fresh directory under the system temp folder, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "facefuse-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp(" << pattern << ") failed: " << std::strerror(errno);
      return;
    }
    path_ = pattern;
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempDir& operator=(TempDir&& other) noexcept {
    if (this != &other) {
      TempDir old(std::move(*this));
      path_ = std::exchange(other.path_, {});
    }
    return *this;
  }

  const fs::path& path() const { return path_; }
  fs::path operator/(const fs::path& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline TempDir temp_dir() { return TempDir(); }

// The names of the entries of `dir`, sorted: what a test expects a folder to hold, and nothing else.
inline std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// ---------------------------------------------------------------------------------------------
// Running a command

struct CommandResult {
  int exit_code = -1;      // exit status; 128 + signal number if killed by a signal
  int term_signal = 0;     // the signal that ended it, 0 if it exited
  bool timed_out = false;  // killed (SIGKILL) because it ran past the timeout
  std::string out;         // everything it wrote to stdout
  std::string err;         // everything it wrote to stderr
};

namespace detail {

inline void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

inline void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace detail

// Runs argv[0] (looked up in PATH if it has no slash) with argv, no shell. Feeds stdin_data to its
// stdin, then closes it; captures stdout and stderr separately. After timeout_s seconds the whole
// process group is killed with SIGKILL and timed_out is set. The child inherits the environment
// (so ASAN_OPTIONS etc. reach it). If it cannot be started, exit_code is 127 and err says why.
inline CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_data = {},
                                 int timeout_s = 120) {
  CommandResult result;
  if (argv.empty()) {
    result.exit_code = 127;
    result.err = "run_command: empty argv";
    return result;
  }

  // A child that exits before reading all of stdin must not kill us with SIGPIPE.
  static const bool sigpipe_ignored = [] { return ::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  (void)sigpipe_ignored;

  // Everything the child needs is prepared before fork(): after it only async-signal-safe calls.
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& arg : argv) cargv.push_back(const_cast<char*>(arg.c_str()));
  cargv.push_back(nullptr);

  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.exit_code = 127;
    result.err = std::string("run_command: pipe2 failed: ") + std::strerror(errno);
    for (int* p : {in_pipe, out_pipe, err_pipe}) {
      detail::close_fd(p[0]);
      detail::close_fd(p[1]);
    }
    return result;
  }

  const pid_t pid = ::fork();
  if (pid < 0) {
    result.exit_code = 127;
    result.err = std::string("run_command: fork failed: ") + std::strerror(errno);
    for (int* p : {in_pipe, out_pipe, err_pipe}) {
      detail::close_fd(p[0]);
      detail::close_fd(p[1]);
    }
    return result;
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // own process group, so a timeout kills its children too
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(in_pipe[0], STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::close_range(3, ~0U, 0);  // only stdio goes with it (see BackgroundProcess)
    ::execvp(cargv[0], cargv.data());
    const char* msg = "run_command: exec failed: ";
    const char* why = std::strerror(errno);
    (void)!::write(STDERR_FILENO, msg, std::strlen(msg));
    (void)!::write(STDERR_FILENO, cargv[0], std::strlen(cargv[0]));
    (void)!::write(STDERR_FILENO, ": ", 2);
    (void)!::write(STDERR_FILENO, why, std::strlen(why));
    _exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so there is no race with kill() below

  detail::close_fd(in_pipe[0]);
  detail::close_fd(out_pipe[1]);
  detail::close_fd(err_pipe[1]);
  int in_fd = in_pipe[1], out_fd = out_pipe[0], err_fd = err_pipe[0];
  for (int fd : {in_fd, out_fd, err_fd}) detail::set_nonblocking(fd);
  if (stdin_data.empty()) detail::close_fd(in_fd);

  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::seconds(timeout_s);
  auto kill_on_timeout = [&] {
    if (!result.timed_out && clock::now() >= deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
    }
  };

  size_t written = 0;
  char buf[65536];
  while (in_fd >= 0 || out_fd >= 0 || err_fd >= 0) {
    kill_on_timeout();
    if (result.timed_out && clock::now() >= deadline + std::chrono::seconds(5)) {
      break;  // killed, yet something outside its process group still holds the pipes open
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    int wait_ms = 100;
    if (!result.timed_out) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      wait_ms = static_cast<int>(std::max<long long>(0, std::min<long long>(left.count(), 1000)));
    }
    const int ready = ::poll(fds, n, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd) {
        const ssize_t w = ::write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data.size()) {
          detail::close_fd(in_fd);  // done, or the child closed its stdin (EPIPE)
        }
      } else {
        int& fd = fds[i].fd == out_fd ? out_fd : err_fd;
        std::string& sink = fds[i].fd == out_fd ? result.out : result.err;
        const ssize_t r = ::read(fd, buf, sizeof buf);
        if (r > 0) {
          sink.append(buf, static_cast<size_t>(r));
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          detail::close_fd(fd);
        }
      }
    }
  }
  for (int* fd : {&in_fd, &out_fd, &err_fd}) detail::close_fd(*fd);

  // Both pipes are closed; the child may still be running (it closed them or passed them on).
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, result.timed_out ? 0 : WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      result.err += std::string("\nrun_command: waitpid failed: ") + std::strerror(errno);
      return result;
    }
    if (r == 0) {
      kill_on_timeout();
      if (!result.timed_out) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
    result.exit_code = 128 + result.term_signal;
  }
  return result;
}

#ifdef FACEFUSE_BINARY
// run_command with the facefuse binary as argv[0]: run_facefuse({"detect", "--input", path}).
inline CommandResult run_facefuse(std::vector<std::string> args, const std::string& stdin_data = {},
                                  int timeout_s = 120) {
  args.insert(args.begin(), facefuse_binary().string());
  return run_command(args, stdin_data, timeout_s);
}
#endif

// For test failure messages: "exit 3 (timed out)\n--- stdout ---\n...\n--- stderr ---\n...".
inline std::string describe(const CommandResult& r) {
  std::string s = "exit " + std::to_string(r.exit_code);
  if (r.timed_out) s += " (timed out)";
  if (r.term_signal != 0) s += " (signal " + std::to_string(r.term_signal) + ")";
  s += "\n--- stdout ---\n" + r.out + "\n--- stderr ---\n" + r.err;
  return s;
}

}  // namespace facefuse::test

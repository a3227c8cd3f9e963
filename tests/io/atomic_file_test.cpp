// Atomic writes: the target holds the old or the complete new bytes; temporaries are removed on
// SIGINT/SIGTERM (in a forked child that is killed mid-write), and the next write to a target
// removes the temporaries that dead processes left beside it.
#include <boost/test/unit_test.hpp>

#include <gift/io/atomic_file.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

// Every case of this file belongs to the CTest test io_atomic_file (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_atomic_file)

namespace fs = std::filesystem;

namespace {

fs::path fresh_folder(const std::string& name) {
  const fs::path folder = fs::temp_directory_path() / ("gift_atomic_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

void write_text(const fs::path& path, const std::string& text) {
  gift::io::write_file_atomically(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> names_in(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// A PID that no process has: a child that has exited and been reaped.
long dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return static_cast<long>(child);
}

}  // namespace

BOOST_AUTO_TEST_CASE(replaces_the_target_and_leaves_no_temporary) {
  const fs::path folder = fresh_folder("replace");
  write_text(folder / "a.txt", "old");
  write_text(folder / "a.txt", "new contents");
  BOOST_TEST(read_text(folder / "a.txt") == "new contents");
  BOOST_TEST(names_in(folder) == std::vector<std::string>{"a.txt"});
  fs::remove_all(folder);
}

BOOST_AUTO_TEST_CASE(a_write_removes_temporaries_of_dead_processes_only) {
  const fs::path folder = fresh_folder("stale");
  const long dead = dead_pid();
  const std::string stale = ".a.txt.tmp." + std::to_string(dead) + ".123.0";
  const std::string live = ".a.txt.tmp." + std::to_string(::getppid()) + ".123.0";  // our parent is alive
  const std::string other_target = ".b.txt.tmp." + std::to_string(dead) + ".123.0";  // another file's
  for (const auto& name : {stale, live, other_target}) std::ofstream(folder / name) << "partial";
  write_text(folder / "a.txt", "done");
  const auto names = names_in(folder);
  BOOST_TEST((std::find(names.begin(), names.end(), stale) == names.end()));
  BOOST_TEST((std::find(names.begin(), names.end(), live) != names.end()));
  BOOST_TEST((std::find(names.begin(), names.end(), other_target) != names.end()));
  BOOST_TEST(read_text(folder / "a.txt") == "done");
  fs::remove_all(folder);
}

BOOST_AUTO_TEST_CASE(a_signal_during_a_write_removes_the_temporary) {
  for (const int signal : {SIGTERM, SIGINT}) {
    const fs::path folder = fresh_folder("signal" + std::to_string(signal));
    write_text(folder / "a.txt", "old");
    int ready[2];
    BOOST_REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
      // The child registers a temporary as a write in flight does, says so, and waits to be killed.
      gift::io::remove_temporaries_on_signals();
      const fs::path temporary = folder / ".a.txt.tmp.in-flight";
      const int slot = gift::detail::temporaries().add(temporary.string());
      std::ofstream(temporary) << "half of the new bytes";
      const char byte = slot >= 0 ? 'r' : 'x';
      (void)!::write(ready[1], &byte, 1);
      for (;;) ::pause();
    }
    char byte = 0;
    BOOST_REQUIRE(::read(ready[0], &byte, 1) == 1);
    BOOST_TEST(byte == 'r');
    BOOST_TEST(fs::exists(folder / ".a.txt.tmp.in-flight"));
    ::kill(child, signal);
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_TEST(WIFSIGNALED(status));
    BOOST_TEST(WTERMSIG(status) == signal);  // the handler re-raised: the exit status is the signal's
    BOOST_TEST(names_in(folder) == std::vector<std::string>{"a.txt"});
    BOOST_TEST(read_text(folder / "a.txt") == "old");
    ::close(ready[0]);
    ::close(ready[1]);
    fs::remove_all(folder);
  }
}

BOOST_AUTO_TEST_SUITE_END()  // io_atomic_file

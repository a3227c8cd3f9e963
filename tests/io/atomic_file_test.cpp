// Atomic writes: the target holds the old or the complete new bytes; temporaries are removed on
// SIGINT/SIGTERM (in a forked child that is killed mid-write), and the next write to a target
// removes the temporaries that dead processes left beside it. Targets that are not regular files
// (device nodes, FIFOs, folders, symlinks) are refused and left as they were; a 250-byte name
// writes (the temporary's name is shortened); a failed write (EFBIG under RLIMIT_FSIZE) is an
// error naming the path and leaves the old target; check_output_target refuses without writing.
#include <boost/test/unit_test.hpp>

#include "child_process.hpp"

#include <gift/io/atomic_file.hpp>
#include <gift/io/output_lock.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>
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

using gift_test::run_in_child;

// The message of the gift::error `action` throws, or "" when it throws none.
template <class Action>
std::string error_of(Action&& action) {
  try {
    action();
  } catch (const gift::error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& fragment) { return text.find(fragment) != std::string::npos; }

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

// At a command's start every dead gift writer's temporary in the output folder goes, whatever its
// target (the folder probe's too); live writers' temporaries and names of another shape stay.
BOOST_AUTO_TEST_CASE(dead_writers_temporaries_of_any_target_are_removed) {
  const fs::path folder = fresh_folder("dead_writers");
  const std::string dead = std::to_string(dead_pid()), live = std::to_string(::getppid());
  const std::vector<std::string> removed = {".a.txt.tmp." + dead + ".123.0", ".b.tmp.st.tmp." + dead + ".9.1",
                                            ".gift-probe.tmp." + dead + ".0"};
  const std::vector<std::string> kept = {".a.txt.tmp." + live + ".123.0", "a.txt.tmp." + dead + ".1.0",
                                         ".a.txt.tmp." + dead, ".a.txt.tmp." + dead + ".x.0", ".tmp." + dead + ".1.0",
                                         "result.txt"};
  for (const auto& name : removed) std::ofstream(folder / name) << "partial";
  for (const auto& name : kept) std::ofstream(folder / name) << "keep";
  gift::io::remove_dead_writers_temporaries(folder);
  std::vector<std::string> expected = kept;
  std::sort(expected.begin(), expected.end());
  BOOST_TEST(names_in(folder) == expected, boost::test_tools::per_element());
  BOOST_TEST(gift::detail::temporary_writer(".a.txt.tmp." + dead + ".123.0", "a.txt") == std::stol(dead));
  BOOST_TEST(gift::detail::temporary_writer(".a.txt.tmp." + dead + ".123.0", "b.txt") == -1);
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

BOOST_AUTO_TEST_CASE(refuses_device_nodes_and_leaves_them_character_devices) {
  for (const std::string device : {"/dev/null", "/dev/full"}) {
    BOOST_TEST_CONTEXT(device) {
      BOOST_REQUIRE(fs::is_character_file(fs::symlink_status(device)));
      const std::string checked = error_of([&] { gift::io::check_output_target(device, "test"); });
      BOOST_TEST(contains(checked, "'" + device + "' exists and is not a regular file (a character device)"), checked);
      // The write itself runs where a regression cannot replace the node: in a child that is not
      // root (as root the rename into /dev would succeed). Unprivileged, the old writer failed
      // too, but only when creating its temporary in /dev, so the message tells the two apart.
      const auto [code, message] = run_in_child([&](std::string& text) {
        if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 77;
        text = error_of([&] { write_text(device, "must not arrive"); });
        return text.empty() ? 1 : 0;
      });
      if (code == 77) {
        BOOST_TEST_MESSAGE("could not drop root privileges: " << device << " checked by check_output_target only");
      } else {
        BOOST_TEST(code == 0, "no error writing to " << device);
        BOOST_TEST(contains(message, "'" + device + "' exists and is not a regular file"), message);
      }
      BOOST_TEST(fs::is_character_file(fs::symlink_status(device)));
    }
  }
}

BOOST_AUTO_TEST_CASE(refuses_fifos_and_folders_and_leaves_them_as_they_were) {
  const fs::path folder = fresh_folder("special");
  BOOST_REQUIRE(::mkfifo((folder / "pipe").c_str(), 0600) == 0);
  fs::create_directory(folder / "sub");
  const std::string fifo = error_of([&] { write_text(folder / "pipe", "x"); });
  BOOST_TEST(contains(fifo, "exists and is not a regular file (a FIFO)"), fifo);
  const std::string sub = error_of([&] { write_text(folder / "sub", "x"); });
  BOOST_TEST(contains(sub, "exists and is not a regular file (a folder)"), sub);
  BOOST_TEST(fs::is_fifo(fs::symlink_status(folder / "pipe")));
  BOOST_TEST(fs::is_directory(fs::symlink_status(folder / "sub")));
  BOOST_TEST(names_in(folder) == (std::vector<std::string>{"pipe", "sub"}));  // no temporary either
  fs::remove_all(folder);
}

BOOST_AUTO_TEST_CASE(refuses_a_symlink_and_leaves_the_link_and_its_target_unchanged) {
  const fs::path folder = fresh_folder("symlink");
  write_text(folder / "target.txt", "target bytes");
  fs::create_symlink("target.txt", folder / "link.txt");
  fs::create_symlink("missing.txt", folder / "dangling.txt");
  const std::string link = error_of([&] { write_text(folder / "link.txt", "new"); });
  BOOST_TEST(contains(link, "link.txt' is a symbolic link"), link);
  const std::string dangling = error_of([&] { write_text(folder / "dangling.txt", "new"); });
  BOOST_TEST(contains(dangling, "dangling.txt' is a symbolic link"), dangling);
  BOOST_TEST(fs::is_symlink(folder / "link.txt"));
  BOOST_TEST(fs::read_symlink(folder / "link.txt") == fs::path("target.txt"));
  BOOST_TEST(fs::read_symlink(folder / "dangling.txt") == fs::path("missing.txt"));
  BOOST_TEST(read_text(folder / "target.txt") == "target bytes");
  BOOST_TEST(names_in(folder) == (std::vector<std::string>{"dangling.txt", "link.txt", "target.txt"}));
  fs::remove_all(folder);
}

BOOST_AUTO_TEST_CASE(a_250_byte_file_name_writes_and_its_stale_temporaries_are_found) {
  const fs::path folder = fresh_folder("long");
  const std::string name = std::string(246, 'n') + ".txt";
  BOOST_REQUIRE(name.size() == 250u);
  const std::string stem = gift::detail::temporary_stem(name);
  // Within NAME_MAX with the longest suffix (".tmp." and three 20-digit numbers), and distinct
  // for names that differ only past the cut.
  BOOST_TEST(1 + stem.size() + 5 + 3 * 20 + 2 <= 255u);
  BOOST_TEST(stem != gift::detail::temporary_stem(std::string(246, 'n') + ".csv"));
  BOOST_TEST(gift::detail::temporary_stem("short.txt") == "short.txt");
  const std::string stale = "." + stem + ".tmp." + std::to_string(dead_pid()) + ".1.0";
  std::ofstream(folder / stale) << "partial";
  BOOST_REQUIRE(fs::exists(folder / stale));
  write_text(folder / name, "first");
  write_text(folder / name, "second");
  BOOST_TEST(read_text(folder / name) == "second");
  BOOST_TEST(names_in(folder) == std::vector<std::string>{name});  // the stale temporary is gone too
  fs::remove_all(folder);
}

BOOST_AUTO_TEST_CASE(a_failed_write_names_the_path_and_the_error_and_keeps_the_old_target) {
  const fs::path folder = fresh_folder("efbig");
  write_text(folder / "big.bin", "old");
  // A file size limit makes write(2) fail with EFBIG, as a full disk fails with ENOSPC.
  const auto [code, message] = run_in_child([&](std::string& text) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4096, 4096};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return 77;
    text = error_of([&] { write_text(folder / "big.bin", std::string(1 << 20, 'x')); });
    return text.empty() ? 1 : 0;
  });
  BOOST_REQUIRE(code != 77);
  BOOST_TEST(code == 0, "a write past RLIMIT_FSIZE reported success");
  BOOST_TEST(contains(message, "writing 1048576 bytes to '" + (folder / "big.bin").string() + "' failed"), message);
  BOOST_TEST(contains(message, std::strerror(EFBIG)), message);
  BOOST_TEST(read_text(folder / "big.bin") == "old");
  BOOST_TEST(names_in(folder) == std::vector<std::string>{"big.bin"});
  fs::remove_all(folder);
}

BOOST_AUTO_TEST_CASE(check_output_target_refuses_without_writing) {
  const fs::path folder = fresh_folder("check");
  const std::string missing = error_of([&] { gift::io::check_output_target(folder / "no" / "out.txt", "--out"); });
  BOOST_TEST(contains(missing, "--out: the folder '" + (folder / "no").string() + "' of"), missing);
  BOOST_TEST(contains(missing, "does not exist"), missing);
  write_text(folder / "file", "x");
  const std::string not_folder = error_of([&] { gift::io::check_output_target(folder / "file" / "out.txt", "--out"); });
  BOOST_TEST(contains(not_folder, "is not a folder"), not_folder);
  const std::string no_name = error_of([&] { gift::io::check_output_target(folder / "", "--out"); });
  BOOST_TEST(contains(no_name, "does not name a file"), no_name);
  // A new file and an existing regular file are accepted, and nothing is created.
  BOOST_CHECK_NO_THROW(gift::io::check_output_target(folder / "new.txt", "--out"));
  BOOST_CHECK_NO_THROW(gift::io::check_output_target(folder / "file", "--out"));
  BOOST_TEST(names_in(folder) == std::vector<std::string>{"file"});
  // A folder without write permission, checked by a process that is not root.
  fs::create_directory(folder / "locked");
  fs::permissions(folder / "locked", fs::perms::owner_read | fs::perms::owner_exec);
  const auto [code, message] = run_in_child([&](std::string& text) {
    if (::geteuid() == 0) {
      ::chown((folder / "locked").c_str(), 65534, 65534);  // owned by nobody, mode r-x: not writable
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 77;
    }
    text = error_of([&] { gift::io::check_output_target(folder / "locked" / "out.txt", "--out"); });
    return text.empty() ? 1 : 0;
  });
  if (code != 77) {
    BOOST_TEST(code == 0, "an unwritable folder was accepted");
    BOOST_TEST(contains(message, "cannot create files in the folder"), message);
  }
  fs::permissions(folder / "locked", fs::perms::owner_all);
  fs::remove_all(folder);
}

// One writer per output: while a process holds a target's lock, another process is refused with
// the holder's process id (and so is a second lock in the same process); after release the lock
// file is gone and the next writer gets the lock; a holder killed with SIGKILL blocks nobody.
BOOST_AUTO_TEST_CASE(output_lock_admits_one_writer_per_target) {
  const fs::path folder = fresh_folder("lock");
  const fs::path target = folder / "results";
  const fs::path lock_file = gift::io::output_lock::lock_path(target);
  BOOST_TEST(lock_file == folder / ".results.lock");
  {
    const auto lock = gift::io::output_lock::acquire(target, "gift sweep: --out");
    BOOST_TEST(lock.held());
    BOOST_TEST(fs::exists(lock_file));
    const auto [code, message] = run_in_child([&](std::string& text) {
      text = error_of([&] { (void)gift::io::output_lock::acquire(target, "gift sweep: --out"); });
      return text.empty() ? 1 : 0;
    });
    BOOST_TEST(code == 0, "a second process got the lock");
    BOOST_TEST(contains(message, "is being written by another gift process (process " + std::to_string(::getpid()) + ")"),
               message);
    BOOST_TEST(contains(message, "gift sweep: --out '" + target.string() + "'"), message);
    BOOST_TEST(contains(error_of([&] { (void)gift::io::output_lock::acquire(target, "--out"); }), "being written"));
    // Another target is independent.
    BOOST_TEST(gift::io::output_lock::acquire(folder / "other", "--out").held());
  }
  BOOST_TEST(!fs::exists(lock_file));
  BOOST_TEST(names_in(folder).empty());
  // A holder killed by SIGKILL: the kernel drops its lock; its file is taken over.
  const auto [code, message] = run_in_child([&](std::string&) {
    const auto lock = gift::io::output_lock::acquire(target, "--out");
    ::kill(::getpid(), SIGKILL);
    return 1;
  });
  BOOST_TEST(code == 128 + SIGKILL, message);
  BOOST_TEST(fs::exists(lock_file));
  BOOST_TEST(gift::io::output_lock::acquire(target, "--out").held());
  BOOST_TEST(!fs::exists(lock_file));
  // A 250-byte target name gives a lock name within NAME_MAX.
  BOOST_TEST(gift::io::output_lock::lock_path(folder / std::string(250, 'x')).filename().string().size() <= 255u);
  BOOST_TEST(gift::io::output_lock::acquire(folder / std::string(250, 'x'), "--out").held());
  fs::remove_all(folder);
}

BOOST_AUTO_TEST_SUITE_END()  // io_atomic_file

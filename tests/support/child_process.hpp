// Running a piece of a test in a forked child: for effects the test process must not have
// (privileges dropped, a file size limit, a bounded address space).
#pragma once

#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace gift_test {

/// Runs `action(message)` in a forked child, which reports what it saw by its return value (the
/// child's exit code) and `message` (sent back through a pipe); returns both, or 128 + the signal
/// for a child that died of one. The child leaves by _exit, never through Boost.Test.
template <class Action>
std::pair<int, std::string> run_in_child(Action&& action) {
  int pipe_ends[2];
  BOOST_REQUIRE(::pipe(pipe_ends) == 0);
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_ends[0]);
    std::string message;
    const int code = action(message);
    (void)!::write(pipe_ends[1], message.data(), message.size());
    ::_exit(code);
  }
  ::close(pipe_ends[1]);
  std::string message;
  char buffer[512];
  for (ssize_t got; (got = ::read(pipe_ends[0], buffer, sizeof buffer)) > 0;)
    message.append(buffer, static_cast<std::size_t>(got));
  ::close(pipe_ends[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), message};
}

}  // namespace gift_test

#pragma once
// A progress bar with rate and ETA on stderr, redrawn at most a few times per second. When
// stderr is not a terminal it prints a line every 10% instead, so logs stay readable.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace gift::cli {

/// True while `gift sweep` runs a command inside a cell: the command's own bars and tables stay
/// silent, so the sweep's progress line is what the terminal shows.
inline bool nested_command = false;

/// True on the ranks other than 0 of a data-parallel run (mpirun): rank 0 shows the progress and
/// writes the results; the others stay silent.
inline bool quiet_rank = false;

/// A progress bar on stderr (silent inside a sweep cell unless `always`).
class progress_bar {
public:
  progress_bar(std::string label, std::int64_t total, std::string unit = "it", bool always = false)
      : label_(std::move(label)), unit_(std::move(unit)), total_(total > 0 ? total : 1),
        start_(clock::now()), tty_(isatty(fileno(stderr)) != 0), silent_((nested_command && !always) || quiet_rank) {}
  ~progress_bar() { finish(); }
  progress_bar(const progress_bar&) = delete;
  progress_bar& operator=(const progress_bar&) = delete;

  /// Advances by `count`; `note` (e.g. the current loss) is shown after the bar.
  void advance(std::int64_t count = 1, const std::string& note = "") {
    done_ += count;
    note_ = note;
    if (silent_) return;
    const auto now = clock::now();
    const bool last = done_ >= total_;
    if (tty_) {
      if (last || now - last_draw_ > std::chrono::milliseconds(200)) draw(now, '\r');
    } else {
      const std::int64_t decile = done_ * 10 / total_;
      if (decile > last_decile_ || last) {
        last_decile_ = decile;
        draw(now, '\n');
      }
    }
  }
  /// Ends the bar's line (idempotent).
  void finish() {
    if (finished_) return;
    finished_ = true;
    if (tty_ && !silent_) std::fputc('\n', stderr);
  }
  /// Seconds since the bar started.
  [[nodiscard]] double elapsed() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

private:
  using clock = std::chrono::steady_clock;
  static std::string clock_text(double seconds) {
    const auto s = static_cast<long>(seconds + 0.5);
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%ld:%02ld", s / 60, s % 60);
    return buffer;
  }
  void draw(clock::time_point now, char end) {
    last_draw_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double fraction = static_cast<double>(done_) / static_cast<double>(total_);
    const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0;
    constexpr int width = 28;
    const int filled = static_cast<int>(fraction * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "%s%-12s [%s] %3d%% %lld/%lld %.1f %s/s elapsed %s ETA %s %s", tty_ ? "\r" : "",
                 label_.c_str(), bar.c_str(), static_cast<int>(fraction * 100), static_cast<long long>(done_),
                 static_cast<long long>(total_), rate, unit_.c_str(), clock_text(seconds).c_str(),
                 clock_text(eta).c_str(), note_.c_str());
    if (end == '\n') std::fputc('\n', stderr);
    std::fflush(stderr);
  }

  std::string label_, unit_, note_;
  std::int64_t total_, done_ = 0, last_decile_ = -1;
  clock::time_point start_, last_draw_{};
  bool tty_, silent_, finished_ = false;
};

}  // namespace gift::cli

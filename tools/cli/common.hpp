#pragma once
// Pieces several commands share: thread setup, packing a token stream into sequences, and the
// perplexity loop.
#include <gift/error.hpp>
#include <gift/io/atomic_file.hpp>
#include <gift/io/output_lock.hpp>
#include <gift/quant/alpha_search.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/tokens.hpp>
#include <gift/pipeline/evaluate.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "args.hpp"
#include "progress.hpp"

namespace gift::cli {

/// `value` as 16 lower-case hex digits: how fingerprints are written into files.
inline std::string hex64(std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

/// Applies --threads.
inline void set_threads(const arguments& args) {
#if defined(_OPENMP)
  const auto threads = args.integer("threads");
  if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
#else
  (void)args;
#endif
}

/// The α search named on the command line (`--alpha`, `--noise-alpha`): max | grid<N> (the
/// paper's linear grid of N candidates; grid = grid100) | ref80 (the authors' code). `option`
/// names the option in the message.
inline alpha_search parse_alpha(const std::string& text, const std::string& option) {
  if (text == "max") return alpha_search::max_abs();
  if (text == "ref80") return alpha_search::reference_code();
  if (text.rfind("grid", 0) == 0) {
    const std::string points = text.substr(4);
    if (points.empty()) return alpha_search::paper_grid(100);
    std::size_t used = 0;
    long long n = 0;
    try {
      n = std::stoll(points, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    gift::require(used == points.size() && n >= 1 && n <= 100000, "gift: ", option, " '", text,
                  "': grid<N> needs a whole number of candidates N in [1, 100000], e.g. grid100");
    return alpha_search::paper_grid(static_cast<int>(n));
  }
  throw error("gift: " + option + " must be max, grid<N> (e.g. grid100, the paper's) or ref80 (the authors' code), "
              "but is '" + text + "'");
}

/// Checks, before any work, that files can be created in `folder` (made if missing): an output
/// that cannot be written is reported at once, not after the compute. `option` names the option
/// that gave the path.
inline void require_writable_folder(const std::filesystem::path& folder, const std::string& option) {
  namespace fs = std::filesystem;
  std::error_code made;
  fs::create_directories(folder, made);
  gift::require(!made, "gift: ", option, " '", folder.string(), "': cannot create the folder: ", made.message(),
                "; choose a writable location");
#if defined(__unix__) || defined(__APPLE__)
  const long process = static_cast<long>(::getpid());
#else
  const long process = 0;
#endif
  // Named like the atomic writer's temporaries, so a probe a kill leaves behind is cleaned later.
  const fs::path probe = folder / (".gift-probe.tmp." + std::to_string(process) + ".0");
  // Leftovers of gift writers killed in this folder before (any target) go now.
  io::remove_dead_writers_temporaries(folder);
  std::FILE* file = std::fopen(probe.string().c_str(), "wb");
  gift::require(file != nullptr, "gift: ", option, " '", folder.string(), "': cannot create files there: ",
                std::strerror(errno), "; choose a writable location");
  std::fclose(file);
  std::error_code ignored;
  fs::remove(probe, ignored);
}

/// `require_writable_folder` for the folder of the file `path`, which must not be a folder, and
/// `io::check_output_target` for `path` itself.
inline void require_writable_file(const std::filesystem::path& path, const std::string& option) {
  namespace fs = std::filesystem;
  std::error_code ignored;
  gift::require(!path.empty() && !fs::is_directory(path, ignored), "gift: ", option, " '", path.string(),
                "' must name a file to write, but it ", path.empty() ? "is empty" : "is a folder");
  require_writable_folder(path.has_parent_path() ? path.parent_path() : fs::path("."), option);
  // A device, FIFO, socket or symlink is refused now, not after the work (the atomic writer
  // would refuse it then).
  io::check_output_target(path, "gift: " + option);
}

/// Checks a command's output paths before any work: --output-json when given and, for commands
/// that write one, --out (a file, or a folder for calibrate). Returns the lock of --out (held
/// until the command ends): a second gift process writing the same --out is refused, naming this
/// one's process id.
enum class out_kind { none, file, folder };
[[nodiscard]] inline io::output_lock require_writable_outputs(const arguments& args, out_kind out,
                                                              const std::string& command) {
  if (const std::string json = args.get("output-json"); !json.empty()) require_writable_file(json, "--output-json");
  if (out == out_kind::file) require_writable_file(args.get("out"), "--out");
  if (out == out_kind::folder) require_writable_folder(args.get("out"), "--out");
  if (out == out_kind::none) return {};
  return io::output_lock::acquire(args.get("out"), "gift " + command + ": --out");
}

/// The library's `model::wrapped_sequences`, with the command line's advice when the text is short.
inline model::token_matrix wrapped_sequences(const std::vector<std::int32_t>& ids, std::int64_t length,
                                             std::int64_t first, std::int64_t count) {
  gift::require(static_cast<std::int64_t>(ids.size()) >= length, "gift: the text has ", ids.size(),
                " tokens, fewer than one sequence of ", length, "; use more text or a shorter --seq");
  return model::wrapped_sequences(ids, length, first, count);
}

/// The whole sequences of `length` in `ids`, as rows (at least one).
inline model::token_matrix whole_sequences(const std::vector<std::int32_t>& ids, std::int64_t length) {
  gift::require(length >= 2, "gift: --seq must be at least 2, but is ", length);
  const auto sequences = static_cast<std::int64_t>(ids.size()) / length;
  gift::require(sequences > 0, "gift: ", ids.size(), " tokens are fewer than one sequence of ", length);
  return model::wrapped_sequences(ids, length, 0, sequences);
}

/// `pipeline::evaluate` options that advance `bar` by the tokens of each batch and show the running
/// perplexity.
inline pipeline::evaluate_options evaluate_with_progress(std::int64_t batch, std::int64_t length,
                                                         std::shared_ptr<progress_bar> bar) {
  gift::require(batch >= 1, "gift: --batch must be at least 1, but is ", batch);
  pipeline::evaluate_options options;
  options.batch = batch;
  auto last = std::make_shared<std::int64_t>(0);
  options.progress = [bar, last, length](std::int64_t done, std::int64_t, const model::loss_sum& so_far) {
    bar->advance((done - *last) * length, "ppl " + std::to_string(so_far.perplexity()));
    *last = done;
  };
  return options;
}

}  // namespace gift::cli

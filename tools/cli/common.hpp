#pragma once
// Pieces several commands share: thread setup, packing a token stream into sequences, and the
// perplexity loop.
#include <gift/error.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/tokens.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "args.hpp"
#include "progress.hpp"

namespace gift::cli {

/// Applies --threads.
inline void set_threads(const arguments& args) {
#if defined(_OPENMP)
  const auto threads = args.integer("threads");
  if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
#else
  (void)args;
#endif
}

/// Cuts `ids` into `count` non-overlapping sequences of `length` tokens, starting at sequence
/// `first` (wrapping around the stream, so a training run may take more than one pass).
inline model::token_matrix wrapped_sequences(const std::vector<std::int32_t>& ids, std::int64_t length, std::int64_t first,
                                          std::int64_t count) {
  const auto available = static_cast<std::int64_t>(ids.size()) / length;
  gift::detail::require(available > 0, "gift: the text has ", ids.size(), " tokens, fewer than one sequence of ", length,
                        "; use more text or a shorter --seq");
  model::token_matrix tokens(count, length);
  for (std::int64_t s = 0; s < count; ++s) {
    const auto start = ((first + s) % available) * length;
    for (std::int64_t t = 0; t < length; ++t) tokens(s, t) = ids[static_cast<std::size_t>(start + t)];
  }
  return tokens;
}

/// Perplexity of `model` on all whole sequences of `length` in `ids`, `batch` sequences at a time.
inline model::loss_sum perplexity(model::llama_model<float>& model, const std::vector<std::int32_t>& ids,
                                  std::int64_t length, std::int64_t batch, const std::string& label) {
  gift::detail::require(length >= 2 && batch >= 1, "gift: --seq must be at least 2 and --batch at least 1");
  const auto sequences = static_cast<std::int64_t>(ids.size()) / length;
  gift::detail::require(sequences > 0, "gift: ", ids.size(), " tokens are fewer than one sequence of ", length);
  model::loss_sum total;
  progress_bar bar(label, sequences * length, "tok");
  for (std::int64_t first = 0; first < sequences; first += batch) {
    const auto count = std::min(batch, sequences - first);
    total += model.evaluate(wrapped_sequences(ids, length, first, count));
    bar.advance(count * length, "ppl " + std::to_string(total.perplexity()));
  }
  return total;
}

}  // namespace gift::cli

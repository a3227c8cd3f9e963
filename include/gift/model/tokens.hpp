#pragma once
/// \file gift/model/tokens.hpp
/// \brief The model's token batches (`gift::token_matrix`, `batch × sequence`), their check, and
/// `model::wrapped_sequences` (batches cut from a token stream).

#include <gift/error.hpp>
#include <gift/fwd.hpp>

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace gift::model {

/// Token ids, one sequence per row (`gift::token_matrix`: row-major, so a row is contiguous).
using gift::token_matrix;

namespace detail {
/// Throws unless `tokens` is non-empty and every id lies in `[0, vocab)`.
inline void require_tokens(const token_matrix& tokens, int vocab, const char* where) {
  gift::detail::require(tokens.rows() > 0 && tokens.cols() > 0, where,
                        ": argument 'tokens' must hold at least one sequence of at least one token, but is ",
                        tokens.rows(), " x ", tokens.cols());
  for (Eigen::Index b = 0; b < tokens.rows(); ++b) {
    for (Eigen::Index t = 0; t < tokens.cols(); ++t) {
      const std::int32_t id = tokens(b, t);
      gift::detail::require(id >= 0 && id < vocab, where, ": argument 'tokens' holds id ", id, " at (", b, ", ",
                            t, "), outside the vocabulary [0, ", vocab,
                            "); tokenize with the model's own tokenizer");
    }
  }
}
}  // namespace detail

/// `count` non-overlapping sequences of `length` tokens cut from the stream `ids`, starting at
/// sequence `first` and wrapping around the stream (so training may take more than one pass):
/// row `s` holds tokens `[k·length, (k+1)·length)` with `k = (first + s) mod ⌊|ids| / length⌋`.
/// \throws gift::error when `length < 1`, `count < 0`, `first < 0`, or the stream holds fewer than
/// `length` tokens.
[[nodiscard]] inline token_matrix wrapped_sequences(const std::vector<std::int32_t>& ids, std::int64_t length,
                                                    std::int64_t first, std::int64_t count) {
  const char* where = "gift::model::wrapped_sequences";
  gift::detail::require(length >= 1 && count >= 0 && first >= 0, where, ": expected length >= 1, count >= 0 and ",
                        "first >= 0, but got length ", length, ", count ", count, ", first ", first);
  const auto available = static_cast<std::int64_t>(ids.size()) / length;
  gift::detail::require(available > 0, where, ": the text has ", ids.size(), " tokens, fewer than one sequence of ",
                        length, "; use more text or shorter sequences");
  token_matrix tokens(count, length);
  for (std::int64_t s = 0; s < count; ++s) {
    const auto start = ((first + s) % available) * length;
    for (std::int64_t t = 0; t < length; ++t) tokens(s, t) = ids[static_cast<std::size_t>(start + t)];
  }
  return tokens;
}

}  // namespace gift::model

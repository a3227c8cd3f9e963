#pragma once
/// \file gift/model/tokens.hpp
/// \brief The model's token batches (`gift::token_matrix`, `batch × sequence`) and their check.

#include <gift/error.hpp>
#include <gift/fwd.hpp>

#include <Eigen/Core>

#include <cstdint>

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

}  // namespace gift::model

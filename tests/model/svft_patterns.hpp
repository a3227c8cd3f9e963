// The SVFT sparsity patterns of the peer-method tests (Eigen and Thrust): one seed and one layer
// for every pattern, so that both backends' tests build the same modules.
#pragma once

#include <gift/model/svft_linear.hpp>

#include <cstdint>

namespace gift_test {

/// SVFT options with pattern `p`, band `width` and `k` (seed 11, layer 3).
inline gift::model::svft_options svft_pattern_options(gift::model::svft_pattern p, int width, std::int64_t k) {
  gift::model::svft_options options;
  options.pattern = p;
  options.width = width;
  options.k = k;
  options.seed = 11;
  options.layer = 3;
  return options;
}

}  // namespace gift_test

#pragma once
/// \file gift/detail/select.hpp
/// \brief Glue behind select.hpp: the selection operation tag and the order every backend ranks by.

#include <gift/config.hpp>

#include <cstdint>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: the k columns with the largest scores.
struct select_salient {
  /// Printable name.
  static std::string name() { return "select_salient"; }
};
}  // namespace ops

namespace detail {
/// The ranking every backend uses: larger score first, equal scores by lower index. A strict
/// total order on (score, index) pairs, so the top k is the same set on every backend.
template <class T>
struct salient_before {
  const T* scores;
  GIFT_HOST_DEVICE bool operator()(std::int64_t a, std::int64_t b) const {
    const T sa = scores[a], sb = scores[b];
    return sa > sb || (sa == sb && a < b);
  }
};
}  // namespace detail

}  // namespace gift

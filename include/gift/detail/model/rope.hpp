#pragma once
/// \file gift/detail/model/rope.hpp
/// \brief RoPE's operation tag and the rotation of one head, shared by every backend.

#include <gift/config.hpp>

#include <cstdint>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: rotary position embedding of every head of every row, in place.
struct rope {
  /// Printable name.
  static std::string name() { return "rope"; }
};
}  // namespace ops

namespace detail {

/// Turns the adjacent pairs `(head[2i], head[2i+1])`, `i < pairs`, by the angles whose cosines
/// and sines are `cosine[i]`, `sine[i]` (one table row); `sign` −1 turns backwards.
template <class T>
GIFT_HOST_DEVICE void rotate_head(T* head, const T* cosine, const T* sine, std::int64_t pairs, T sign) {
  for (std::int64_t i = 0; i < pairs; ++i) {
    const T c = cosine[i], s = sign * sine[i];
    const T a = head[2 * i], b = head[2 * i + 1];
    head[2 * i] = a * c - b * s;
    head[2 * i + 1] = a * s + b * c;
  }
}

}  // namespace detail

}  // namespace gift

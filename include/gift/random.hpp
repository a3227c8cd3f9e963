#pragma once
/// \file gift/random.hpp
/// \brief Reproducible standard-normal variates keyed by (seed, layer, step) and element index.
///
/// The noise of element `index` under `key` is a pure function of the two: it does not depend on
/// the backend, the thread count or the order of generation. Four consecutive indices share one
/// Philox4x32-10 block (two Box–Muller pairs), so generating a row in order costs one Philox call
/// per four values.

#include <gift/config.hpp>
#include <gift/detail/fp.hpp>
#include <gift/detail/philox.hpp>

#include <cstdint>

namespace gift {

/// Identifies one stream of noise: the run's seed, the layer it perturbs and the training step.
struct noise_key {
  std::uint64_t seed = 0;   ///< experiment seed
  std::uint32_t layer = 0;  ///< layer id, unique within a model
  std::uint32_t step = 0;   ///< optimizer step; each step draws fresh noise

  /// Keys are equal when seed, layer and step are.
  friend constexpr bool operator==(const noise_key&, const noise_key&) = default;
};

namespace detail {

/// The Philox key and counter for block `block` of the stream `key`: the seed is the Philox key;
/// the counter holds the block index (64 bits), the layer and the step.
GIFT_HOST_DEVICE GIFT_FORCE_INLINE philox4x32_block noise_bits(const noise_key& key, std::uint64_t block) {
  const philox4x32_block counter{{static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
                                  key.layer, key.step}};
  const philox4x32_key philox_key{{static_cast<std::uint32_t>(key.seed), static_cast<std::uint32_t>(key.seed >> 32)}};
  return philox4x32<10>(counter, philox_key);
}

/// A uniform float in (0, 1] from the top 24 bits of `bits` (never 0, so its log is finite).
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float uniform_open_closed(std::uint32_t bits) {
  return static_cast<float>((bits >> 8) + 1u) * 5.9604644775390625e-08f;  // 2^-24
}
/// A uniform float in [0, 1) from the top 24 bits of `bits`.
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float uniform_closed_open(std::uint32_t bits) {
  return static_cast<float>(bits >> 8) * 5.9604644775390625e-08f;
}

/// Box–Muller: two uniforms (from two words) to two independent N(0, 1) variates.
GIFT_HOST_DEVICE GIFT_FORCE_INLINE void box_muller(std::uint32_t radius_bits, std::uint32_t angle_bits, float& first,
                                              float& second) {
  const float radius = fsqrt(fmul(-2.0f, reproducible_log(uniform_open_closed(radius_bits))));
  // The angle in turns, split into the quadrant and the position inside it (exact in float).
  const float turns_times_4 = fmul(uniform_closed_open(angle_bits), 4.0f);
  const int quadrant = static_cast<int>(turns_times_4);
  float sine, cosine;
  reproducible_sincos_quarter(fsub(turns_times_4, static_cast<float>(quadrant)), sine, cosine);
  // Rotate by whole quarter turns: exact sign flips and swaps.
  float c = cosine, s = sine;
  switch (quadrant) {
    case 1: c = -sine; s = cosine; break;
    case 2: c = -cosine; s = -sine; break;
    case 3: c = sine; s = -cosine; break;
    default: break;
  }
  first = fmul(radius, c);
  second = fmul(radius, s);
}

}  // namespace detail

/// The four N(0, 1) variates of indices `4 * block .. 4 * block + 3` under `key`.
GIFT_HOST_DEVICE inline void standard_normal4(const noise_key& key, std::uint64_t block, float out[4]) {
  const detail::philox4x32_block bits = detail::noise_bits(key, block);
  detail::box_muller(bits.word[0], bits.word[1], out[0], out[1]);
  detail::box_muller(bits.word[2], bits.word[3], out[2], out[3]);
}

/// The N(0, 1) variate of element `index` under `key`. For a row-major `rows × cols` matrix the
/// element (i, j) has index `i * cols + j`.
GIFT_HOST_DEVICE inline float standard_normal(const noise_key& key, std::uint64_t index) {
  const detail::philox4x32_block bits = detail::noise_bits(key, index >> 2);
  const unsigned lane = static_cast<unsigned>(index & 3u);
  float first, second;
  if (lane < 2) {
    detail::box_muller(bits.word[0], bits.word[1], first, second);
  } else {
    detail::box_muller(bits.word[2], bits.word[3], first, second);
  }
  return (lane & 1u) ? second : first;
}

}  // namespace gift
